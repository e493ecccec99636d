"""arch/x86/kernel/paravirt.c: the pv_ops table modules call through.

Every op is an export slot; the interrupt-flag ops keep a model of IF so that
``local_irq_save``/``restore`` pairs behave, and cr0 reads and writes (the
classic write-protect toggle of rootkits) go to the emulated CPU's CR0, the
write through ``native_write_cr0`` (stubs/arch/x86/mm/fault.py: 6.1 pins WP).
"""
from kemu import data
from kemu.abi.cproto import parse_prototype
from kemu.abi.exports import ExportDef, SlotBinding

from ..mm.fault import native_write_cr0_model

X86_EFLAGS_IF = 0x200


class CpuState:
    """Privileged CPU state that pv_ops model."""

    def __init__(self, k):
        self.irq_flags = X86_EFLAGS_IF


def _irq_save_fl(k):
    return k.model(CpuState).irq_flags


def _irq_disable(k):
    k.model(CpuState).irq_flags = 0


def _irq_enable(k):
    k.model(CpuState).irq_flags = X86_EFLAGS_IF


def _read_cr0(k):
    return k.machine.cr0()


def _write_cr0(k, value):
    native_write_cr0_model(k, value)


def _zero(k, *args):
    return 0


_OPS = {
    "irq.save_fl": ("unsigned long pv_save_fl(void)", _irq_save_fl),
    "irq.irq_disable": ("void pv_irq_disable(void)", _irq_disable),
    "irq.irq_enable": ("void pv_irq_enable(void)", _irq_enable),
    "cpu.read_cr0": ("unsigned long pv_read_cr0(void)", _read_cr0),
    "cpu.write_cr0": ("void pv_write_cr0(unsigned long value)", _write_cr0),
}


@data("struct paravirt_patch_template pv_ops")
def pv_ops(k, addr):
    for index, op in k.target.paravirt_ops().items():
        proto_text, fn = _OPS.get(op, (f"unsigned long pv_{op.replace('.', '_')}(void)", _zero))
        defn = ExportDef(f"pv_ops.{op}", "func", fn, _proto=parse_prototype(proto_text),
                         origin=__name__)
        k.machine.write_u64(addr + 8 * index, k.machine.add_slot(defn.name, SlotBinding(defn, k)))
