"""drivers/pnp/driver.c: PnP drivers on ``pnp_bus_type``, without PnP devices.

``pnp_register_driver`` fills in the embedded driver (name, bus) and
registers it (the driver core's checks apply). kemu's machine enumerates no
PnP device (its ACPI namespace is empty), so no probe runs;
``pnp_get_resource`` needs a device: link-only.
"""
from __future__ import annotations

import errno

from kemu import export

from ...fs.internal import rd, wr
from ..base.bus import builtin_bus
from ..base.link_only import link_only


def _no_match(k, dev, drv):
    return False


def _no_probe(k, dev, drv):
    return -errno.ENODEV
    yield


def _no_remove(k, dev, drv):
    return 0
    yield


class PnpBusType:
    """pnp_bus_type (kernel data Linux does not export)."""

    def __init__(self, k):
        self.addr = k.machine.alloc_kdata(k.target.sizeof("bus_type"), 8)
        name = k.machine.alloc_kdata(8, 1)
        k.machine.write(name, b"pnp\0")
        wr(k, self.addr, "bus_type.name", name)
        wr(k, self.addr, "bus_type.p", k.machine.alloc_kdata(64, 8))


builtin_bus("pnp", _no_match, _no_probe, _no_remove, addr=lambda k: k.model(PnpBusType).addr)


@export("int pnp_register_driver(struct pnp_driver *drv)")
def pnp_register_driver(k, drv):
    from ..base.bus import driver_register_gen
    d = drv + k.target.offset("pnp_driver.driver")
    wr(k, d, "device_driver.name", rd(k, drv, "pnp_driver.name"))
    wr(k, d, "device_driver.bus", k.model(PnpBusType).addr)
    return (yield from driver_register_gen(k, d))


@export("void pnp_unregister_driver(struct pnp_driver *drv)")
def pnp_unregister_driver(k, drv):
    from ..base.bus import driver_unregister_gen
    yield from driver_unregister_gen(k, drv + k.target.offset("pnp_driver.driver"))


link_only("struct resource *pnp_get_resource(struct pnp_dev *dev, unsigned long type, "
          "unsigned int num)", 0, "kemu's machine enumerates no PnP device")
