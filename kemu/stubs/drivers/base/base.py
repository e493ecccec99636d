"""drivers/base/base.h: what the files of the driver core share, so that none of
them imports another one's internals: a device's name, its kobject, references,
and dev_driver_string().

Left out: struct subsys_private and the bus/class private helpers (bus.py and
class_.py keep their own records).
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, rd
from ...lib import kobject as ko

members("struct class", "name")
members("struct device", "kobj", "init_name", "bus", "driver", "class")
# device model, buses (stubs/drivers)
members("struct device_driver", "name", "of_match_table", "acpi_match_table", "sync_state",
        "shutdown", "suspend", "resume", "dev_groups", "coredump")
members("struct bus_type", "name")


class _EmptyString:
    """The "" dev_driver_string() returns for a device without driver, bus or class."""

    def __init__(self, k):
        self.addr = k.machine.alloc_kdata(1, 1)


def dev_name(k, dev) -> str:
    """dev_name(): init_name until the device is added, else the kobject name."""
    init_name = rd(k, dev, "device.init_name")
    if init_name:
        return cstr(k, init_name, 256)
    return cstr(k, rd(k, dev + k.target.offset("device.kobj"), "kobject.name"), 256)


def _kobj(k, dev):
    """&dev->kobj."""
    return dev + k.target.offset("device.kobj")


@export("struct device *get_device(struct device *dev)")
def get_device(k, dev):
    if dev:
        ko.get(k, _kobj(k, dev))
    return dev


@export("const char *dev_driver_string(const struct device *dev)")
def dev_driver_string(k, dev):
    """drv->name, else dev_bus_name(): the bus's name, the class's, or ""."""
    drv = rd(k, dev, "device.driver")
    if drv:
        return rd(k, drv, "device_driver.name")
    bus = rd(k, dev, "device.bus")
    if bus:
        return rd(k, bus, "bus_type.name")
    cls = rd(k, dev, "device.class")
    if cls:
        return rd(k, cls, "class.name")
    return k.model(_EmptyString).addr


def dev_driver_string_of(k, dev) -> str:
    """dev_driver_string() as text."""
    return cstr(k, dev_driver_string(k, dev), 256)
