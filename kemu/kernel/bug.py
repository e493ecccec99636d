"""lib/bug.c (find_bug(), report_bug()) and the parts of arch/x86/kernel/dumpstack.c
that end an entry: die() with its oops report, and dump_stack().

A ``ud2`` in module code is looked up in the module's ``__bug_table``: a WARN
prints its report, taints W and continues after the ud2; a BUG prints "kernel
BUG at" and the entry ends in an oops. Left out: bug tables of vmlinux (its code
is Python here), WARN_ON_ONCE state across reloads, panic_on_warn.
"""
from __future__ import annotations

import os
import traceback

from kemu.errors import EmulationError, Lockup, MemoryFault, ModelError
from kemu.kernel.log import KERN_ALERT, KERN_CRIT, KERN_EMERG, KERN_WARNING
from kemu.machine.oops import call_trace, cpu_header, cpu_lines, oops_report, warn_report


class Bug:
    """BUG/WARN handling and oops reports for one kernel."""

    def __init__(self, k):
        self.k = k
        self.pending = None          # (file, line) of a BUG whose ud2 ends the entry
        self.oops_count = 0

    def find_bug(self, rip: int):
        """find_bug(): the module's ``__bug_table`` entry for a ``ud2`` at ``rip``.

        Returns (file, line, flags, entry address) or None.
        """
        k = self.k
        mod = k.module_containing(rip)
        table = mod.sections.get("__bug_table") if mod else None
        if not table:
            return None
        t, m = k.target, k.machine
        size = t.sizeof("bug_entry")
        total = next(s.sh_size for s in mod.image.sections if s.name == "__bug_table")
        o_addr, o_file = t.offset("bug_entry.bug_addr_disp"), t.offset("bug_entry.file_disp")
        o_line, o_flags = t.offset("bug_entry.line"), t.offset("bug_entry.flags")
        for entry in range(table, table + total, size):
            if entry + o_addr + m.read_s32(entry + o_addr) != rip:
                continue
            file_addr = entry + o_file + m.read_s32(entry + o_file)
            return (m.read_cstr(file_addr, 512).decode("utf-8", "replace"),
                    m.read_u16(entry + o_line), m.read_u16(entry + o_flags), entry)
        return None

    def report_bug(self, rip: int) -> bool:
        """report_bug() on an invalid opcode: a WARN reports and continues after
        the ud2 (True); BUG prints its line and the entry ends (False)."""
        k = self.k
        m = k.machine
        self.pending = None
        try:
            if m.read(rip, 2) != b"\x0f\x0b":
                return False
        except EmulationError:
            return False
        bug = self.find_bug(rip)
        if bug is None:
            return False
        file, line, flags, entry = bug
        t = k.target
        if flags & t.const("BUGFLAG_WARNING"):
            once, done = flags & t.const("BUGFLAG_ONCE"), flags & t.const("BUGFLAG_DONE")
            if not (once and done):
                if once:
                    m.write_u16(entry + t.offset("bug_entry.flags"), flags | t.const("BUGFLAG_DONE"))
                for level, text in warn_report(k, rip, file, line, flags):
                    k.log.emit(level, text)
                k.add_taint("W", lockdep_unreliable=False)
                k.finding("warning", f"WARNING at {file}:{line} {k.format_addr(rip)}",
                          k.current_module(), file=file, line=line)
            m.set_reg("rip", rip + 2)
            return True
        if not flags & t.const("BUGFLAG_NO_CUT_HERE"):
            k.log.emit(KERN_WARNING, "------------[ cut here ]------------")
        k.log.emit(KERN_CRIT, f"kernel BUG at {file}:{line}!")
        self.pending = (file, line)
        return False

    def die(self, exc: EmulationError, entry: str) -> None:
        """Log a kernel-style report for a fault in emulated code and taint D
        (or L for a soft lockup), as oops_begin()/__die()/oops_end() do."""
        k = self.k
        gone = isinstance(exc, MemoryFault) and (k.symbols.unloaded_symbol(exc.addr)
                                                 or k.symbols.unloaded_symbol(exc.rip))
        if gone:
            exc.args = (f"{exc.args[0]} in unloaded module {gone[0]} ({gone[1]})",)
        if isinstance(exc, ModelError):
            k.note(f"kemu bug: {exc} (please report it; KEMU_DEBUG=1 shows the traceback)")
            if os.environ.get("KEMU_DEBUG"):
                traceback.print_exception(exc.cause)
        lines = oops_report(k, exc, entry)
        tainted = False
        for line in lines:
            if line.startswith("---[ end trace"):
                k.add_taint("D")            # oops_end(), before oops_exit()'s line
                tainted = True
            # pr_alert for the page-fault lines, pr_emerg for the watchdog, else KERN_DEFAULT
            level = KERN_EMERG if line.startswith("watchdog:") else \
                KERN_ALERT if line.startswith(("BUG:", "#PF:", "PGD ")) else KERN_WARNING
            k.log.emit(level, line)
        exc.report = lines
        if not tainted:
            k.add_taint("L" if isinstance(exc, Lockup) else "D")
        k.finding("oops" if not isinstance(exc, Lockup) else "soft-lockup", lines[0],
                  k.current_module(), rip=k.machine.reg("rip"))

    def dump_stack(self, level: int = KERN_WARNING) -> None:
        """dump_stack(): the CPU lines and the call trace unwound (ORC) from the
        module code that called into the kernel, then the entry's callers."""
        k = self.k
        for line in (*cpu_lines(k), *call_trace(k, k.machine.registers())):
            k.log.emit(level, line)

    def init_returned_stack(self) -> None:
        """The dump_stack() of do_init_module() when init returned a positive value:
        no module code runs then, so the trace is Linux 6.1's own (from the oracle)."""
        k = self.k
        for line in (*cpu_header(k), "Call Trace:", " <TASK>", " dump_stack_lvl+0x44/0x5c",
                     " do_init_module.cold+0x22/0x28", " load_module+0x2a2c/0x2be0",
                     " __do_sys_finit_module+0xac/0x120", " do_syscall_64+0x55/0xb0",
                     " entry_SYSCALL_64_after_hwframe+0x6e/0xd8", " </TASK>"):
            k.log.emit(KERN_WARNING, line)
