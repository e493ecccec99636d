"""kernel/module/main.c: module reference counting as modules call it."""
from kemu import export
from kemu.module import ModuleState
from kemu.oops import modules_linked_in

from ..lib.kemu_warn import warn


def module_at(k, addr):
    """The loaded module whose ``struct module`` is at ``addr``, or None."""
    return k.module_at(addr)


@export("bool try_module_get(struct module *module)")
def try_module_get(k, module):
    if not module:
        return True
    mod = module_at(k, module)
    if mod is None:
        return False
    if mod.state != ModuleState.GOING and mod.refcnt > 0:
        mod.refcnt += 1
        return True
    return False


@export("void __module_get(struct module *module)")
def __module_get(k, module):
    mod = module_at(k, module)
    if mod is not None:
        mod.refcnt += 1


def print_modules(k) -> str:
    """print_modules(): "Modules linked in:" and each module with its flags."""
    return "Modules linked in:" + modules_linked_in(k)


@export("void module_put(struct module *module)")
def module_put(k, module):
    mod = module_at(k, module)
    if mod is None:
        return
    if mod.refcnt <= 0:             # atomic_dec_if_positive() < 0: WARN_ON, count unchanged
        warn(k, "kernel/module/main.c:857", "module_put+0x8b/0x90")
        return
    mod.refcnt -= 1


@export("int module_refcount(struct module *mod)")
def module_refcount(k, mod_addr):
    mod = module_at(k, mod_addr)
    return mod.refcount() if mod else 0
