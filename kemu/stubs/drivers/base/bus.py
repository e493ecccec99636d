"""drivers/base/bus.c, driver.c and dd.c: buses, drivers, and binding them to devices.

A bus (``bus_register``, or one of the kernel's own: platform, i2c, pci,
spi) keeps its devices and drivers in registration order; each gets its
/sys/bus/NAME/{devices,drivers} entry. ``driver_register`` refuses a bus
that was never registered (-EINVAL) and a name already taken on the bus
(-EBUSY), with the kernel's messages, and warns about drivers that bypass
the bus's probe/remove/shutdown. Binding follows dd.c: each device of the
bus is matched (the kernel's own buses match in Python, a module's bus
through its ``match`` callback), a match is probed (``bus->probe``, else
``drv->probe``), a failure unwinds the device's devres and is reported
("probe of X failed with error N") unless it is -ENODEV/-ENXIO; removing the
driver or the device calls ``remove`` and releases the devres. No hardware
exists: devices appear only when some module registers them.

Python API: ``buses(k) -> {name: ([device names], [driver names])}``,
``bound_driver(k, dev) -> driver address or 0``.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_ERR, KERN_WARNING
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, kfree, kzalloc, rd, s32, wr
from ...fs.sysfs import Node, Sysfs, create_groups, remove_groups

members("struct device", "kobj", "bus", "driver", "driver_data")
# device model, buses (stubs/drivers)
members("struct device_driver", "name", "bus", "owner", "probe", "remove", "groups", "p")
members("struct bus_type", "name", "bus_groups", "dev_groups", "drv_groups", "match", "probe",
        "remove", "p")
members("struct notifier_block", "notifier_call", "priority")

EPROBE_DEFER = 517


class Bus:
    """kemu's record of a registered bus_type."""
    __slots__ = ("addr", "name", "owner", "devices", "drivers", "py", "notifiers")

    def __init__(self, addr, name, owner, py=None):
        self.addr, self.name, self.owner = addr, name, owner
        self.devices: list[int] = []
        self.drivers: list[int] = []
        self.py = py                  # the kernel's own bus: {"match", "probe", "remove"}
        self.notifiers: list[int] = []   # notifier_blocks, by priority (blocking chain)


class Buses:
    """Per-kernel buses, drivers and bindings."""

    def __init__(self, k):
        self.k = k
        self.by_addr: dict[int, Bus] = {}
        self.drivers: dict[int, Bus] = {}       # driver -> its bus
        self.bound: dict[int, int] = {}         # device -> driver
        sysfs = k.model(Sysfs)
        for name, py in BUILTIN.items():
            addr = py["addr"](k) if py.get("addr") else k.export_addr(f"{name}_bus_type")
            self.by_addr[addr] = Bus(addr, name, None, py)
            for sub in ("", "/devices", "/drivers"):
                sysfs.nodes[f"/bus/{name}{sub}"] = Node(f"/bus/{name}{sub}", "dir", None)

    def bus_of(self, bus) -> Bus | None:
        return self.by_addr.get(bus)


# name -> python callbacks of the kernel's own buses; filled by their models
BUILTIN: dict[str, dict] = {}


def builtin_bus(name: str, match, probe, remove, addr=None):
    """Declare a kernel bus ``<name>_bus_type`` matched and probed in Python.

    ``match(k, dev, drv) -> bool``; ``probe``/``remove`` are generators
    ``(k, dev, drv) -> int``; ``addr(k)`` gives the bus_type of a bus Linux
    does not export (default: the ``<name>_bus_type`` export).
    """
    BUILTIN[name] = {"match": match, "probe": probe, "remove": remove, "addr": addr}


def has_bus_private(k) -> bool:
    """Whether struct bus_type holds its subsys_private (``bus->p``): until 6.3;
    6.4 keeps it out of the (now constant) bus_type, found by bus_to_subsys()."""
    return k.target.has_offset("bus_type.p")


def init_bus_type(k, addr: int, name: str) -> None:
    """A struct bus_type of the kernel's own: its name, and a subsys_private."""
    text = k.machine.alloc_kdata(len(name) + 1, 1)
    k.machine.write(text, name.encode() + b"\0")
    wr(k, addr, "bus_type.name", text)
    if has_bus_private(k):
        wr(k, addr, "bus_type.p", k.machine.alloc_kdata(64, 8))


def _no_device_probe(k, dev, drv):
    return -errno.ENODEV
    yield


def _no_device_remove(k, dev, drv):
    return 0
    yield


def deviceless_bus(name: str, why: str = "", match_name: str = "", exported: bool = True):
    """A bus kemu's machine has no device on: drivers register, nothing matches.

    ``<name>_bus_type`` is exported data (``exported``) or kernel data Linux
    does not export (reached through the returned ``addr(k)``). Should a match
    ever be asked for (only a device of that bus could), it is a not-modelled
    finding naming ``match_name`` and ``why``.
    """
    from kemu.abi.exports import not_modelled

    def match(k, dev, drv) -> bool:
        if why:
            not_modelled(k, match_name or f"{name}_bus_match", why)
        return False

    if exported:
        def init(k, addr):
            init_bus_type(k, addr, name)
        init.__name__ = f"{name}_bus_type"
        data(f"struct bus_type {name}_bus_type")(init)
        builtin_bus(name, match, _no_device_probe, _no_device_remove)
        return lambda k: k.export_addr(f"{name}_bus_type")

    class BusType:
        def __init__(self, k):
            self.addr = k.machine.alloc_kdata(k.target.sizeof("bus_type"), 8)
            init_bus_type(k, self.addr, name)
    BusType.__name__ = BusType.__qualname__ = f"{name.capitalize()}BusType"

    def addr(k):
        return k.model(BusType).addr
    builtin_bus(name, match, _no_device_probe, _no_device_remove, addr=addr)
    return addr


def drv_name(k, drv) -> str:
    return cstr(k, rd(k, drv, "device_driver.name"), 256)


def _dname(k, dev) -> str:
    from .base import dev_name
    return dev_name(k, dev)


# ------------------------------------------------------------ buses
def bus_register_gen(k, bus):
    """bus_register(): 0 or -errno."""
    buses = k.model(Buses)
    sysfs = k.model(Sysfs)
    name = cstr(k, rd(k, bus, "bus_type.name"), 256)
    path = f"/bus/{name}"
    if path in sysfs.nodes:
        k.log.emit(KERN_WARNING, f"sysfs: cannot create duplicate filename '{path}'")
        k.dump_stack()
        k.log.emit(KERN_ERR, f"kobject_add_internal failed for {name} with -EEXIST, don't try to "
                      "register things with the same name in the same directory.")
        return -errno.EEXIST
    owner = k.current_module()
    sysfs.quiet += 1
    try:
        for sub in ("", "/devices", "/drivers"):
            sysfs.nodes[path + sub] = Node(path + sub, "dir", owner)
        for f in ("uevent", "drivers_probe", "drivers_autoprobe"):
            sysfs.nodes[f"{path}/{f}"] = Node(f"{path}/{f}", "file", owner)
    finally:
        sysfs.quiet -= 1
    if has_bus_private(k):
        wr(k, bus, "bus_type.p", kzalloc(k, 64, "subsys_private"))
    buses.by_addr[bus] = Bus(bus, name, owner)
    groups = rd(k, bus, "bus_type.bus_groups")
    if groups:
        err = yield from _dir_groups(k, bus, path, groups)
        if err:
            sysfs.remove(path)
            del buses.by_addr[bus]
            free_bus_private(k, bus)
            return err
    k.register("bus", bus, owner, f"bus {name}")
    return 0


def _dir_groups(k, key, path, groups):
    """Attribute groups in a directory that has no kobject of its own in kemu."""
    from ...lib.kobject import KObjects, KObj
    objs = k.model(KObjects).objs
    objs[key] = KObj(key)
    objs[key].path, objs[key].in_sysfs = path, True
    try:
        return (yield from create_groups(k, key, groups))
    finally:
        del objs[key]


@export("int bus_register(struct bus_type *bus)", fails="-ENOMEM")
def bus_register(k, bus):
    return (yield from bus_register_gen(k, bus))


@export("void bus_unregister(struct bus_type *bus)")
def bus_unregister(k, bus):
    buses = k.model(Buses)
    rec = buses.by_addr.get(bus)
    if rec is None or rec.py is not None:
        return
    if rec.devices or rec.drivers:
        k.finding("bus", f"bus {rec.name} unregistered with {len(rec.devices)} device(s) and "
                         f"{len(rec.drivers)} driver(s) still on it", k.current_module())
    del buses.by_addr[bus]
    k.model(Sysfs).remove(f"/bus/{rec.name}")
    k.unregister("bus", bus)
    free_bus_private(k, bus)


def free_bus_private(k, bus) -> None:
    """bus_unregister()'s kfree of the subsys_private, where bus_type holds it."""
    if has_bus_private(k):
        kfree(k, rd(k, bus, "bus_type.p"))
        wr(k, bus, "bus_type.p", 0)


# ------------------------------------------------------------ bus notifiers
def notify(k, dev, event: str):
    """blocking_notifier_call_chain(&bus->p->bus_notifier, BUS_NOTIFY_<event>, dev)."""
    rec = k.model(Buses).bus_of(rd(k, dev, "device.bus"))
    if rec is None:
        return
    action = k.target.const(f"BUS_NOTIFY_{event}")
    for nb in list(rec.notifiers):
        ret = (yield k.call_request(rd(k, nb, "notifier_block.notifier_call"), nb, action, dev))
        if ret & k.target.const("NOTIFY_STOP_MASK"):
            break


@export("int bus_register_notifier(struct bus_type *bus, struct notifier_block *nb)")
def bus_register_notifier(k, bus, nb):
    rec = k.model(Buses).bus_of(bus)
    if rec is None:
        return -errno.EINVAL
    if nb in rec.notifiers:
        from ...lib.kemu_warn import warn
        warn(k, "kernel/notifier.c:28", "notifier_chain_register+0x3e/0x70",
             f"notifier callback {k.format_addr(rd(k, nb, 'notifier_block.notifier_call'))} "
             "already registered")
        return -errno.EEXIST
    prio = s32(rd(k, nb, "notifier_block.priority", 4))
    i = 0
    while i < len(rec.notifiers) and \
            s32(rd(k, rec.notifiers[i], "notifier_block.priority", 4)) >= prio:
        i += 1
    rec.notifiers.insert(i, nb)
    k.register("bus notifier", nb, k.current_module(), f"{rec.name} bus notifier")
    return 0


@export("int bus_unregister_notifier(struct bus_type *bus, struct notifier_block *nb)")
def bus_unregister_notifier(k, bus, nb):
    rec = k.model(Buses).bus_of(bus)
    if rec is None or nb not in rec.notifiers:
        return -errno.ENOENT
    rec.notifiers.remove(nb)
    k.unregister("bus notifier", nb)
    return 0


# ------------------------------------------------------------ matching and probing
def _match(k, rec: Bus, dev, drv):
    """driver_match_device(): >0 match, 0 no match, <0 error (a generator)."""
    if rec.py is not None:
        return 1 if rec.py["match"](k, dev, drv) else 0
    fn = rd(k, rec.addr, "bus_type.match")
    if not fn:
        return 1
    return s32((yield k.call_request(fn, dev, drv)))


def really_probe(k, rec: Bus, dev, drv):
    """really_probe(): bind on success, unwind and report a failure (generator)."""
    from .devres import release_all
    buses = k.model(Buses)
    wr(k, dev, "device.driver", drv)
    buses.bound[dev] = drv
    yield from notify(k, dev, "BIND_DRIVER")
    if rec.py is not None:
        ret = yield from rec.py["probe"](k, dev, drv)
    else:
        fn = rd(k, rec.addr, "bus_type.probe") or rd(k, drv, "device_driver.probe")
        ret = s32((yield k.call_request(fn, dev))) if fn else 0
    if ret:
        yield from release_all(k, dev)
        wr(k, dev, "device.driver", 0)
        wr(k, dev, "device.driver_data", 0)
        buses.bound.pop(dev, None)
        yield from notify(k, dev, "DRIVER_NOT_BOUND")
        if ret not in (-errno.ENODEV, -errno.ENXIO, -EPROBE_DEFER):
            k.log.emit(KERN_WARNING, f"{drv_name(k, drv)}: probe of {_dname(k, dev)} failed with error "
                          f"{ret}")
        return ret
    sysfs = k.model(Sysfs)
    link = f"/bus/{rec.name}/drivers/{drv_name(k, drv)}/{_dname(k, dev)}"
    if link.rsplit("/", 1)[0] in sysfs.nodes:
        sysfs.nodes[link] = Node(link, "link", None)
    yield from notify(k, dev, "BOUND_DRIVER")
    return 1


def release_driver(k, dev):
    """__device_release_driver(): remove, devres, dev->driver = NULL (generator)."""
    from .devres import release_all
    buses = k.model(Buses)
    drv = buses.bound.get(dev)
    if drv is None:
        return
    yield from notify(k, dev, "UNBIND_DRIVER")
    buses.bound.pop(dev, None)
    rec = buses.drivers.get(drv)
    if rec is not None and rec.py is not None:
        yield from rec.py["remove"](k, dev, drv)
    else:
        fn = (rd(k, rec.addr, "bus_type.remove") if rec is not None else 0) or \
            rd(k, drv, "device_driver.remove")
        if fn:
            yield k.call_request(fn, dev)
    yield from release_all(k, dev)
    wr(k, dev, "device.driver", 0)
    wr(k, dev, "device.driver_data", 0)
    if rec is not None:
        k.model(Sysfs).nodes.pop(f"/bus/{rec.name}/drivers/{drv_name(k, drv)}/"
                                 f"{_dname(k, dev)}", None)
    yield from notify(k, dev, "UNBOUND_DRIVER")


def bus_add_device(k, dev):
    """bus_add_device(): 0 or -errno (generator); called by device_add."""
    rec = k.model(Buses).bus_of(rd(k, dev, "device.bus"))
    if rec is None:
        return 0
    groups = rd(k, rec.addr, "bus_type.dev_groups") if rec.py is None else 0
    if groups:
        err = yield from create_groups(k, dev + k.target.offset("device.kobj"), groups)
        if err:
            return err
    rec.devices.append(dev)
    link = f"/bus/{rec.name}/devices/{_dname(k, dev)}"
    k.model(Sysfs).nodes[link] = Node(link, "link", None)
    yield from notify(k, dev, "ADD_DEVICE")
    return 0


def bus_probe_device(k, dev):
    """bus_probe_device() -> device_initial_probe(): the first matching driver (generator)."""
    buses = k.model(Buses)
    rec = buses.bus_of(rd(k, dev, "device.bus"))
    if rec is None or dev in buses.bound:
        return
    for drv in list(rec.drivers):
        m = yield from _match(k, rec, dev, drv)
        if m == -EPROBE_DEFER or m <= 0:
            continue
        ret = yield from really_probe(k, rec, dev, drv)
        if ret > 0:
            return


def bus_remove_device(k, dev):
    """bus_remove_device(): unbind, leave the bus's list (generator)."""
    buses = k.model(Buses)
    rec = buses.bus_of(rd(k, dev, "device.bus"))
    if rec is None or dev not in rec.devices:
        return
    yield from notify(k, dev, "DEL_DEVICE")
    yield from release_driver(k, dev)
    groups = rd(k, rec.addr, "bus_type.dev_groups") if rec.py is None else 0
    if groups:
        remove_groups(k, dev + k.target.offset("device.kobj"), groups)
    k.model(Sysfs).nodes.pop(f"/bus/{rec.name}/devices/{_dname(k, dev)}", None)
    rec.devices.remove(dev)
    yield from notify(k, dev, "REMOVED_DEVICE")


# ------------------------------------------------------------ drivers
def find_driver(k, rec: Bus, name: str) -> int:
    for drv in rec.drivers:
        if drv_name(k, drv) == name:
            return drv
    return 0


def driver_register_gen(k, drv):
    """driver_register(): 0 or -errno (generator)."""
    buses = k.model(Buses)
    bus = rd(k, drv, "device_driver.bus")
    rec = buses.bus_of(bus)
    name = drv_name(k, drv)
    if rec is None:
        k.log.emit(KERN_ERR, f"Driver '{name}' was unable to register with bus_type "
                      f"'{cstr(k, rd(k, bus, 'bus_type.name'), 64) if bus else ''}' because the "
                      "bus was not initialized.")
        return -errno.EINVAL
    if rec.py is not None:
        bus_has = (True, True, True)
    else:
        bus_has = tuple(bool(rd(k, bus, f"bus_type.{f}")) for f in ("probe", "remove", "shutdown"))
    drv_has = tuple(bool(rd(k, drv, f"device_driver.{f}")) for f in ("probe", "remove", "shutdown"))
    if any(b and d for b, d in zip(bus_has, drv_has)):
        k.log.emit(KERN_WARNING, f"Driver '{name}' needs updating - please use bus_type methods")
    if find_driver(k, rec, name):
        k.log.emit(KERN_ERR, f"Error: Driver '{name}' is already registered, aborting...")
        return -errno.EBUSY
    owner_ptr = rd(k, drv, "device_driver.owner")
    owner = k.module_at(owner_ptr) if owner_ptr else k.current_module()
    sysfs = k.model(Sysfs)
    path = f"/bus/{rec.name}/drivers/{name}"
    priv = kzalloc(k, 64, "driver_private")
    wr(k, drv, "device_driver.p", priv)
    sysfs.quiet += 1
    try:
        sysfs.nodes[path] = Node(path, "dir", owner)
        for f in ("uevent", "bind", "unbind"):
            sysfs.nodes[f"{path}/{f}"] = Node(f"{path}/{f}", "file", owner)
        if owner is not None:
            link = f"/module/{owner.name}/drivers/{rec.name}:{name}"
            sysfs.nodes[link] = Node(link, "link", None, target=path)
        for member, where in (("bus_type.drv_groups", bus), ("device_driver.groups", drv)):
            groups = rd(k, where, member) if (where != bus or rec.py is None) else 0
            if groups:
                err = yield from _dir_groups(k, priv, path, groups)
                if err:
                    _drop_driver_dirs(k, sysfs, path, owner, rec, name)
                    kfree(k, priv)
                    wr(k, drv, "device_driver.p", 0)
                    return err
    finally:
        sysfs.quiet -= 1
    rec.drivers.append(drv)
    buses.drivers[drv] = rec
    k.register("driver", drv, owner, f"{rec.name} driver {name}")
    # driver_attach(): every unbound device of the bus
    for dev in list(rec.devices):
        if dev in buses.bound:
            continue
        m = yield from _match(k, rec, dev, drv)
        if m > 0:
            yield from really_probe(k, rec, dev, drv)
    return 0


def _drop_driver_dirs(k, sysfs, path, owner, rec, name):
    sysfs.remove(path)
    if owner is not None:
        sysfs.nodes.pop(f"/module/{owner.name}/drivers/{rec.name}:{name}", None)


def driver_unregister_gen(k, drv):
    """driver_unregister(): unbind every device, remove the driver (generator)."""
    buses = k.model(Buses)
    rec = buses.drivers.get(drv)
    if rec is None or not drv or not rd(k, drv, "device_driver.p"):
        from ...lib.kemu_warn import warn
        warn(k, "drivers/base/driver.c:270", "driver_unregister+0x38/0x40",
             "Unexpected driver unregister!")
        return
    for dev, d in list(buses.bound.items()):
        if d == drv:
            yield from release_driver(k, dev)
    name = drv_name(k, drv)
    owner_ptr = rd(k, drv, "device_driver.owner")
    owner = k.module_at(owner_ptr) if owner_ptr else None
    _drop_driver_dirs(k, k.model(Sysfs), f"/bus/{rec.name}/drivers/{name}", owner, rec, name)
    rec.drivers.remove(drv)
    del buses.drivers[drv]
    kfree(k, rd(k, drv, "device_driver.p"))
    wr(k, drv, "device_driver.p", 0)
    k.unregister("driver", drv)


@export("int driver_register(struct device_driver *drv)", fails="-ENOMEM")
def driver_register(k, drv):
    return (yield from driver_register_gen(k, drv))


@export("void driver_unregister(struct device_driver *drv)")
def driver_unregister(k, drv):
    yield from driver_unregister_gen(k, drv)


@export("struct device_driver *driver_find(const char *name, struct bus_type *bus)")
def driver_find(k, name, bus):
    rec = k.model(Buses).bus_of(bus)
    return find_driver(k, rec, cstr(k, name, 256)) if rec is not None else 0


def _after(items, start):
    if start and start in items:
        return items[items.index(start) + 1:]
    return list(items)


@export("int bus_for_each_dev(struct bus_type *bus, struct device *start, void *data, "
        "int (*fn)(struct device *dev, void *data))")
def bus_for_each_dev(k, bus, start, data, fn):
    rec = k.model(Buses).bus_of(bus)
    if rec is None:
        return -errno.EINVAL
    for dev in _after(rec.devices, start):
        ret = s32((yield k.call_request(fn, dev, data)))
        if ret:
            return ret
    return 0


@export("int bus_for_each_drv(struct bus_type *bus, struct device_driver *start, void *data, "
        "int (*fn)(struct device_driver *drv, void *data))")
def bus_for_each_drv(k, bus, start, data, fn):
    rec = k.model(Buses).bus_of(bus)
    if rec is None:
        return -errno.EINVAL
    for drv in _after(rec.drivers, start):
        ret = s32((yield k.call_request(fn, drv, data)))
        if ret:
            return ret
    return 0


@export("struct device *bus_find_device(struct bus_type *bus, struct device *start, "
        "const void *data, int (*match)(struct device *dev, const void *data))")
def bus_find_device(k, bus, start, data, match):
    from .base import get_device
    rec = k.model(Buses).bus_of(bus)
    if rec is None:
        return 0
    for dev in _after(rec.devices, start):
        if s32((yield k.call_request(match, dev, data))):
            return get_device(k, dev)
    return 0


@export("int driver_for_each_device(struct device_driver *drv, struct device *start, "
        "void *data, int (*fn)(struct device *dev, void *data))")
def driver_for_each_device(k, drv, start, data, fn):
    if not drv:
        return -errno.EINVAL
    devs = [d for d, v in k.model(Buses).bound.items() if v == drv]
    for dev in _after(devs, start):
        ret = s32((yield k.call_request(fn, dev, data)))
        if ret:
            return ret
    return 0


@export("struct device *driver_find_device(struct device_driver *drv, struct device *start, "
        "const void *data, int (*match)(struct device *dev, const void *data))")
def driver_find_device(k, drv, start, data, match):
    from .base import get_device
    if not drv:
        return 0
    devs = [d for d, v in k.model(Buses).bound.items() if v == drv]
    for dev in _after(devs, start):
        if s32((yield k.call_request(match, dev, data))):
            return get_device(k, dev)
    return 0


@export("void device_release_driver(struct device *dev)")
def device_release_driver(k, dev):
    yield from release_driver(k, dev)


@export("int device_attach(struct device *dev)")
def device_attach(k, dev):
    """1 if a driver is (now) bound, 0 if none matched."""
    buses = k.model(Buses)
    if dev not in buses.bound:
        yield from bus_probe_device(k, dev)
    return 1 if dev in buses.bound else 0


@export("int device_reprobe(struct device *dev)")
def device_reprobe(k, dev):
    """Unbind the driver, then look for one again (bus_rescan_devices_helper)."""
    yield from release_driver(k, dev)
    ret = yield from device_attach(k, dev)
    return ret if ret < 0 else 0


@export("int bus_rescan_devices(struct bus_type *bus)")
def bus_rescan_devices(k, bus):
    rec = k.model(Buses).bus_of(bus)
    if rec is None:
        return -errno.EINVAL
    for dev in list(rec.devices):
        if dev not in k.model(Buses).bound:
            yield from bus_probe_device(k, dev)
    return 0


@export("int device_bind_driver(struct device *dev)")
def device_bind_driver(k, dev):
    """Bind dev->driver without probing (driver_bound)."""
    drv = rd(k, dev, "device.driver")
    buses = k.model(Buses)
    if not drv or drv not in buses.drivers:
        return -errno.EINVAL
    buses.bound[dev] = drv
    yield from notify(k, dev, "BOUND_DRIVER")
    return 0


@export("int driver_attach(struct device_driver *drv)")
def driver_attach(k, drv):
    buses = k.model(Buses)
    rec = buses.drivers.get(drv)
    if rec is None:
        return -errno.EINVAL
    for dev in list(rec.devices):
        if dev in buses.bound:
            continue
        m = yield from _match(k, rec, dev, drv)
        if m > 0:
            yield from really_probe(k, rec, dev, drv)
    return 0


@export("int driver_create_file(struct device_driver *drv, const struct driver_attribute *attr)")
def driver_create_file(k, drv, attr):
    """The attribute file in /sys/bus/BUS/drivers/NAME."""
    from ...fs.sysfs import sysfs_create_file_ns
    from ...lib.kobject import KObjects, KObj
    rec = k.model(Buses).drivers.get(drv)
    if not drv or rec is None:
        return -errno.EINVAL
    priv = rd(k, drv, "device_driver.p")
    objs = k.model(KObjects).objs
    objs[priv] = KObj(priv)
    objs[priv].path, objs[priv].in_sysfs = f"/bus/{rec.name}/drivers/{drv_name(k, drv)}", True
    try:
        return sysfs_create_file_ns(k, priv, attr, 0)     # attr is the first member
    finally:
        del objs[priv]


@export("void driver_remove_file(struct device_driver *drv, const struct driver_attribute *attr)")
def driver_remove_file(k, drv, attr):
    from ...fs.sysfs import attr_name
    rec = k.model(Buses).drivers.get(drv)
    if drv and rec is not None:
        k.model(Sysfs).remove(f"/bus/{rec.name}/drivers/{drv_name(k, drv)}/{attr_name(k, attr)}")


# ------------------------------------------------------------ Python API
def buses(k) -> dict:
    """{bus name: ([device names], [driver names])}."""
    return {r.name: ([_dname(k, d) for d in r.devices], [drv_name(k, d) for d in r.drivers])
            for r in k.model(Buses).by_addr.values()}


def bound_driver(k, dev) -> int:
    """The driver bound to ``dev``, or 0."""
    return k.model(Buses).bound.get(dev, 0)
