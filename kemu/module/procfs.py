"""Views of the module list: /proc/modules (kernel/module/procfs.c) and lsmod (kmod)."""
from __future__ import annotations

from kemu.module.module import STATE_WORDS, ModuleState
from kemu.kernel.taint import module_flags_taint, taint_mask


def module_size(mod) -> int:
    """What /proc/modules and lsmod report: module_total_size() (6.4), the
    sizes of init_layout and core_layout before it."""
    return mod.total_size()


def _newest_first(k, hidden: bool = False):
    """The formed modules, newest first; those on the kernel's module list only
    (a module that unlinked itself is not shown) unless ``hidden``."""
    listed = set(k.modules) if hidden else k.listed_modules()
    return [m for m in reversed(list(k.modules.values()))
            if m.state != ModuleState.UNFORMED and m.name in listed]


def proc_modules(k) -> str:
    """/proc/modules: ``name size refcount holders, state 0xaddr (TAINTS)``."""
    lines = []
    for mod in _newest_first(k):
        used = "".join(f"{h.name}," for h in reversed(mod.holders))
        if mod.init_addr and not mod.exit_addr:
            used += "[permanent],"
        line = f"{mod.name} {module_size(mod)} {mod.refcount()} {used or '-'}"
        line += f" {STATE_WORDS[mod.state]} 0x{mod.base:016x}"
        taints = module_flags_taint(mod)
        if taints or mod.state in (ModuleState.GOING, ModuleState.COMING):
            line += f" ({taints})"
        lines.append(line)
    return "".join(line + "\n" for line in lines)


def lsmod(k, show_hidden: bool = False) -> str:
    """kmod's lsmod: a header, then ``%-19s %8ld  %d`` and the holders;
    ``show_hidden`` adds the modules missing from the list, marked ``[hidden]``."""
    out = ["Module                  Size  Used by"]
    listed = k.listed_modules()
    for mod in _newest_first(k, hidden=show_hidden):
        line = f"{mod.name:<19} {module_size(mod):8d}  {mod.refcount()}"
        holders = [h.name for h in reversed(mod.holders)]
        if holders:
            line += " " + ",".join(holders)
        if mod.name not in listed:
            line += " [hidden]"
        out.append(line)
    return "\n".join(out) + "\n"


def proc_tainted(k) -> str:
    """/proc/sys/kernel/tainted: the taint bits as a number."""
    return f"{taint_mask(k.taints)}\n"
