"""delete_module(2), as kernel/module/main.c checks it, and rmmod's words for it."""
from __future__ import annotations

import errno

from kemu.errors import EmulationError, KemuError, strerror
from kemu.abi.exports import notify_module_state
from kemu.module.module import ModuleState, set_state
from kemu.kernel.taint import module_flags_taint

O_TRUNC = 0o1000          # the flag rmmod -f passes


class UnloadError(KemuError):
    """delete_module() refused; ``errno`` is what the syscall returns."""


def find_module(k, name: str, in_sysfs: bool = False):
    """find_module(): the formed module called ``name`` (dashes and underscores alike) on
    the kernel's module list, or None; ``in_sysfs``: as /sys/module shows it (a module
    that unlinked itself from the list is still there)."""
    mod = k.modules.get(name) or k.modules.get(name.replace("-", "_"))
    if mod is None or mod.state == ModuleState.UNFORMED:
        return None
    return mod if in_sysfs or mod.name in k.listed_modules() else None


def check_module_inuse(k, name: str) -> None:
    """kmod rmmod's own checks before it calls delete_module (skipped by -f); kmod
    reads them from /sys/module/NAME."""
    mod = find_module(k, name, in_sysfs=True)
    if mod is None:
        raise UnloadError(f"Module {name} is not currently loaded", errno.ENOENT)
    if mod.holders:
        users = " ".join(h.name for h in reversed(mod.holders))
        raise UnloadError(f"Module {name} is in use by: {users}", errno.EBUSY)
    if mod.refcount() > 0:
        raise UnloadError(f"Module {name} is in use", errno.EBUSY)


def delete_module(k, name: str, force: bool = False) -> None:
    """Unload ``name``: checks in the kernel's order, then exit, then free."""
    def refuse(err: int):
        return UnloadError(f"could not remove module {name}: {strerror(err)}", err)

    mod = find_module(k, name)
    if mod is None:
        raise refuse(errno.ENOENT)
    if mod.holders:                           # other modules depend on us
        raise refuse(errno.EWOULDBLOCK)
    if mod.state != ModuleState.LIVE:         # doing init or already dying
        raise refuse(errno.EBUSY)
    forced = False
    if mod.init_addr and not mod.exit_addr:   # init but no exit: permanent unless forced
        if not force:
            raise refuse(errno.EBUSY)
        forced = True
    mod.refcnt -= 1                           # try_release_module_ref(): drop MODULE_REF_BASE
    if mod.refcnt != 0:                       # still referenced: put the base back
        mod.refcnt += 1
        if not force:
            raise refuse(errno.EWOULDBLOCK)
        forced = True
    if forced:
        k.add_taint("R", lockdep_unreliable=True)
    set_state(k, mod, ModuleState.GOING)
    try:
        if mod.exit_addr:
            k.call(mod.exit_addr, entry=f"{mod.name} exit", module=mod)
    except EmulationError:
        notify_module_state(k, mod)
        k.loader.free_module(mod)
        raise
    notify_module_state(k, mod)
    k.findings.check_left_behind(mod)
    k.last_unloaded = mod.name
    letters = module_flags_taint(mod)
    k.last_unloaded_taints = f"({letters})" if mod.taints else ""
    k.loader.free_module(mod)
