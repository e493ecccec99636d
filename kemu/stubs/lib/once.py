"""lib/once.c: DO_ONCE() support (``__do_once_start``/``__do_once_done``).

``__do_once_start`` takes ``once_lock`` (saving the flags) and returns false
after releasing it when ``*done`` is already set; ``__do_once_done`` sets
``*done``, releases the lock and turns the call site's static key off
(``once_disable_jump``: the kernel defers static_branch_disable() to a work
item holding a module reference; kemu disables the key at once, which is what
that work does as soon as it runs).
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members

from ..kernel.jump_label import static_key_disable_cpuslocked

members("struct static_key_true", "key")


class _Once:
    def __init__(self, k):
        self.held = False


@export("bool __do_once_start(bool *done, unsigned long *flags)")
def __do_once_start(k, done, flags):
    st = k.model(_Once)
    k.machine.write_u64(flags, 0x246)              # the saved RFLAGS (IF set)
    if k.machine.read_u8(done):
        return False
    st.held = True
    return True


@export("void __do_once_done(bool *done, struct static_key_true *once_key, "
        "unsigned long *flags, struct module *mod)")
def __do_once_done(k, done, once_key, flags, mod):
    k.machine.write_u8(done, 1)
    k.model(_Once).held = False
    static_key_disable_cpuslocked(k, once_key + k.target.offset("static_key_true.key"))


@export("bool __do_once_sleepable_start(bool *done)")
def __do_once_sleepable_start(k, done):
    return not k.machine.read_u8(done)


@export("void __do_once_sleepable_done(bool *done, struct static_key_true *once_key, "
        "struct module *mod)")
def __do_once_sleepable_done(k, done, once_key, mod):
    k.machine.write_u8(done, 1)
    static_key_disable_cpuslocked(k, once_key + k.target.offset("static_key_true.key"))
