"""arch/x86/kernel/fpu/core.c: kernel_fpu_begin_mask()/kernel_fpu_end().

Kernel FPU sections disable preemption (__preempt_count); kemu has one task
and saves no user FPU state. A kernel_fpu_end() without a begin, or a begin
inside a begin, is a finding (the kernel WARNs under CONFIG_X86_DEBUG_FPU).
"""
from kemu import export


class KernelFpu:
    def __init__(self, k):
        self.depth = 0


def _preempt_count_add(k, delta):
    m = k.machine
    try:
        addr = m.percpu_addr + k.export_addr("__preempt_count")
    except KeyError:
        return
    m.write_u32(addr, m.read_u32(addr) + delta)


@export("void kernel_fpu_begin_mask(unsigned int kfpu_mask)")
def kernel_fpu_begin_mask(k, kfpu_mask):
    _preempt_count_add(k, 1)
    fpu = k.model(KernelFpu)
    if fpu.depth:
        k.finding("fpu", "kernel_fpu_begin_mask() inside a kernel FPU section", k.current_module())
    fpu.depth += 1


@export("void kernel_fpu_end(void)")
def kernel_fpu_end(k):
    fpu = k.model(KernelFpu)
    if not fpu.depth:
        k.finding("fpu", "kernel_fpu_end() without kernel_fpu_begin()", k.current_module())
        return
    fpu.depth -= 1
    _preempt_count_add(k, -1)


@export("bool irq_fpu_usable(void)")
def irq_fpu_usable(k):
    return True
