"""arch/x86/entry/syscall_64.c: ``sys_call_table`` and ``x64_sys_call()``.

The table is the target's own: one entry per system call number, each naming
the real ``__x64_sys_*`` function (read out of the kernel image with kallsyms,
:mod:`kemu.kernel.kallsyms`). Each entry points to a slot for that function: kemu's
model of the system call when there is one, else a ``not-modelled`` stub. The
table sits in read-only pages (stubs/arch/x86/mm/fault.py: a write faults
unless CR0.WP is clear); a write that lands is recorded as tampering, with the
system call number and name.

Debian's 6.1 point releases dispatch through ``x64_sys_call()``, a switch on
the number (the branch-history-injection fix), not through the table: a patched
entry never runs for a system call. kemu says so in the report.

Left out: ``ia32_sys_call_table`` and ``x32_sys_call_table`` (not in Debian's
6.1 image: kallsyms finds nothing, as on Linux).
"""
from __future__ import annotations

import errno

from kemu.abi.cproto import parse_prototype
from kemu.abi.exports import REGISTRY, ExportDef, SlotBinding

from ..mm.fault import KernelRodata
from ....kernel.kallsyms import VmlinuxSymbols, vmlinux_object

SYSCALL_PREFIXES = ("__x64_sys_", "__do_sys_", "__ia32_sys_", "__se_sys_")


def syscall_name(entry: str) -> str:
    for prefix in SYSCALL_PREFIXES:
        if entry.startswith(prefix):
            return entry[len(prefix):]
    return entry


class SyscallTable:
    """sys_call_table as kemu placed it: the entry names and the slot of each."""

    def __init__(self, k):
        self.k = k
        self.addr = 0
        self.entries: list[str] = []
        self.slots: dict[str, int] = {}
        self.patched: dict[int, int] = {}      # number -> value a module wrote

    def dispatch_note(self) -> str:
        table = self.k.model(VmlinuxSymbols).get_table()
        if table is not None and table.get("x64_sys_call"):
            return ("this kernel dispatches system calls through x64_sys_call(), not "
                    "sys_call_table: the patched entry never runs for a system call")
        return "this kernel dispatches system calls through sys_call_table"


def _not_modelled(name: str):
    def fn(k, regs):
        k.finding("not-modelled", f"{name}() was called, but kemu does not model this "
                  "system call", k.current_module())
        return -errno.ENOSYS
    fn.__name__ = name
    return fn


def _slot(k, st: SyscallTable, entry: str) -> int:
    if entry not in st.slots:
        if entry in REGISTRY:
            st.slots[entry] = k.export_addr(entry)
        else:
            defn = ExportDef(entry, "func", _not_modelled(entry), internal=True, origin=__name__,
                             _proto=parse_prototype(f"long {entry}(const struct pt_regs *regs)"))
            st.slots[entry] = k.machine.add_slot(entry, SlotBinding(defn, k))
    return st.slots[entry]


@vmlinux_object("sys_call_table")
def sys_call_table(k, table) -> int:
    st = k.model(SyscallTable)
    st.entries = table.pointer_tables.get("sys_call_table", [])
    if not st.entries:
        return 0
    size = table.lookup(table.get("sys_call_table").addr)[2]
    m = k.machine
    st.addr = addr = m.alloc_rodata(size)
    m.write(addr, b"".join(_slot(k, st, e).to_bytes(8, "little") for e in st.entries))
    k.kernel_objects["sys_call_table"] = (addr, size)

    def on_write(waddr, wsize, value):
        nr = (waddr - addr) // 8
        name = syscall_name(st.entries[nr]) if nr < len(st.entries) else "?"
        site = m.reg("rip")
        if value == 0 or (waddr - addr) % 8:
            what = f"sys_call_table[{nr}] ({name}) written"
        elif value == _slot(k, st, st.entries[nr]):
            what = f"sys_call_table[{nr}] ({name}) restored to {k.format_addr(value)}"
            st.patched.pop(nr, None)
        else:
            what = f"sys_call_table[{nr}] ({name}) = {k.format_addr(value)}"
            st.patched[nr] = value
        k.behaviour.record("sys_call_table", what, site=site, nr=nr, syscall=name,
                        value=f"{value:#x}", note=st.dispatch_note())
    k.model(KernelRodata).add(addr, size, on_write)
    return addr
