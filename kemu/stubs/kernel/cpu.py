"""kernel/cpu.c: the online CPU count (kemu's machine has one CPU)."""
from kemu import data

from ..arch.x86.kernel.percpu import NR_CPUS_EMULATED


@data("atomic_t __num_online_cpus")
def __num_online_cpus(k, addr):
    k.machine.write_u32(addr, NR_CPUS_EMULATED)
