"""delete_module(2), as kernel/module/main.c checks it, and rmmod's words for it."""
from __future__ import annotations

import errno

from .errors import EmulationError, KemuError
from .module import ModuleState

O_TRUNC = 0o1000          # the flag rmmod -f passes


class UnloadError(KemuError):
    """delete_module() refused; ``errno`` is what the syscall returns."""


def delete_module(k, name: str, force: bool = False) -> None:
    """Unload ``name``: checks in the kernel's order, then exit, then free."""
    mod = k.modules.get(name) or k.modules.get(name.replace("-", "_"))
    if mod is None or mod.state == ModuleState.UNFORMED:
        raise UnloadError(f"Module {name} is not currently loaded", errno.ENOENT)
    if mod.holders:
        users = ",".join(h.name for h in mod.holders)
        raise UnloadError(f"Module {name} is in use by: {users}", errno.EWOULDBLOCK)
    if mod.state != ModuleState.LIVE:
        raise UnloadError(f"could not remove module {name}: Device or resource busy", errno.EBUSY)
    forced = False
    if mod.init_addr and not mod.exit_addr:
        if not force:
            raise UnloadError(f"could not remove module {name}: Device or resource busy",
                              errno.EBUSY)
        forced = True
    if mod.refcnt - 1 != 0:                   # try_release_module_ref
        if not force:
            raise UnloadError(f"Module {name} is in use", errno.EWOULDBLOCK)
        forced = True
    if forced:
        k.add_taint("R", lockdep_unreliable=True)
    mod.state = ModuleState.GOING
    k.machine.write_u32(mod.struct_addr + k.target.offset("module.state"), int(mod.state))
    try:
        if mod.exit_addr:
            k.call(mod.exit_addr, entry=f"{mod.name} exit", module=mod)
    except EmulationError:
        k.notify_module_state(mod)
        k.loader.free_module(mod)
        raise
    k.notify_module_state(mod)
    k.last_unloaded = mod.name
    k.loader.free_module(mod)
