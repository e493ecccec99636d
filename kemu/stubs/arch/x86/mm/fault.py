"""arch/x86/mm/fault.c and arch/x86/kernel/cpu/common.c: kernel read-only data
and CR0's write-protect bit.

Objects kemu places as the kernel's .rodata (``sys_call_table``) live in
read-only pages. A write to them is the page fault Linux takes ("#PF:
error_code(0x0003) - permissions violation", an oops) while CR0.WP is set; with
WP clear the write lands, as on Linux, and is recorded as tampering. CR0 is the
emulated CPU's register: a raw ``mov %reg,%cr0`` in module code changes it (each
such instruction in a module's text is watched, so WP toggles are reported), and
``native_write_cr0()`` (what ``write_cr0()`` calls through pv_ops) pins WP as 6.1
does: it sets the bit back and warns "CR0 WP bit went missing!?".

Left out: CR4 pinning, the IDT, kernel text (kemu's kernel functions are slots).
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import module_notifier
from kemu.machine.emulator import X86_CR0_WP
from kemu.module.module import ModuleState
from unicorn import UC_HOOK_CODE

from ....lib.kemu_warn import warn_once

# mov %r64,%cr0: 0f 22 /r with reg = 0 (cr0); a REX.B prefix selects r8..r15
_GPR = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi")


class KernelRodata:
    """The read-only ranges kemu placed, each with what a permitted write means."""

    def __init__(self, k):
        self.k = k
        self.ranges: list = []                 # (start, end, on_write(addr, size, value))
        k.machine.on_write_protect = self.on_write

    def add(self, start: int, size: int, on_write) -> None:
        self.ranges.append((start, start + size, on_write))

    def on_write(self, addr: int, size: int, value: int) -> bool:
        for start, end, on_write in self.ranges:
            if start <= addr < end:
                if self.k.machine.cr0() & X86_CR0_WP:
                    return False               # the page fault Linux takes
                on_write(addr, size, value)
                return True
        return False


def _cr0_event(k, old: int, new: int, site: int, how: str) -> None:
    if (old ^ new) & X86_CR0_WP:
        state = "set" if new & X86_CR0_WP else "cleared"
        k.behaviour.record("cr0", f"CR0.WP {state} ({how})", site=site, cr0=f"{new:#x}")


def _watch_cr0_writes(k, mod) -> None:
    m = k.machine
    for base, size in mod.text_spans():
        text = m.read(base, size)
        pos = text.find(b"\x0f\x22")
        while pos >= 0:
            modrm = text[pos + 2] if pos + 2 < len(text) else 0
            if modrm & 0xF8 == 0xC0:
                rex = text[pos - 1] if pos and text[pos - 1] & 0xF0 == 0x40 else 0
                start = base + pos - (1 if rex else 0)
                reg = ("r" + str(8 + (modrm & 7))) if rex & 1 else _GPR[modrm & 7]
                m.uc.hook_add(UC_HOOK_CODE, _on_mov_cr0(k, reg), begin=start, end=start)
            pos = text.find(b"\x0f\x22", pos + 2)


def _on_mov_cr0(k, reg: str):
    def hook(uc, address, size, user_data):
        try:
            _cr0_event(k, k.machine.cr0(), k.machine.reg(reg), address, "mov to %cr0")
        except Exception as exc:              # re-raised once emulation stops
            k.machine._hook_failed(exc)
    return hook


@module_notifier
def _module_coming(k, mod) -> None:
    if mod.state == ModuleState.COMING:
        _watch_cr0_writes(k, mod)


def native_write_cr0_model(k, val: int) -> None:
    """native_write_cr0(): with cr_pinning on, a missing WP is put back, then WARN_ONCE."""
    m = k.machine
    site = m.read_u64(m.reg("rsp"))
    old = m.cr0()
    m.set_cr0(val | X86_CR0_WP)
    if not val & X86_CR0_WP:
        k.behaviour.record("cr0", "write_cr0() tried to clear CR0.WP (pinned: 6.1 sets it back)",
                        site=site, cr0=f"{val:#x}")
        warn_once(k, "arch/x86/kernel/cpu/common.c:439", "native_write_cr0+0x35/0x50",
                  "CR0 WP bit went missing!?")
    elif old != val:
        _cr0_event(k, old, val, site, "write_cr0()")


@export("void native_write_cr0(unsigned long val)")
def native_write_cr0(k, val):
    native_write_cr0_model(k, val)
