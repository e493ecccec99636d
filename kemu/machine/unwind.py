"""Stack unwinding through module frames with the modules' ORC tables.

Modules carry ``.orc_unwind_ip`` (PREL32 instruction addresses, sorted) and
``.orc_unwind`` (one ``struct orc_entry`` each). The format and register
numbers are those of arch/x86/include/asm/orc_types.h (checked against the
installed headers by tests/test_oops.py).
"""
from __future__ import annotations

import bisect
import struct

ORC_REG_UNDEFINED, ORC_REG_PREV_SP, ORC_REG_DX, ORC_REG_DI = 0, 1, 2, 3
ORC_REG_BP, ORC_REG_SP, ORC_REG_R10, ORC_REG_R13 = 4, 5, 6, 7
ORC_REG_BP_INDIRECT, ORC_REG_SP_INDIRECT = 8, 9
ORC_TYPE_CALL, ORC_TYPE_REGS, ORC_TYPE_REGS_PARTIAL = 0, 1, 2
_BASE_REGS = {ORC_REG_SP: "rsp", ORC_REG_BP: "rbp", ORC_REG_DX: "rdx", ORC_REG_DI: "rdi",
              ORC_REG_R10: "r10", ORC_REG_R13: "r13"}


class OrcTable:
    """The ORC table of one module, read from its memory after relocation."""

    def __init__(self, machine, ip_addr: int, ip_size: int, orc_addr: int):
        raw_ips = machine.read(ip_addr, ip_size)
        entries = []
        for i, (disp,) in enumerate(struct.iter_unpack("<i", raw_ips)):
            entries.append((ip_addr + 4 * i + disp, i))
        entries.sort()
        self.ips = [ip for ip, _ in entries]
        self.index = [i for _, i in entries]
        raw = machine.read(orc_addr, 6 * len(self.ips))
        self.orcs = [struct.unpack_from("<hhH", raw, 6 * i) for i in range(len(self.ips))]

    def find(self, ip: int):
        """(sp_offset, bp_offset, sp_reg, bp_reg, type, end) for ``ip``, or None."""
        pos = bisect.bisect_right(self.ips, ip) - 1
        if pos < 0:
            return None
        sp_off, bp_off, bits = self.orcs[self.index[pos]]
        return sp_off, bp_off, bits & 0xF, (bits >> 4) & 0xF, (bits >> 8) & 0x3, (bits >> 10) & 1


def orc_table(k, mod):
    """The module's ORC table (built on first use), or None without one."""
    table = getattr(mod, "_orc", None)
    if table is None:
        ip_addr = mod.sections.get(".orc_unwind_ip")
        orc_addr = mod.sections.get(".orc_unwind")
        if not ip_addr or not orc_addr:
            return None
        size = next(s.sh_size for s in mod.image.sections if s.name == ".orc_unwind_ip")
        table = mod._orc = OrcTable(k.machine, ip_addr, size, orc_addr)
    return table


def unwind(k, regs: dict, max_frames: int = 32) -> list[int]:
    """Return addresses of the frames above the faulting one (innermost first).

    Module frames are unwound with ORC; a frame in an export slot or thunk
    (kernel code modelled in Python) returns to the address on top of its stack.
    """
    m = k.machine
    ip, sp, bp = regs["rip"], regs["rsp"], regs["rbp"]
    extra = {name: regs[name] for name in ("rdx", "rdi", "r10", "r13")}
    frames = []
    for _ in range(max_frames):
        mod = k.module_containing(ip)
        try:
            if mod is None:
                ret = m.read_u64(sp)                    # export slot / thunk: a plain ret
                sp += 8
            else:
                table = orc_table(k, mod)
                orc = table.find(ip) if table else None
                if orc is None or orc[5] or orc[4] != ORC_TYPE_CALL:
                    break
                sp_off, bp_off, sp_reg, bp_reg, _type, _end = orc
                base = {"rsp": sp, "rbp": bp, **extra}.get(_BASE_REGS.get(sp_reg, ""))
                if base is None:
                    break
                prev_sp = base + sp_off
                ret = m.read_u64(prev_sp - 8)
                if bp_reg == ORC_REG_PREV_SP:
                    bp = m.read_u64(prev_sp + bp_off)
                sp = prev_sp
        except Exception:          # an unreadable stack ends the trace, as in the kernel
            break
        if ret == m.stop_addr or not ret:
            break
        frames.append(ret)
        ip = ret - 1 if k.module_containing(ret - 1) else ret
        if k.module_containing(ret) is None and k.symbolize(ret) is None:
            break
    return frames
