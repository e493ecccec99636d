"""kernel/irq/chip.c, irqdesc.c, irqdomain.c, generic-chip.c: interrupt chips and domains.

Interrupt controllers (GPIO expanders, PMIC irqchips) are set up by a probe
on hardware kemu's machine does not have, and flow handlers run only when an
interrupt fires, which never happens in kemu: these are link-only (a
``not-modelled`` finding and the kernel's failure for an unknown interrupt).
``irq_domain_simple_ops`` is the kernel's const ops table (its callbacks are
not modelled; a domain is never created). ``irq_set_irq_type`` on one of the
legacy lines kemu models answers 0 (the trigger is kept by the chip kemu does
not have).
"""
from __future__ import annotations

import errno

from kemu import data, export

from kemu.abi.exports import link_only

_WHY = "kemu's machine has no interrupt controller besides the legacy lines, and no IRQ fires"


@data("const struct irq_domain_ops irq_domain_simple_ops", size=128)
def irq_domain_simple_ops(k, addr):
    """Zeroed: irq_domain_xlate_onetwocell is not modelled (no domain is ever created)."""


@export("int irq_set_irq_type(unsigned int irq, unsigned int type)")
def irq_set_irq_type(k, irq, type_):
    from .manage import Irqs
    return 0 if k.model(Irqs).desc(irq) is not None else -errno.EINVAL


for _p, _r in (
        ("void handle_edge_irq(struct irq_desc *desc)", None),
        ("void handle_level_irq(struct irq_desc *desc)", None),
        ("void handle_simple_irq(struct irq_desc *desc)", None),
        ("void handle_nested_irq(unsigned int irq)", None),
        ("int generic_handle_irq(unsigned int irq)", -errno.EINVAL),
        ("int generic_handle_domain_irq(struct irq_domain *domain, unsigned int hwirq)",
         -errno.EINVAL),
        ("void irq_modify_status(unsigned int irq, unsigned long clr, unsigned long set)", None),
        ("int irq_set_chip(unsigned int irq, const struct irq_chip *chip)", -errno.EINVAL),
        ("int irq_set_chip_data(unsigned int irq, void *data)", -errno.EINVAL),
        ("void irq_set_chip_and_handler_name(unsigned int irq, const struct irq_chip *chip, "
         "void (*handle)(struct irq_desc *desc), const char *name)", None),
        ("struct irq_data *irq_get_irq_data(unsigned int irq)", 0),
        ("int __devm_irq_alloc_descs(struct device *dev, int irq, unsigned int from, "
         "unsigned int cnt, int node, struct module *owner, const struct irq_affinity_desc "
         "*affinity)", -errno.ENOMEM),
        ("unsigned int irq_create_mapping_affinity(struct irq_domain *domain, "
         "unsigned long hwirq, const struct irq_affinity_desc *affinity)", 0),
        ("void irq_domain_remove(struct irq_domain *domain)", None),
        ("void irq_domain_update_bus_token(struct irq_domain *domain, "
         "enum irq_domain_bus_token bus_token)", None),
        ("struct irq_domain *irq_find_matching_fwspec(struct irq_fwspec *fwspec, "
         "enum irq_domain_bus_token bus_token)", 0),
        ("struct irq_chip_generic *devm_irq_alloc_generic_chip(struct device *dev, "
         "const char *name, int num_ct, unsigned int irq_base, void *reg_base, "
         "void (*handler)(struct irq_desc *desc))", 0),
        ("int devm_irq_setup_generic_chip(struct device *dev, struct irq_chip_generic *gc, "
         "u32 msk, enum irq_gc_flags flags, unsigned int clr, unsigned int set)", -errno.ENOMEM),
):
    link_only(_p, _r, _WHY)
