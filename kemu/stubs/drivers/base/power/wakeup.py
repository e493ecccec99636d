"""drivers/base/power/wakeup.c: a device's wakeup capability and wakeup source.

``device_set_wakeup_capable`` sets ``dev->power.can_wakeup`` (the bitfield
the inline ``device_can_wakeup`` reads); ``device_wakeup_enable`` refuses an
incapable device (-EINVAL) and one already enabled (-EEXIST), and attaches a
wakeup source (``dev->power.wakeup``, what ``device_may_wakeup`` tests);
``device_wakeup_disable`` detaches and frees it, as ``device_del`` does for
a device that still has one.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import kfree, kzalloc, rd, wr

members("struct device", "power", "power.can_wakeup", "power.wakeup")


def _can(k, dev) -> bool:
    bit, _bits = k.target.bitfield("device.power.can_wakeup")
    return bool(k.machine.read_u8(dev + bit // 8) >> (bit % 8) & 1)


def _set_can(k, dev, on: bool) -> None:
    bit, _bits = k.target.bitfield("device.power.can_wakeup")
    addr, mask = dev + bit // 8, 1 << (bit % 8)
    raw = k.machine.read_u8(addr)
    k.machine.write_u8(addr, (raw | mask) if on else (raw & ~mask))


def wakeup_disable(k, dev) -> int:
    """device_wakeup_disable(): 0, or -EINVAL for an incapable device."""
    if not dev or not _can(k, dev):
        return -errno.EINVAL
    ws = rd(k, dev, "device.power.wakeup")
    if ws:
        wr(k, dev, "device.power.wakeup", 0)
        kfree(k, ws)
    return 0


@export("void device_set_wakeup_capable(struct device *dev, bool capable)")
def device_set_wakeup_capable(k, dev, capable):
    _set_can(k, dev, bool(capable))


@export("int device_wakeup_enable(struct device *dev)")
def device_wakeup_enable(k, dev):
    if not dev or not _can(k, dev):
        return -errno.EINVAL
    if rd(k, dev, "device.power.wakeup"):
        return -errno.EEXIST
    wr(k, dev, "device.power.wakeup", kzalloc(k, 256, "wakeup_source"))
    return 0


@export("int device_wakeup_disable(struct device *dev)")
def device_wakeup_disable(k, dev):
    return wakeup_disable(k, dev)


@export("int device_set_wakeup_enable(struct device *dev, bool enable)")
def device_set_wakeup_enable(k, dev, enable):
    return device_wakeup_enable(k, dev) if enable else wakeup_disable(k, dev)


@export("void pm_wakeup_dev_event(struct device *dev, unsigned int msec, bool hard)")
def pm_wakeup_dev_event(k, dev, msec, hard):
    """A wakeup event: nothing is suspending in kemu, so there is nothing to abort."""
