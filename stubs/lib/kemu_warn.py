"""WARN() and BUG() raised by kernel code that kemu models in Python.

``warn(k, where, func, message)`` prints what ``__warn()`` prints for a
``WARN(1, message)`` at ``where`` (``file.c:line``) in ``func`` (``name+off/len``):
the cut-here line, the message, the WARNING line and the module list, and taints
the kernel W. ``warn_once`` does so once per call site and kernel.
``bug(k, where)`` is ``BUG()``: the kernel's line, then a typed error ends the entry.
"""
from kemu.errors import KernelBug

from ..kernel.module import print_modules


class _Once:
    def __init__(self, k):
        self.sites = set()


def warn(k, where: str, func: str, message: str | None = None) -> None:
    """__warn() for WARN(1, message) in kernel code called by the running entry."""
    entry = k.current_entry[0] if k.current_entry else ""
    comm = "rmmod" if entry.endswith(" exit") else "insmod"
    try:
        caller = k.machine.read_u64(k.machine.reg("rsp"))
    except Exception:
        caller = 0
    lines = ["------------[ cut here ]------------"]
    if message:
        lines += message.rstrip("\n").split("\n")
    lines += [f"WARNING: CPU: 0 PID: 1 at {where} {func}",
              print_modules(k),
              f"CPU: 0 PID: 1 Comm: {comm} {k.taint_string()} {k.target.release} #1",
              f"RIP: 0010:{func}",
              "Call Trace:",
              " <TASK>",
              f" {k.format_addr(caller)}",
              " </TASK>",
              "---[ end trace 0000000000000000 ]---"]
    for line in lines:
        k.log.emit(4, line)
    k.add_taint("W")


def warn_once(k, where: str, func: str, message: str | None = None) -> None:
    """WARN_ONCE(): report the first time this site warns in this kernel."""
    once = k.model(_Once)
    if where in once.sites:
        return
    once.sites.add(where)
    warn(k, where, func, message)


def bug(k, where: str):
    """BUG() at ``where``: the kernel's line; the typed error ends the running entry."""
    text = f"kernel BUG at {where}!"
    k.log.emit(0, text)
    raise KernelBug(text)
