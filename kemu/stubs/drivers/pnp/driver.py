"""drivers/pnp/driver.c: PnP drivers on ``pnp_bus_type``, without PnP devices.

``pnp_register_driver`` fills in the embedded driver (name, bus) and
registers it (the driver core's checks apply). kemu's machine enumerates no
PnP device (its ACPI namespace is empty), so no probe runs;
``pnp_get_resource`` needs a device: link-only.
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, wr
from ..base.bus import deviceless_bus
from kemu.abi.exports import link_only

# device model, buses (stubs/drivers)
members("struct device_driver", "name", "bus")
members("struct pnp_driver", "name", "driver", "id_table", "flags", "probe", "remove")


# pnp_bus_type: kernel data Linux does not export
pnp_bus_type = deviceless_bus("pnp", exported=False)


@export("int pnp_register_driver(struct pnp_driver *drv)")
def pnp_register_driver(k, drv):
    from ..base.bus import driver_register_gen
    d = drv + k.target.offset("pnp_driver.driver")
    wr(k, d, "device_driver.name", rd(k, drv, "pnp_driver.name"))
    wr(k, d, "device_driver.bus", pnp_bus_type(k))
    return (yield from driver_register_gen(k, d))


@export("void pnp_unregister_driver(struct pnp_driver *drv)")
def pnp_unregister_driver(k, drv):
    from ..base.bus import driver_unregister_gen
    yield from driver_unregister_gen(k, drv + k.target.offset("pnp_driver.driver"))


link_only("struct resource *pnp_get_resource(struct pnp_dev *dev, unsigned long type, "
          "unsigned int num)", 0, "kemu's machine enumerates no PnP device")
