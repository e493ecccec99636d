"""drivers/base/platform.c: the platform bus, its devices and drivers.

Platform devices live below /sys/devices/platform, named ``NAME`` (id -1),
``NAME.ID`` or ``NAME.N.auto`` (PLATFORM_DEVID_AUTO, ids from an IDA); their
resources are claimed in ``iomem_resource``/``ioport_resource`` at
``platform_device_add`` ("failed to claim resource") and released at
``platform_device_del``. ``platform_match`` compares ``driver_override``,
then the driver's ``id_table``, then the names; a match is probed through
``drv->probe`` in emulation (a module registering both a device and its
driver gets it probed, as in Linux). No platform device exists otherwise.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_ERR, KERN_WARNING
from kemu.abi.exports import members

from kemu.abi.toolkit import (cstr, err_ptr, is_err, kfree, kzalloc, rd, s32, static, static_addr,
                              wr)
from .bus import builtin_bus, init_bus_type

members("struct device", "kobj", "parent", "bus", "platform_data", "release", "dma_mask",
        "coherent_dma_mask")
# device model, buses (stubs/drivers)
members("struct device_driver", "name", "bus", "owner", "suppress_bind_attrs", "probe_type")
members("struct bus_type", "name", "p")
members("struct platform_driver", "probe", "remove", "remove_new", "driver", "id_table",
        "prevent_deferred_probe", "shutdown")
members("struct platform_device", "name", "id", "id_auto", "dev", "platform_dma_mask",
        "num_resources", "resource", "id_entry", "driver_override", "mfd_cell")
members("struct platform_device_id", "name", "driver_data")
members("struct resource", "start", "end", "name", "flags", "parent")
members("struct platform_device_info", "parent", "fwnode", "of_node_reused", "name", "id",
        "res", "num_res", "data", "size_data", "dma_mask", "properties")

DMA_BIT_MASK_32 = 0xFFFFFFFF


def _pdev(k, dev):
    return dev - k.target.offset("platform_device.dev")


def _pdrv(k, drv):
    return drv - k.target.offset("platform_driver.driver")


def platform_match_id(k, table, pdev) -> int:
    """The platform_device_id entry naming pdev, or 0 (the table ends with an empty name)."""
    t = k.target
    size = t.sizeof("platform_device_id")
    name = cstr(k, rd(k, pdev, "platform_device.name"), 256)
    while table and k.machine.read_u8(table + t.offset("platform_device_id.name")):
        if cstr(k, table + t.offset("platform_device_id.name"),
                t.const("PLATFORM_NAME_SIZE")) == name:
            return table
        table += size
    return 0


def platform_match(k, dev, drv) -> bool:
    pdev = _pdev(k, dev)
    pdrv = _pdrv(k, drv)
    override = rd(k, pdev, "platform_device.driver_override")
    if override:
        return cstr(k, override, 256) == cstr(k, rd(k, drv, "device_driver.name"), 256)
    table = rd(k, pdrv, "platform_driver.id_table")
    if table:
        hit = platform_match_id(k, table, pdev)
        if hit:
            wr(k, pdev, "platform_device.id_entry", hit)
        return bool(hit)
    return cstr(k, rd(k, pdev, "platform_device.name"), 256) == \
        cstr(k, rd(k, drv, "device_driver.name"), 256)


def platform_probe(k, dev, drv):
    from .dev_printk import dev_emit
    pdrv = _pdrv(k, drv)
    probe = rd(k, pdrv, "platform_driver.probe")
    ret = s32((yield k.call_request(probe, _pdev(k, dev)))) if probe else 0
    if rd(k, pdrv, "platform_driver.prevent_deferred_probe", 1) and ret == -517:
        dev_emit(k, KERN_WARNING, dev, b"probe deferral not supported\n")
        ret = -errno.ENXIO
    return ret


def platform_remove(k, dev, drv):
    from .dev_printk import dev_emit
    pdrv = _pdrv(k, drv)
    remove_new = rd(k, pdrv, "platform_driver.remove_new")
    remove = rd(k, pdrv, "platform_driver.remove")
    if remove_new:
        yield k.call_request(remove_new, _pdev(k, dev))
    elif remove:
        ret = s32((yield k.call_request(remove, _pdev(k, dev))))
        if ret:
            dev_emit(k, KERN_WARNING, dev, b"remove callback returned a non-zero value. This will be "
                                b"ignored.\n")
    return 0


builtin_bus("platform", platform_match, platform_probe, platform_remove)


@data("struct device platform_bus")
def platform_bus(k, addr):
    """The root of /sys/devices/platform (its kobject is not modelled: a device a module adds
    with it as parent goes under /devices)."""


@data("struct bus_type platform_bus_type")
def platform_bus_type(k, addr):
    init_bus_type(k, addr, "platform")


class Platform:
    """The /devices/platform parent device and the auto-id IDA."""

    def __init__(self, k):
        from .core import Dev, Devices, initialize
        from ...fs.sysfs import Node, Sysfs
        from ...lib import kobject as ko
        self.k = k
        self.auto_ids: set[int] = set()
        dev = self.bus_dev = k.machine.alloc_kdata(k.target.sizeof("device"), 8)
        initialize(k, dev)
        ko.set_name(k, dev + k.target.offset("device.kobj"), "platform")
        rec = Dev(dev)
        rec.path = "/devices/platform"
        k.model(Devices).added[dev] = rec
        objs = k.model(ko.KObjects).objs
        objs[dev + k.target.offset("device.kobj")].path = rec.path
        objs[dev + k.target.offset("device.kobj")].in_sysfs = True
        k.model(Sysfs).nodes[rec.path] = Node(rec.path, "dir", None)


# ------------------------------------------------------------ drivers
@export("int __platform_driver_register(struct platform_driver *drv, struct module *owner)", fails="-ENOMEM")
def __platform_driver_register(k, drv, owner):
    from .bus import driver_register_gen
    d = drv + k.target.offset("platform_driver.driver")
    wr(k, d, "device_driver.owner", owner)
    wr(k, d, "device_driver.bus", k.export_addr("platform_bus_type"))
    return (yield from driver_register_gen(k, d))


@export("void platform_driver_unregister(struct platform_driver *drv)")
def platform_driver_unregister(k, drv):
    from .bus import driver_unregister_gen
    yield from driver_unregister_gen(k, drv + k.target.offset("platform_driver.driver"))


@export("int __platform_driver_probe(struct platform_driver *drv, "
        "int (*probe)(struct platform_device *), struct module *module)")
def __platform_driver_probe(k, drv, probe, module):
    """Register, bind what exists now, and fail -ENODEV if nothing was bound."""
    from .bus import Buses, driver_unregister_gen
    d = drv + k.target.offset("platform_driver.driver")
    if rd(k, d, "device_driver.probe_type", 4) == k.target.const("PROBE_PREFER_ASYNCHRONOUS"):
        k.log.emit(KERN_ERR, f"{cstr(k, rd(k, d, 'device_driver.name'), 256)}: drivers registered "
                      "with __platform_driver_probe can not use asynchronous probe")
        return -errno.EINVAL
    wr(k, drv, "platform_driver.prevent_deferred_probe", 1, 1)
    wr(k, d, "device_driver.suppress_bind_attrs", 1, 1)
    wr(k, drv, "platform_driver.probe", probe)
    ret = yield from __platform_driver_register(k, drv, module)
    if ret:
        return ret
    if d not in k.model(Buses).bound.values():
        yield from driver_unregister_gen(k, d)
        return -errno.ENODEV
    return 0


# ------------------------------------------------------------ devices
@export("struct platform_device *platform_device_alloc(const char *name, int id)", fails="NULL")
def platform_device_alloc(k, name, id_):
    from .core import initialize
    t = k.target
    raw = k.machine.read_cstr(name) if name else b""
    size = t.sizeof("platform_device")
    pdev = kzalloc(k, size + len(raw) + 1, "platform_object")
    k.machine.write(pdev + size, raw + b"\0")
    wr(k, pdev, "platform_device.name", pdev + size)
    wr(k, pdev, "platform_device.id", id_ & 0xFFFFFFFF, 4)
    dev = pdev + t.offset("platform_device.dev")
    initialize(k, dev)
    wr(k, dev, "device.release", static_addr(k, "platform_device_release"))
    # setup_pdev_dma_masks()
    wr(k, pdev, "platform_device.platform_dma_mask", DMA_BIT_MASK_32)
    wr(k, dev, "device.coherent_dma_mask", DMA_BIT_MASK_32)
    wr(k, dev, "device.dma_mask", pdev + t.offset("platform_device.platform_dma_mask"))
    return pdev


@static("void platform_device_release(struct device *dev)")
def platform_device_release(k, dev):
    pdev = _pdev(k, dev)
    kfree(k, rd(k, dev, "device.platform_data"))
    kfree(k, rd(k, pdev, "platform_device.resource"))
    kfree(k, rd(k, pdev, "platform_device.driver_override"))
    kfree(k, pdev)


@export("int platform_device_add_resources(struct platform_device *pdev, "
        "const struct resource *res, unsigned int num)")
def platform_device_add_resources(k, pdev, res, num):
    r = 0
    if res:
        size = k.target.sizeof("resource") * num
        r = kzalloc(k, size, "kmemdup")
        k.machine.write(r, k.machine.read(res, size))
    kfree(k, rd(k, pdev, "platform_device.resource"))
    wr(k, pdev, "platform_device.resource", r)
    wr(k, pdev, "platform_device.num_resources", num if r else 0, 4)
    return 0


@export("int platform_device_add_data(struct platform_device *pdev, const void *data, "
        "size_t size)")
def platform_device_add_data(k, pdev, data_, size):
    d = 0
    if data_:
        d = kzalloc(k, size, "kmemdup")
        k.machine.write(d, k.machine.read(data_, size))
    dev = pdev + k.target.offset("platform_device.dev")
    kfree(k, rd(k, dev, "device.platform_data"))
    wr(k, dev, "device.platform_data", d)
    return 0


def _resources(k, pdev):
    t = k.target
    base = rd(k, pdev, "platform_device.resource")
    for i in range(rd(k, pdev, "platform_device.num_resources", 4)):
        yield i, base + i * t.sizeof("resource")


def _release_resources(k, pdev, upto=None):
    from ...kernel.resource import release_resource
    t = k.target
    for i, r in _resources(k, pdev):
        if upto is not None and i >= upto:
            break
        typ = rd(k, r, "resource.flags") & t.const("IORESOURCE_TYPE_BITS")
        if typ in (t.const("IORESOURCE_MEM"), t.const("IORESOURCE_IO")) and \
                rd(k, r, "resource.parent"):
            release_resource(k, r)


def platform_device_add_gen(k, pdev):
    """platform_device_add(): 0 or -errno (generator)."""
    from .core import device_add_gen
    from ...lib import kobject as ko
    from ...kernel.resource import _insert_conflict
    from .dev_printk import dev_emit
    t = k.target
    plat = k.model(Platform)
    dev = pdev + t.offset("platform_device.dev")
    if not rd(k, dev, "device.parent"):
        wr(k, dev, "device.parent", plat.bus_dev)
    wr(k, dev, "device.bus", k.export_addr("platform_bus_type"))
    name_ptr = rd(k, pdev, "platform_device.name")
    name = cstr(k, name_ptr, 256) if name_ptr else "(null)"       # as %s prints NULL
    id_ = s32(rd(k, pdev, "platform_device.id", 4))
    auto = None
    if id_ == t.const("PLATFORM_DEVID_NONE"):
        dname = name
    elif id_ == t.const("PLATFORM_DEVID_AUTO"):
        auto = 0
        while auto in plat.auto_ids:
            auto += 1
        plat.auto_ids.add(auto)
        wr(k, pdev, "platform_device.id", auto, 4)
        wr(k, pdev, "platform_device.id_auto", 1, 1)
        dname = f"{name}.{auto}.auto"
    else:
        dname = f"{name}.{id_}"
    ko.set_name(k, dev + t.offset("device.kobj"), dname)
    for i, r in _resources(k, pdev):
        if not rd(k, r, "resource.name"):
            wr(k, r, "resource.name", rd(k, dev + t.offset("device.kobj"), "kobject.name"))
        p = rd(k, r, "resource.parent")
        typ = rd(k, r, "resource.flags") & t.const("IORESOURCE_TYPE_BITS")
        if not p:
            if typ == t.const("IORESOURCE_MEM"):
                p = k.export_addr("iomem_resource")
            elif typ == t.const("IORESOURCE_IO"):
                p = k.export_addr("ioport_resource")
        if p and _insert_conflict(k, p, r):
            s, e = rd(k, r, "resource.start"), rd(k, r, "resource.end")
            kind = "mem" if typ == t.const("IORESOURCE_MEM") else "io"
            dev_emit(k, KERN_ERR, dev, f"failed to claim resource {i}: [{kind} {s:#010x}-{e:#010x}]\n"
                     .encode("utf-8", "surrogateescape"))
            _release_resources(k, pdev, upto=i)
            _drop_auto(k, pdev, auto)
            return -errno.EBUSY
    err = yield from device_add_gen(k, dev)
    if err:
        _release_resources(k, pdev)
        _drop_auto(k, pdev, auto)
        return err
    return 0


def _drop_auto(k, pdev, auto):
    if auto is not None:
        k.model(Platform).auto_ids.discard(auto)
        wr(k, pdev, "platform_device.id", k.target.const("PLATFORM_DEVID_AUTO") & 0xFFFFFFFF, 4)
        wr(k, pdev, "platform_device.id_auto", 0, 1)


@export("int platform_device_add(struct platform_device *pdev)")
def platform_device_add(k, pdev):
    if not pdev:
        return -errno.EINVAL
    return (yield from platform_device_add_gen(k, pdev))


@export("void platform_device_del(struct platform_device *pdev)")
def platform_device_del(k, pdev):
    from .core import device_del_gen
    if not pdev or is_err(pdev):
        return
    yield from device_del_gen(k, pdev + k.target.offset("platform_device.dev"))
    if rd(k, pdev, "platform_device.id_auto", 1):
        _drop_auto(k, pdev, rd(k, pdev, "platform_device.id", 4))
    _release_resources(k, pdev)


@export("void platform_device_put(struct platform_device *pdev)")
def platform_device_put(k, pdev):
    from .core import put_device_gen
    if pdev and not is_err(pdev):
        yield from put_device_gen(k, pdev + k.target.offset("platform_device.dev"))


@export("int platform_device_register(struct platform_device *pdev)", fails="-ENOMEM")
def platform_device_register(k, pdev):
    from .core import initialize
    t = k.target
    dev = pdev + t.offset("platform_device.dev")
    initialize(k, dev)
    if not rd(k, dev, "device.dma_mask"):
        wr(k, pdev, "platform_device.platform_dma_mask", DMA_BIT_MASK_32)
        wr(k, dev, "device.coherent_dma_mask", DMA_BIT_MASK_32)
        wr(k, dev, "device.dma_mask", pdev + t.offset("platform_device.platform_dma_mask"))
    return (yield from platform_device_add_gen(k, pdev))


@export("void platform_device_unregister(struct platform_device *pdev)")
def platform_device_unregister(k, pdev):
    yield from platform_device_del(k, pdev)
    yield from platform_device_put(k, pdev)


@export("struct platform_device *platform_device_register_full("
        "const struct platform_device_info *pdevinfo)")
def platform_device_register_full(k, info):
    def f(member, size=8):
        return rd(k, info, f"platform_device_info.{member}", size)
    pdev = platform_device_alloc(k, f("name"), f("id", 4))
    if not pdev:
        return err_ptr(-errno.ENOMEM)
    dev = pdev + k.target.offset("platform_device.dev")
    wr(k, dev, "device.parent", f("parent"))
    if f("dma_mask"):
        wr(k, pdev, "platform_device.platform_dma_mask", f("dma_mask"))
        wr(k, dev, "device.coherent_dma_mask", f("dma_mask"))
    if f("properties"):
        k.note("platform_device_register_full: software node properties are not modelled")
    platform_device_add_resources(k, pdev, f("res"), f("num_res", 4))
    platform_device_add_data(k, pdev, f("data"), f("size_data"))
    err = yield from platform_device_add_gen(k, pdev)
    if err:
        yield from platform_device_put(k, pdev)
        return err_ptr(err)
    return pdev


@export("struct resource *platform_get_resource(struct platform_device *dev, "
        "unsigned int type, unsigned int num)")
def platform_get_resource(k, pdev, type_, num):
    t = k.target
    for _i, r in _resources(k, pdev):
        if rd(k, r, "resource.flags") & t.const("IORESOURCE_TYPE_BITS") == type_:
            if num == 0:
                return r
            num -= 1
    return 0


@export("struct resource *platform_get_mem_or_io(struct platform_device *dev, "
        "unsigned int num)")
def platform_get_mem_or_io(k, pdev, num):
    """The ``num``th memory or I/O port resource of the device, or NULL."""
    t = k.target
    want = t.const("IORESOURCE_MEM") | t.const("IORESOURCE_IO")
    for _i, r in _resources(k, pdev):
        if rd(k, r, "resource.flags") & t.const("IORESOURCE_TYPE_BITS") & want:
            if num == 0:
                return r
            num -= 1
    return 0


@export("struct resource *platform_get_resource_byname(struct platform_device *dev, "
        "unsigned int type, const char *name)")
def platform_get_resource_byname(k, pdev, type_, name):
    t = k.target
    want = cstr(k, name, 256)
    for _i, r in _resources(k, pdev):
        if rd(k, r, "resource.flags") & t.const("IORESOURCE_TYPE_BITS") == type_ and \
                rd(k, r, "resource.name") and cstr(k, rd(k, r, "resource.name"), 256) == want:
            return r
    return 0


def _get_irq_optional(k, pdev, num):
    r = platform_get_resource(k, pdev, k.target.const("IORESOURCE_IRQ"), num)
    if r:
        if rd(k, r, "resource.flags") & k.target.const("IORESOURCE_DISABLED"):
            return -errno.ENXIO
        return rd(k, r, "resource.start") & 0x7FFFFFFF
    return -errno.ENXIO


@export("int platform_get_irq_optional(struct platform_device *dev, unsigned int num)")
def platform_get_irq_optional(k, pdev, num):
    return _get_irq_optional(k, pdev, num)


@export("int platform_get_irq(struct platform_device *dev, unsigned int num)")
def platform_get_irq(k, pdev, num):
    from .dev_printk import dev_emit
    ret = _get_irq_optional(k, pdev, num)
    if ret < 0 and ret != -517:
        dev_emit(k, KERN_ERR, pdev + k.target.offset("platform_device.dev"),
                 f"IRQ index {num} not found\n".encode("utf-8", "surrogateescape"))
    return ret


@export("struct platform_device *__platform_create_bundle(struct platform_driver *driver, "
        "int (*probe)(struct platform_device *), struct resource *res, unsigned int n_res, "
        "const void *data, size_t size, struct module *module)")
def __platform_create_bundle(k, driver, probe, res, n_res, data_, size, module):
    """A device named like the driver, then __platform_driver_probe (unwound on failure)."""
    d = driver + k.target.offset("platform_driver.driver")
    pdev = platform_device_alloc(k, rd(k, d, "device_driver.name"), -1)
    if not pdev:
        return err_ptr(-errno.ENOMEM)
    platform_device_add_resources(k, pdev, res, n_res)
    platform_device_add_data(k, pdev, data_, size)
    err = yield from platform_device_add_gen(k, pdev)
    if err:
        yield from platform_device_put(k, pdev)
        return err_ptr(err)
    err = yield from __platform_driver_probe(k, driver, probe, module)
    if err:
        yield from platform_device_del(k, pdev)
        yield from platform_device_put(k, pdev)
        return err_ptr(err)
    return pdev


@export("int platform_get_irq_byname(struct platform_device *dev, const char *name)")
def platform_get_irq_byname(k, pdev, name):
    from .dev_printk import dev_emit
    r = platform_get_resource_byname(k, pdev, k.target.const("IORESOURCE_IRQ"), name)
    if r:
        return rd(k, r, "resource.start") & 0x7FFFFFFF
    dev_emit(k, KERN_ERR, pdev + k.target.offset("platform_device.dev"),
             f"IRQ {cstr(k, name, 64)} not found\n".encode("utf-8", "surrogateescape"))
    return -errno.ENXIO


@export("void *devm_platform_ioremap_resource(struct platform_device *pdev, unsigned int index)")
def devm_platform_ioremap_resource(k, pdev, index):
    from .devres import devm_ioremap_resource
    r = platform_get_resource(k, pdev, k.target.const("IORESOURCE_MEM"), index)
    return devm_ioremap_resource(k, pdev + k.target.offset("platform_device.dev"), r)
