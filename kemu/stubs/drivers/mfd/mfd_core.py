"""drivers/mfd/mfd-core.c: multi-function device cells, for linking.

MFD cells are added by a parent device's probe; kemu's machine has no such
device: link-only (a ``not-modelled`` finding, -ENODEV).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only

_WHY = "MFD cells are added by probes on devices kemu's machine does not have"
for _p, _r in (
        ("int mfd_add_devices(struct device *parent, int id, const struct mfd_cell *cells, "
         "int n_devs, struct resource *mem_base, int irq_base, struct irq_domain *irq_domain)",
         -errno.ENODEV),
        ("int devm_mfd_add_devices(struct device *dev, int id, const struct mfd_cell *cells, "
         "int n_devs, struct resource *mem_base, int irq_base, struct irq_domain *irq_domain)",
         -errno.ENODEV),
        ("void mfd_remove_devices(struct device *parent)", None),
):
    link_only(_p, _r, _WHY)
