"""kernel/irq/irqdesc.c (descriptor allocation) and chip.c's __irq_set_handler.

Descriptors are allocated as the sparse-IRQ kernel does: ``__irq_alloc_descs``
takes the first free run of ``cnt`` numbers at or above ``from`` (for a free
allocation, at or above x86's dynamic lower bound, the first number past the
I/O APIC's GSIs), -EEXIST when a requested number is taken, -EINVAL for a
zero count or ``from`` above the requested number. The legacy lines 0-15 are
allocated from boot (kernel/irq/manage.py models their actions). An
allocated descriptor can be requested like any line; ``__irq_set_handler``
records the flow handler (it is never run: no interrupt fires).
``irq_free_descs`` frees them; descriptors a module still owns after its
exit are reported. Not modelled: irq_chip callbacks, affinity, the
/proc/irq and /sys/kernel/irq entries of new descriptors.
"""
from __future__ import annotations

import errno

from kemu import export

from kemu.abi.toolkit import cstr, owner_of
from .manage import Desc, Irqs

# arch_dynirq_lower_bound(): gsi_top of the one 24-pin I/O APIC of a PC (qemu's q35/i440fx)
IOAPIC_GSI_TOP = 24
IRQ_BITMAP_BITS = 8192 + 8196          # NR_IRQS (CONFIG_MAXSMP-less x86_64) + 8196, sparse


def _free_run(irqs: Irqs, start: int, cnt: int) -> int:
    """bitmap_find_next_zero_area(allocated_irqs, ..., start, cnt, 0)."""
    while start + cnt <= IRQ_BITMAP_BITS:
        taken = [i for i in range(start, start + cnt) if i in irqs.descs]
        if not taken:
            return start
        start = taken[-1] + 1
    return start


@export("int __irq_alloc_descs(int irq, unsigned int from, unsigned int cnt, int node, "
        "struct module *owner, const struct irq_affinity_desc *affinity)")
def __irq_alloc_descs(k, irq, from_, cnt, node, owner, affinity):
    if not cnt:
        return -errno.EINVAL
    if irq >= 0:
        if from_ > irq:
            return -errno.EINVAL
        from_ = irq
    else:
        from_ = max(from_, IOAPIC_GSI_TOP)
    irqs = k.model(Irqs)
    start = _free_run(irqs, from_, cnt)
    if irq >= 0 and start != irq:
        return -errno.EEXIST
    if start + cnt > IRQ_BITMAP_BITS:
        return -errno.ENOMEM                     # irq_expand_nr_irqs()
    mod = owner_of(k, owner)
    for i in range(start, start + cnt):
        irqs.descs[i] = Desc(i)
        k.register("irq desc", i, mod, f"irq descriptor {i}")
    return start


@export("void irq_free_descs(unsigned int irq, unsigned int cnt)")
def irq_free_descs(k, irq, cnt):
    irqs = k.model(Irqs)
    for i in [i for i in sorted(irqs.descs) if irq <= i < irq + cnt]:   # the allocated ones
        if k.unregister("irq desc", i) is not None:
            del irqs.descs[i]


@export("void __irq_set_handler(unsigned int irq, void (*handle)(struct irq_desc *desc), "
        "int is_chained, "
        "const char *name)")
def __irq_set_handler(k, irq, handle, is_chained, name):
    desc = k.model(Irqs).desc(irq)
    if desc is None:
        return                                   # irq_get_desc_buslock() found none
    desc.handler, desc.chained = handle, bool(handle and is_chained)
    desc.handler_name = cstr(k, name, 64) if name else ""
