"""drivers/spi/spi.c: SPI drivers on ``spi_bus_type``, without SPI controllers.

``__spi_register_driver`` registers the embedded driver on the SPI bus. kemu's
machine has no SPI controller, so no SPI device exists and no probe runs;
``spi_get_device_id`` is the kernel's name match (on a device's modalias).
Transfers and device creation need a controller: link-only (a
``not-modelled`` finding, -ENODEV).
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import wr
from ..base.bus import deviceless_bus
from kemu.abi.exports import link_only

# device model, buses (stubs/drivers)
members("struct device_driver", "bus", "owner")
members("struct spi_driver", "driver", "id_table", "probe", "remove", "shutdown")

_WHY = "kemu's machine has no SPI controller, so no SPI device exists"


deviceless_bus("spi", _WHY, "spi_match_device")


@export("int __spi_register_driver(struct module *owner, struct spi_driver *sdrv)", fails="-ENOMEM")
def __spi_register_driver(k, owner, sdrv):
    from ..base.bus import driver_register_gen
    d = sdrv + k.target.offset("spi_driver.driver")
    wr(k, d, "device_driver.owner", owner)
    wr(k, d, "device_driver.bus", k.export_addr("spi_bus_type"))
    return (yield from driver_register_gen(k, d))


_ENODEV = -errno.ENODEV
for _proto, _res in (
        ("int spi_sync(struct spi_device *spi, struct spi_message *message)", _ENODEV),
        ("int spi_sync_locked(struct spi_device *spi, struct spi_message *message)", _ENODEV),
        ("int spi_async(struct spi_device *spi, struct spi_message *message)", _ENODEV),
        ("int spi_write_then_read(struct spi_device *spi, const void *txbuf, unsigned n_tx, "
         "void *rxbuf, unsigned n_rx)", _ENODEV),
        ("int spi_setup(struct spi_device *spi)", _ENODEV),
        ("int spi_bus_lock(struct spi_controller *ctlr)", 0),
        ("int spi_bus_unlock(struct spi_controller *ctlr)", 0),
        ("const struct spi_device_id *spi_get_device_id(const struct spi_device *sdev)", 0),
        ("int spi_add_device(struct spi_device *spi)", _ENODEV),
        ("void spi_unregister_device(struct spi_device *spi)", None),
        ("struct spi_device *spi_new_device(struct spi_controller *ctlr, "
         "struct spi_board_info *chip)", 0),
):
    link_only(_proto, _res, _WHY)
