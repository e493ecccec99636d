"""WARN() and BUG() raised by kernel code that kemu models in Python.

``warn(k, where, func, message)`` prints what ``__warn()`` prints for a
``WARN(1, message)`` at ``where`` (``file.c:line``) in kernel function
``func`` (``name+off/len`` as the real kernel reports it): the cut-here line,
the message, the WARNING line, the module list, the CPU line, RIP and the
call trace through the module code that called the export; it taints the
kernel W and records a finding. ``warn_once`` does so once per call site and
kernel (WARN_ONCE). ``bug(k, where)`` is ``BUG()`` (CONFIG_DEBUG_BUGVERBOSE):
the cut-here and "kernel BUG at" lines, then a typed error ends the entry with
the kernel's "invalid opcode" oops report.
"""
from kemu.errors import KernelBug
from kemu.kernel.log import KERN_CRIT, KERN_WARNING
from kemu.machine.oops import call_trace, cpu_lines, modules_linked_in


class _Once:
    def __init__(self, k):
        self.sites = set()


def warn(k, where: str, func: str, message: str | None = None) -> None:
    """__warn() for WARN(1, message) in kernel code called by the running entry."""
    lines = ["------------[ cut here ]------------"]
    if message:
        lines += message.rstrip("\n").split("\n")
    lines += [f"WARNING: CPU: 0 PID: 1 at {where} {func}",
              "Modules linked in:" + modules_linked_in(k), *cpu_lines(k), f"RIP: 0010:{func}",
              *call_trace(k, k.machine.registers()), "---[ end trace 0000000000000000 ]---"]
    for line in lines:
        k.log.emit(KERN_WARNING, line)
    k.add_taint("W", lockdep_unreliable=False)
    k.finding("warning", f"WARNING at {where} {func}" + (f": {message}" if message else ""),
              k.current_module(), file=where.rsplit(":", 1)[0], line=int(where.rsplit(":", 1)[1]))


def warn_once(k, where: str, func: str, message: str | None = None) -> None:
    """WARN_ONCE(): report the first time this site warns in this kernel."""
    once = k.model(_Once)
    if where in once.sites:
        return
    once.sites.add(where)
    warn(k, where, func, message)


def bug(k, where: str):
    """BUG() at ``where``: the kernel's lines; the typed error ends the running entry."""
    k.log.emit(KERN_WARNING, "------------[ cut here ]------------")
    k.log.emit(KERN_CRIT, f"kernel BUG at {where}!")
    raise KernelBug(f"invalid opcode: 0000 (kernel BUG at {where}!)")
