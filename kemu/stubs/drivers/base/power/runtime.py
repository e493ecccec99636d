"""drivers/base/power/runtime.c: runtime power management of devices.

The state lives where the header's inline helpers read it: ``dev->power``'s
``usage_count``, ``runtime_status``, ``disable_depth`` (a bitfield) and
``runtime_error``. ``pm_runtime_init`` (from ``device_initialize``) leaves a
device disabled (depth 1) and suspended. ``__pm_runtime_resume`` /
``__pm_runtime_suspend`` / ``__pm_runtime_idle`` apply RPM_GET_PUT to the
usage count and, with runtime PM enabled, run the driver's (else the
type's, class's or bus's... kemu: the driver's and the type's)
``runtime_resume`` / ``runtime_suspend`` / ``runtime_idle`` callbacks in
emulation, as rpm_resume/rpm_suspend/rpm_idle do synchronously. Disabled
devices answer -EACCES (1 when already active), as the kernel does.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.kernel.log import KERN_DEBUG

from kemu.abi.toolkit import rd, s32, wr


def _c(k, name):
    return k.target.const(name)


def _depth(k, dev) -> int:
    bit, bits = k.target.bitfield("device.power.disable_depth")
    addr = dev + bit // 8
    shift = bit % 8
    return (k.machine.read_u16(addr) >> shift) & ((1 << bits) - 1)


def _set_depth(k, dev, value) -> None:
    bit, bits = k.target.bitfield("device.power.disable_depth")
    addr = dev + bit // 8
    shift = bit % 8
    mask = ((1 << bits) - 1) << shift
    raw = k.machine.read_u16(addr)
    k.machine.write_u16(addr, (raw & ~mask) | ((value << shift) & mask))


def _usage(k, dev) -> int:
    return s32(rd(k, dev, "device.power.usage_count", 4))


def _set_usage(k, dev, v) -> None:
    wr(k, dev, "device.power.usage_count", v & 0xFFFFFFFF, 4)


def _status(k, dev) -> int:
    return s32(rd(k, dev, "device.power.runtime_status", 4))


def _set_status(k, dev, v) -> None:
    wr(k, dev, "device.power.runtime_status", v & 0xFFFFFFFF, 4)


def pm_runtime_init(k, dev) -> None:
    """pm_runtime_init(): suspended, disabled once, no users."""
    _set_status(k, dev, _c(k, "RPM_SUSPENDED"))
    _set_depth(k, dev, 1)
    _set_usage(k, dev, 0)


def _callback(k, dev, which: str) -> int:
    """The runtime PM callback: dev->driver->pm, else dev->type->pm."""
    drv = rd(k, dev, "device.driver")
    for holder, member in ((rd(k, dev, "device.type"), "device_type.pm"),
                           (drv, "device_driver.pm")):
        if holder:
            pm = rd(k, holder, member)
            if pm and rd(k, pm, f"dev_pm_ops.{which}"):
                return rd(k, pm, f"dev_pm_ops.{which}")
    return 0


def rpm_resume(k, dev):
    """rpm_resume() (synchronous): 1 if already active, 0, or -errno (generator)."""
    if rd(k, dev, "device.power.runtime_error", 4):
        return -errno.EINVAL
    if _status(k, dev) == _c(k, "RPM_ACTIVE"):
        return 1
    if _depth(k, dev) > 0:
        return -errno.EACCES
    fn = _callback(k, dev, "runtime_resume")
    ret = s32((yield k.call_request(fn, dev))) if fn else 0
    if ret:
        _set_status(k, dev, _c(k, "RPM_SUSPENDED"))
        if ret not in (-errno.EAGAIN, -errno.EBUSY):
            wr(k, dev, "device.power.runtime_error", ret & 0xFFFFFFFF, 4)
        return ret
    _set_status(k, dev, _c(k, "RPM_ACTIVE"))
    return 0


def rpm_suspend(k, dev):
    """rpm_suspend() (synchronous): 0 or -errno (generator)."""
    if rd(k, dev, "device.power.runtime_error", 4):
        return -errno.EINVAL
    if _status(k, dev) == _c(k, "RPM_SUSPENDED"):
        return 1
    if _depth(k, dev) > 0:
        return -errno.EACCES
    if _usage(k, dev) > 0:
        return -errno.EAGAIN
    fn = _callback(k, dev, "runtime_suspend")
    ret = s32((yield k.call_request(fn, dev))) if fn else 0
    if ret:
        if ret not in (-errno.EAGAIN, -errno.EBUSY):
            wr(k, dev, "device.power.runtime_error", ret & 0xFFFFFFFF, 4)
        return ret
    _set_status(k, dev, _c(k, "RPM_SUSPENDED"))
    return 0


def rpm_idle(k, dev):
    """rpm_idle(): the idle callback, then suspend (generator)."""
    if rd(k, dev, "device.power.runtime_error", 4):
        return -errno.EINVAL
    if _usage(k, dev) > 0:
        return -errno.EAGAIN
    if _depth(k, dev) > 0:
        return -errno.EACCES
    if _status(k, dev) != _c(k, "RPM_ACTIVE"):
        return -errno.EAGAIN
    fn = _callback(k, dev, "runtime_idle")
    ret = s32((yield k.call_request(fn, dev))) if fn else 0
    if ret:
        return ret
    return (yield from rpm_suspend(k, dev))


def _put(k, dev) -> bool:
    """atomic_dec_and_test(usage_count), warning on underflow like rpm_drop_usage_count."""
    n = _usage(k, dev) - 1
    if n < 0:
        _set_usage(k, dev, 0)
        from ....lib.kemu_warn import warn
        warn(k, "drivers/base/power/runtime.c:1062", "__pm_runtime_idle+0x8e/0xa0",
             "Runtime PM usage count underflow!")
        return False
    _set_usage(k, dev, n)
    return n == 0


@export("int __pm_runtime_resume(struct device *dev, int rpmflags)")
def __pm_runtime_resume(k, dev, rpmflags):
    if rpmflags & _c(k, "RPM_GET_PUT"):
        _set_usage(k, dev, _usage(k, dev) + 1)
    return (yield from rpm_resume(k, dev))


@export("int __pm_runtime_suspend(struct device *dev, int rpmflags)")
def __pm_runtime_suspend(k, dev, rpmflags):
    if rpmflags & _c(k, "RPM_GET_PUT") and not _put(k, dev):
        return 0
    return (yield from rpm_suspend(k, dev))


@export("int __pm_runtime_idle(struct device *dev, int rpmflags)")
def __pm_runtime_idle(k, dev, rpmflags):
    if rpmflags & _c(k, "RPM_GET_PUT") and not _put(k, dev):
        return 0
    return (yield from rpm_idle(k, dev))


@export("int __pm_runtime_set_status(struct device *dev, unsigned int status)")
def __pm_runtime_set_status(k, dev, status):
    if status not in (_c(k, "RPM_ACTIVE"), _c(k, "RPM_SUSPENDED")):
        return -errno.EINVAL
    if _depth(k, dev) == 0:
        return -errno.EAGAIN
    wr(k, dev, "device.power.runtime_error", 0, 4)
    _set_status(k, dev, status)
    return 0


@export("void pm_runtime_enable(struct device *dev)")
def pm_runtime_enable(k, dev):
    from ..dev_printk import dev_emit
    depth = _depth(k, dev)
    if depth:
        _set_depth(k, dev, depth - 1)
    else:
        dev_emit(k, KERN_DEBUG, dev, b"Unbalanced pm_runtime_enable!\n")


@export("void __pm_runtime_disable(struct device *dev, bool check_resume)")
def __pm_runtime_disable(k, dev, check_resume):
    depth = _depth(k, dev)
    if depth:
        _set_depth(k, dev, min(depth + 1, 7))
        return
    if check_resume and _status(k, dev) != _c(k, "RPM_ACTIVE") and _usage(k, dev) > 0:
        yield from rpm_resume(k, dev)
    _set_depth(k, dev, 1)


@export("void pm_runtime_forbid(struct device *dev)")
def pm_runtime_forbid(k, dev):
    _set_usage(k, dev, _usage(k, dev) + 1)
    yield from rpm_resume(k, dev)


@export("void pm_runtime_allow(struct device *dev)")
def pm_runtime_allow(k, dev):
    if _put(k, dev):
        yield from rpm_idle(k, dev)


@export("void pm_runtime_set_autosuspend_delay(struct device *dev, int delay)")
def pm_runtime_set_autosuspend_delay(k, dev, delay):
    """The delay is kept by the kernel only for later autosuspends; kemu has none pending."""


@export("void __pm_runtime_use_autosuspend(struct device *dev, bool use)")
def __pm_runtime_use_autosuspend(k, dev, use):
    """See pm_runtime_set_autosuspend_delay."""


@export("void pm_runtime_irq_safe(struct device *dev)")
def pm_runtime_irq_safe(k, dev):
    """Callbacks run synchronously in kemu already."""


@export("void pm_runtime_no_callbacks(struct device *dev)")
def pm_runtime_no_callbacks(k, dev):
    """kemu finds callbacks by looking; none is called for a device without them."""


@export("int pm_runtime_barrier(struct device *dev)")
def pm_runtime_barrier(k, dev):
    return 0


@export("int pm_runtime_get_if_active(struct device *dev, bool ign_usage_count)")
def pm_runtime_get_if_active(k, dev, ign_usage_count):
    if _depth(k, dev) > 0:
        return -errno.EINVAL
    if _status(k, dev) != _c(k, "RPM_ACTIVE"):
        return 0
    if ign_usage_count:
        _set_usage(k, dev, _usage(k, dev) + 1)
        return 1
    if _usage(k, dev) > 0:
        _set_usage(k, dev, _usage(k, dev) + 1)
        return 1
    return 0


@export("int pm_schedule_suspend(struct device *dev, unsigned int delay)")
def pm_schedule_suspend(k, dev, delay):
    """kemu has no PM timer: the suspend is attempted now (a deviation for delay > 0)."""
    if delay:
        k.note("pm_schedule_suspend: kemu suspends at once instead of after the delay")
    ret = yield from rpm_suspend(k, dev)
    return 0 if ret == 1 else ret


from kemu.abi.exports import link_only  # noqa: E402

members("struct device", "type", "driver", "power", "power.usage_count",
        "power.runtime_status", "power.disable_depth", "power.runtime_error", "pm_domain")
members("struct device_type", "pm")
# device model, buses (stubs/drivers)
members("struct device_driver", "pm")
members("struct dev_pm_ops", "runtime_suspend", "runtime_resume", "runtime_idle")

for _p in ("int pm_runtime_force_suspend(struct device *dev)",
           "int pm_runtime_force_resume(struct device *dev)"):
    link_only(_p, -errno.ENODEV, "system sleep transitions are not driven by kemu")

# drivers/base/power/qos.c: per-device PM QoS requests, only made on devices being probed
for _p, _r in (
        ("int dev_pm_qos_add_request(struct device *dev, struct dev_pm_qos_request *req, "
         "enum dev_pm_qos_req_type type, s32 value)", -errno.ENODEV),
        ("int dev_pm_qos_remove_request(struct dev_pm_qos_request *req)", -errno.EINVAL),
        ("int dev_pm_qos_expose_flags(struct device *dev, s32 value)", -errno.ENODEV),
        ("enum pm_qos_flags_status dev_pm_qos_flags(struct device *dev, s32 mask)", -1),
):
    link_only(_p, _r, "kemu does not model device PM QoS")


@export("void dev_pm_domain_set(struct device *dev, struct dev_pm_domain *pd)")
def dev_pm_domain_set(k, dev, pd):
    """Attach (or detach) a PM domain: dev->pm_domain = pd."""
    wr(k, dev, "device.pm_domain", pd)
