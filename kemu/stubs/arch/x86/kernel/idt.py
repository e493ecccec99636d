"""arch/x86/kernel/idt.c: the interrupt descriptor table, as a module reads it.

``idt_table`` (kallsyms) holds the 256 gates 6.1 sets up: def_idts (the
exceptions, with their IST stacks and int3/overflow/int 0x80 callable from
user space), the early #PF, apic_idts (the system vectors) and the external
vectors' stubs at ``irq_entries_start + 8 * (vector - 0x20)`` (the unused
system vectors at ``spurious_entries_start``); each handler is the address
kemu gives that vmlinux symbol. The page is read-only (set_memory_ro() at the
end of idt_setup_apic_and_irq_gates()): a write faults unless CR0.WP is
clear, and a write that lands is a behaviour event naming the vector and its
new handler. The CPU's IDTR (``sidt``, ``store_idt()``) holds what Linux loads
there, the read-only alias in the cpu entry area (CPU_ENTRY_AREA_RO_IDT), which
shares the page with idt_table. kemu never delivers an interrupt through it.

Left out: the hypervisor callback vector (a paravirt guest's), the IDT of
other CPUs (all share it), load_idt() and the GDT.
"""
from __future__ import annotations

from kemu.abi.exports import module_notifier
from kemu.module.module import ModuleState

from ..mm.fault import KernelRodata
from ....kernel.kallsyms import VmlinuxSymbols, vmlinux_addr, vmlinux_object

IDT_ENTRIES = 256
GATE_SIZE = 16
CPU_ENTRY_AREA_RO_IDT = 0xFFFFFE0000000000     # CPU_ENTRY_AREA_BASE, 4-level paging
KERNEL_CS = 0x10
GATE_INTERRUPT = 0xE
FIRST_EXTERNAL_VECTOR = 0x20
FIRST_SYSTEM_VECTOR = 0xEC                      # LOCAL_TIMER_VECTOR
IDT_ALIGN = 8                                   # no CONFIG_X86_KERNEL_IBT

# (vector, handlers (the first kallsyms has), DPL, IST) in idt.c's order: early_idts,
# early_pf_idts, def_idts, apic_idts; a later entry for a vector replaces an earlier one
GATES = (
    (1, ("asm_exc_debug",), 0, 0), (3, ("asm_exc_int3",), 3, 0),
    (14, ("asm_exc_page_fault",), 0, 0),
    (0, ("asm_exc_divide_error",), 0, 0), (2, ("asm_exc_nmi",), 0, 2),
    (5, ("asm_exc_bounds",), 0, 0), (6, ("asm_exc_invalid_op",), 0, 0),
    (7, ("asm_exc_device_not_available",), 0, 0), (9, ("asm_exc_coproc_segment_overrun",), 0, 0),
    (10, ("asm_exc_invalid_tss",), 0, 0), (11, ("asm_exc_segment_not_present",), 0, 0),
    (12, ("asm_exc_stack_segment",), 0, 0), (13, ("asm_exc_general_protection",), 0, 0),
    (15, ("asm_exc_spurious_interrupt_bug",), 0, 0), (16, ("asm_exc_coprocessor_error",), 0, 0),
    (17, ("asm_exc_alignment_check",), 0, 0), (19, ("asm_exc_simd_coprocessor_error",), 0, 0),
    (8, ("asm_exc_double_fault",), 0, 1), (1, ("asm_exc_debug",), 0, 3),
    (18, ("asm_exc_machine_check",), 0, 4), (29, ("asm_exc_vmm_communication",), 0, 5),
    (4, ("asm_exc_overflow",), 3, 0), (0x80, ("asm_int80_emulation", "entry_INT80_compat"), 3, 0),
    (0xFD, ("asm_sysvec_reschedule_ipi",), 0, 0), (0xFC, ("asm_sysvec_call_function",), 0, 0),
    (0xFB, ("asm_sysvec_call_function_single",), 0, 0),
    (0x20, ("asm_sysvec_irq_move_cleanup",), 0, 0), (0xF8, ("asm_sysvec_reboot",), 0, 0),
    (0xFA, ("asm_sysvec_thermal",), 0, 0), (0xF9, ("asm_sysvec_threshold",), 0, 0),
    (0xF4, ("asm_sysvec_deferred_error",), 0, 0),
    (0xEC, ("asm_sysvec_apic_timer_interrupt",), 0, 0),
    (0xF7, ("asm_sysvec_x86_platform_ipi",), 0, 0),
    (0xF2, ("asm_sysvec_kvm_posted_intr_ipi",), 0, 0),
    (0xF1, ("asm_sysvec_kvm_posted_intr_wakeup_ipi",), 0, 0),
    (0xF0, ("asm_sysvec_kvm_posted_intr_nested_ipi",), 0, 0),
    (0xF6, ("asm_sysvec_irq_work",), 0, 0), (0xFF, ("asm_sysvec_spurious_apic_interrupt",), 0, 0),
    (0xFE, ("asm_sysvec_error_interrupt",), 0, 0),
)


def pack_gate(handler: int, dpl: int = 0, ist: int = 0) -> bytes:
    """struct gate_struct: offset_low, segment, idt_bits, offset_middle, offset_high."""
    bits = ist | GATE_INTERRUPT << 8 | dpl << 13 | 1 << 15
    return (handler & 0xFFFF).to_bytes(2, "little") + KERNEL_CS.to_bytes(2, "little") + \
        bits.to_bytes(2, "little") + (handler >> 16 & 0xFFFF).to_bytes(2, "little") + \
        (handler >> 32 & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)


def gate_handler(raw: bytes) -> int:
    return int.from_bytes(raw[0:2], "little") | int.from_bytes(raw[6:8], "little") << 16 | \
        int.from_bytes(raw[8:12], "little") << 32


class Idt:
    """idt_table and its cpu-entry-area alias the IDTR points at."""

    def __init__(self, k):
        self.k = k
        m = k.machine
        self.addr = m.alloc_rodata(IDT_ENTRIES * GATE_SIZE, also=(CPU_ENTRY_AREA_RO_IDT,))
        self.filled = False
        self.handlers: dict[int, str] = {}      # vector -> handler name, as set up
        m.set_idtr(CPU_ENTRY_AREA_RO_IDT, IDT_ENTRIES * GATE_SIZE - 1)
        rodata = k.model(KernelRodata)
        rodata.add(self.addr, IDT_ENTRIES * GATE_SIZE, self.on_write)
        rodata.add(CPU_ENTRY_AREA_RO_IDT, IDT_ENTRIES * GATE_SIZE, self.on_write)

    def fill(self) -> None:
        """idt_setup_traps() .. idt_setup_apic_and_irq_gates(), once the kernel's
        symbols are needed: when a module that has a ``sidt`` comes, or looks
        idt_table up (no read hook: one would slow every memory read)."""
        if self.filled:
            return
        k, m = self.k, self.k.machine
        table = k.model(VmlinuxSymbols).get_table()
        self.filled = True
        gates = bytearray(IDT_ENTRIES * GATE_SIZE)
        for vector, names, dpl, ist in GATES:
            name = next((n for n in names if table is None or table.get(n)), names[0])
            handler = vmlinux_addr(k, name)
            if handler:
                gates[vector * GATE_SIZE:(vector + 1) * GATE_SIZE] = pack_gate(handler, dpl, ist)
                self.handlers[vector] = name
        irq = vmlinux_addr(k, "irq_entries_start")
        spurious = vmlinux_addr(k, "spurious_entries_start")
        for vector in range(FIRST_EXTERNAL_VECTOR, IDT_ENTRIES):
            if vector in self.handlers:
                continue
            if vector < FIRST_SYSTEM_VECTOR and irq:
                entry = irq + IDT_ALIGN * (vector - FIRST_EXTERNAL_VECTOR)
            elif vector >= FIRST_SYSTEM_VECTOR and spurious:
                entry = spurious + IDT_ALIGN * (vector - FIRST_SYSTEM_VECTOR)
            else:
                continue
            gates[vector * GATE_SIZE:(vector + 1) * GATE_SIZE] = pack_gate(entry)
        m.uc.mem_write(self.addr, bytes(gates))

    def on_write(self, addr: int, size: int, value: int) -> None:
        """A write CR0.WP let through: record the gate it changes."""
        k, m = self.k, self.k.machine
        self.fill()
        base = self.addr if addr < CPU_ENTRY_AREA_RO_IDT or addr >= self.addr else \
            CPU_ENTRY_AREA_RO_IDT
        off = addr - base
        vector = off // GATE_SIZE
        gate = bytearray(m.read(base + vector * GATE_SIZE, GATE_SIZE))
        start = off % GATE_SIZE
        data = (value & (1 << 8 * size) - 1).to_bytes(size, "little")
        gate[start:start + size] = data[:GATE_SIZE - start]
        handler = gate_handler(bytes(gate))
        was = self.handlers.get(vector)
        what = f"idt_table[{vector:#x}]" + (f" ({was})" if was else "") + \
            f" = {k.format_addr(handler)}"
        last = k.behaviour[-1] if k.behaviour else {}
        if last.get("kind") == "idt" and last.get("vector") == vector and \
                last.get("handler") == f"{handler:#x}":
            return                              # the other half of one gate's store
        k.behaviour.record("idt", what, site=m.reg("rip"), vector=vector,
                           handler=f"{handler:#x}")


@vmlinux_object("idt_table")
def idt_table(k, table) -> int:
    idt = k.model(Idt)
    idt.fill()
    k.kernel_objects["idt_table"] = (idt.addr, IDT_ENTRIES * GATE_SIZE)
    return idt.addr


def _entry_stubs(name: str, count: int):
    @vmlinux_object(name)
    def stubs(k, table) -> int:
        """The entry stubs' code: int3s kemu never runs (no interrupt is delivered)."""
        return k.machine.add_thunk(name, "int3\n" * (IDT_ALIGN * count))
    return stubs


_entry_stubs("irq_entries_start", FIRST_SYSTEM_VECTOR - FIRST_EXTERNAL_VECTOR)
_entry_stubs("spurious_entries_start", IDT_ENTRIES - FIRST_SYSTEM_VECTOR)


def _has_sidt(code: bytes) -> bool:
    """Whether ``code`` holds a ``sidt`` (0f 01 /1 with a memory operand)."""
    pos = code.find(b"\x0f\x01")
    while pos >= 0:
        modrm = code[pos + 2] if pos + 2 < len(code) else 0xC0
        if modrm >> 6 != 3 and modrm >> 3 & 7 == 1:
            return True
        pos = code.find(b"\x0f\x01", pos + 1)
    return False


@module_notifier
def _module_coming(k, mod) -> None:
    """The IDT exists from boot: every module finds the IDTR loaded, and the gates
    are in place before a module that reads them with ``sidt`` runs."""
    if mod.state != ModuleState.COMING:
        return
    idt = k.model(Idt)
    if not idt.filled and any(_has_sidt(k.machine.read(base, size))
                              for base, size in mod.text_spans()):
        idt.fill()
