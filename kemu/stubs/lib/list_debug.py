"""lib/list_debug.c (CONFIG_DEBUG_LIST=y, CONFIG_BUG_ON_DATA_CORRUPTION=y).

A failed check prints the kernel's pr_err() line and BUG()s, as Debian's
kernel does: the running entry ends with "kernel BUG at lib/list_debug.c:N!".
"""
from kemu import export
from kemu.kernel.log import KERN_ERR

from ..kernel.module import ModuleList
from .kemu_warn import bug

POISON_POINTER_DELTA = 0xDEAD000000000000          # CONFIG_ILLEGAL_POINTER_VALUE
LIST_POISON1 = 0x100 + POISON_POINTER_DELTA
LIST_POISON2 = 0x122 + POISON_POINTER_DELTA

# the line each CHECK_DATA_CORRUPTION() of 6.1's lib/list_debug.c reports
_ADD_LINES = {"prev NULL": 23, "next NULL": 25, "next->prev": 27, "prev->next": 30,
              "double add": 33}
_DEL_LINES = {"next NULL": 49, "prev NULL": 51, "poison1": 53, "poison2": 56,
              "prev->next": 59, "next->prev": 62}


def _corrupt(k, message: str, line: int):
    k.log.emit(KERN_ERR, message)
    bug(k, f"lib/list_debug.c:{line}")


def _next(k, node):
    return k.machine.read_u64(node + k.target.offset("list_head.next"))


def _prev(k, node):
    return k.machine.read_u64(node + k.target.offset("list_head.prev"))


# 6.6 (CONFIG_LIST_HARDENED) renamed both checks *_or_report, the same checks
@export("bool __list_add_valid(struct list_head *new, struct list_head *prev, "
        "struct list_head *next)", until="6.6")
@export("bool __list_add_valid_or_report(struct list_head *new, struct list_head *prev, "
        "struct list_head *next)", since="6.6")
def __list_add_valid(k, new, prev, next_):
    if prev == 0:
        _corrupt(k, "list_add corruption. prev is NULL.", _ADD_LINES["prev NULL"])
    if next_ == 0:
        _corrupt(k, "list_add corruption. next is NULL.", _ADD_LINES["next NULL"])
    np = _prev(k, next_)
    if np != prev:
        _corrupt(k, f"list_add corruption. next->prev should be prev ({prev:016x}), "
                    f"but was {np:016x}. (next={next_:016x}).", _ADD_LINES["next->prev"])
    pn = _next(k, prev)
    if pn != next_:
        _corrupt(k, f"list_add corruption. prev->next should be next ({next_:016x}), "
                    f"but was {pn:016x}. (prev={prev:016x}).", _ADD_LINES["prev->next"])
    if new == prev or new == next_:
        _corrupt(k, f"list_add double add: new={new:016x}, prev={prev:016x}, "
                    f"next={next_:016x}.", _ADD_LINES["double add"])
    return True


@export("bool __list_del_entry_valid(struct list_head *entry)", until="6.6")
@export("bool __list_del_entry_valid_or_report(struct list_head *entry)", since="6.6")
def __list_del_entry_valid(k, entry):
    prev, next_ = _prev(k, entry), _next(k, entry)
    if next_ == 0:
        _corrupt(k, f"list_del corruption, {entry:016x}->next is NULL", _DEL_LINES["next NULL"])
    if prev == 0:
        _corrupt(k, f"list_del corruption, {entry:016x}->prev is NULL", _DEL_LINES["prev NULL"])
    if next_ == LIST_POISON1:
        _corrupt(k, f"list_del corruption, {entry:016x}->next is LIST_POISON1 "
                    f"({LIST_POISON1:016x})", _DEL_LINES["poison1"])
    if prev == LIST_POISON2:
        _corrupt(k, f"list_del corruption, {entry:016x}->prev is LIST_POISON2 "
                    f"({LIST_POISON2:016x})", _DEL_LINES["poison2"])
    pn = _next(k, prev)
    if pn != entry:
        _corrupt(k, f"list_del corruption. prev->next should be {entry:016x}, but was "
                    f"{pn:016x}. (prev={prev:016x})", _DEL_LINES["prev->next"])
    np = _prev(k, next_)
    if np != entry:
        _corrupt(k, f"list_del corruption. next->prev should be {entry:016x}, but was "
                    f"{np:016x}. (next={next_:016x})", _DEL_LINES["next->prev"])
    k.model(ModuleList).entry_deleted(entry, k.machine.read_u64(k.machine.reg("rsp")))
    return True
