"""The models' toolkit: what every model of stubs/ uses to act as kernel C code
does (kemu-side, no exports).

* :func:`static` declares a *static* kernel function by its C prototype, like
  :func:`kemu.export` but without exporting it: the kernel's own callbacks
  (``single_start``, ``proc_seq_open``, ``misc_open``, crypto's
  ``shash_no_setkey``...) that a model stores in a struct for module or model
  code to call through a function pointer. :func:`static_addr` gives its
  address in a kernel (a slot, so it shows up by name in ``%pS`` and oops
  reports).
* :func:`rd`/:func:`wr` read and write a struct member by its target name;
  :func:`cstr` reads a C string; :func:`s32`/:func:`s64` sign a register value.
* :func:`err_ptr`/:func:`is_err`/:func:`ptr_err` are ERR_PTR()/IS_ERR()/PTR_ERR().
* :func:`init_list_head`, :func:`list_add`, :func:`list_add_tail`,
  :func:`list_del` are include/linux/list.h on kernel memory.
* :func:`kzalloc`/:func:`kfree`/:func:`kstrdup` allocate kernel objects the way
  the models' C originals do (owned by the running module, so leaks are found).

Link-only exports are :func:`kemu.abi.exports.link_only`. Every model imports
these names from here; a subsystem's own shared helpers live in its leaf module
(kemu/stubs/crypto/internal.py, kemu/stubs/drivers/base/base.py).
"""
from __future__ import annotations

import inspect

from kemu.abi.cproto import parse_prototype
from kemu.abi.exports import ExportDef, SlotBinding

MAX_ERRNO = 4095
_STATICS: dict[str, ExportDef] = {}


def static(prototype: str):
    """Decorator: a non-exported kernel function, called through pointers."""
    proto = parse_prototype(prototype)

    def deco(fn):
        try:
            origin = f"{inspect.getsourcefile(fn)}:{inspect.getsourcelines(fn)[1]}"
        except (OSError, TypeError):
            origin = fn.__module__
        _STATICS[proto.name] = ExportDef(proto.name, "func", fn, _proto=proto, origin=origin)
        return fn
    return deco


class _Statics:
    def __init__(self, k):
        self.addrs: dict[str, int] = {}


def static_addr(k, name: str) -> int:
    """Address of static kernel function ``name`` in kernel ``k`` (created on first use)."""
    st = k.model(_Statics)
    addr = st.addrs.get(name)
    if addr is None:
        addr = st.addrs[name] = k.machine.add_slot(name, SlotBinding(_STATICS[name], k))
    return addr


def static_name(k, addr: int) -> str | None:
    """The name of the static function at ``addr``, or None."""
    for name, where in k.model(_Statics).addrs.items():
        if where == addr:
            return name
    return None


# ------------------------------------------------------------ struct access
_READ = {1: "read_u8", 2: "read_u16", 4: "read_u32", 8: "read_u64"}
_WRITE = {1: "write_u8", 2: "write_u16", 4: "write_u32", 8: "write_u64"}


def rd(k, addr: int, member: str, size: int = 8) -> int:
    """Read ``struct.member`` (``size`` bytes, unsigned) of the object at ``addr``."""
    return getattr(k.machine, _READ[size])(addr + k.target.offset(member))


def wr(k, addr: int, member: str, value: int, size: int = 8) -> None:
    """Write ``struct.member`` (``size`` bytes) of the object at ``addr``."""
    getattr(k.machine, _WRITE[size])(addr + k.target.offset(member), value)


def rd_s32(k, addr: int, member: str) -> int:
    """Read a signed int member."""
    v = rd(k, addr, member, 4)
    return v - (1 << 32) if v >> 31 else v


def s32(raw: int) -> int:
    """A callback's int return value from RAX."""
    raw &= 0xFFFFFFFF
    return raw - (1 << 32) if raw >> 31 else raw


def s64(raw: int) -> int:
    """A callback's long return value from RAX."""
    raw &= 0xFFFFFFFFFFFFFFFF
    return raw - (1 << 64) if raw >> 63 else raw


def cstr(k, addr: int, maxlen: int = 4096) -> str:
    """A C string from kernel memory ('' for NULL)."""
    if not addr:
        return ""
    return k.machine.read_cstr(addr, maxlen).decode("utf-8", "surrogateescape")


def init_list_head(k, addr: int) -> None:
    """INIT_LIST_HEAD(): next and prev point to the head itself."""
    wr(k, addr, "list_head.next", addr)
    wr(k, addr, "list_head.prev", addr)


def list_add(k, new: int, head: int) -> None:
    """list_add(): insert ``new`` after ``head`` (plain pointer writes)."""
    nxt = rd(k, head, "list_head.next")
    wr(k, nxt, "list_head.prev", new)
    wr(k, new, "list_head.next", nxt)
    wr(k, new, "list_head.prev", head)
    wr(k, head, "list_head.next", new)


def list_add_tail(k, new: int, head: int) -> None:
    """list_add_tail(): insert ``new`` before ``head``."""
    prev = rd(k, head, "list_head.prev")
    wr(k, head, "list_head.prev", new)
    wr(k, new, "list_head.next", head)
    wr(k, new, "list_head.prev", prev)
    wr(k, prev, "list_head.next", new)


LIST_POISON1 = 0xDEAD000000000100
LIST_POISON2 = 0xDEAD000000000122


def list_del(k, entry: int) -> None:
    """list_del(): unlink ``entry`` and poison its pointers."""
    nxt = rd(k, entry, "list_head.next")
    prev = rd(k, entry, "list_head.prev")
    wr(k, nxt, "list_head.prev", prev)
    wr(k, prev, "list_head.next", nxt)
    wr(k, entry, "list_head.next", LIST_POISON1)
    wr(k, entry, "list_head.prev", LIST_POISON2)


# ------------------------------------------------------------ errors
def err_ptr(err: int) -> int:
    """ERR_PTR(err) for a negative errno."""
    return err & 0xFFFFFFFFFFFFFFFF


def is_err(ptr: int) -> bool:
    """IS_ERR(ptr) (of the pointer's low 64 bits)."""
    return (ptr & 0xFFFFFFFFFFFFFFFF) >= (1 << 64) - MAX_ERRNO


def ptr_err(ptr: int) -> int:
    """PTR_ERR(ptr): the pointer as a signed long (a negative errno for an error)."""
    return s64(ptr)


# ------------------------------------------------------------ memory
def kzalloc(k, size: int, kind: str = "kmalloc") -> int:
    """kzalloc(size, GFP_KERNEL) as kernel code calls it."""
    return k.heap.alloc(max(size, 1), kind=kind, zero=True,
                        owner=k.current_module().name if k.current_module() else None)


def kfree(k, addr: int) -> None:
    """kfree() of an object a model allocated (NULL/ZERO_SIZE_PTR and unknown ignored)."""
    if addr > 16 and k.heap.find(addr) is not None:
        k.heap.free(addr)


def kstrdup(k, text: str | bytes, kind: str = "kstrdup") -> int:
    """kstrdup() of a Python string into a new kernel object."""
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else bytes(text)
    addr = kzalloc(k, len(data) + 1, kind)
    k.machine.write(addr, data + b"\0")
    return addr


class FormatArgs:
    """Integer arguments for vformat() given as a Python list."""

    def __init__(self, values):
        self.values, self.i = list(values), 0

    def next_int(self) -> int:
        v = self.values[self.i] if self.i < len(self.values) else 0
        self.i += 1
        return v & 0xFFFFFFFFFFFFFFFF


def owner_of(k, owner_ptr: int):
    """The Module a THIS_MODULE pointer names, else the module whose code is running."""
    mod = k.module_at(owner_ptr) if owner_ptr else None
    return mod if mod is not None else k.current_module()


def sym(k, addr: int) -> str:
    """``name [module]`` for a module symbol (as %ps prints it), else the address."""
    hit = k.symbolize(addr)
    if not hit:
        return f"{addr:#x}"
    return hit[0] + (f" [{hit[3]}]" if hit[3] else "")
