"""drivers/base/class.c: device classes (6.1: ``__class_create(owner, name, key)``;
6.4: ``class_create(name)``, ``class_register()``, no owner in struct class).

A class is registered under /sys/class/NAME (a name already taken fails
-EEXIST with the kernel's sysfs and kobject messages); ``class_destroy`` /
``class_unregister`` remove it and call ``class_release`` (the kernel's
``class_create_release`` kfree for created classes). Devices of the class are
found by dev_t for ``device_destroy``.

Class interfaces (``class_interface_register``) see the class's present
devices through ``add_dev`` and are recorded (reported if left registered);
devices added to the class later are not offered to them.

Python API: ``classes(k) -> [(name, owner module name or None, [device names])]``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.kernel.log import KERN_ERR, KERN_WARNING
from kemu.abi.exports import members

from kemu.abi.toolkit import (cstr, err_ptr, is_err, kfree, kzalloc, owner_of, rd, static,
                              static_addr, wr)
from ...fs.sysfs import Node, Sysfs, create_groups

members("struct class_interface", "class", "add_dev", "remove_dev", "node")
members("struct class", "name", "owner", "class_groups", "dev_kobj", "class_release", "p",
        "dev_uevent")
members("struct device", "devt", "p", "power.child_count")
members("struct class_attribute", "attr", "show", "store")
members("struct class_attribute_string", "str", "attr")

# Classes a booted Debian 6.1 kernel has registered before modules load (not "watchdog":
# CONFIG_WATCHDOG_CORE=m, watchdog.ko registers it).
BOOT_CLASSES = ("bdi", "block", "dma", "graphics", "hwmon", "input", "leds", "mem", "misc", "net",
                "pci_bus", "rtc", "tty", "vc", "vtconsole", "thermal")


class Cls:
    __slots__ = ("addr", "name", "owner", "devices")

    def __init__(self, addr, name, owner):
        self.addr, self.name, self.owner, self.devices = addr, name, owner, []


class Classes:
    """Per-kernel classes."""

    def __init__(self, k):
        self.k = k
        self.by_addr: dict[int, Cls] = {}
        self.boot: dict[str, int] = {}
        sysfs = k.model(Sysfs)
        t = k.target
        for name in BOOT_CLASSES:
            cls = k.machine.alloc_kdata(t.sizeof("class"), 8)
            name_addr = k.machine.alloc_kdata(len(name) + 1, 1)
            k.machine.write(name_addr, name.encode() + b"\0")
            wr(k, cls, "class.name", name_addr)
            self.by_addr[cls] = Cls(cls, name, None)
            self.boot[name] = cls
            sysfs.nodes[f"/class/{name}"] = Node(f"/class/{name}", "dir", None)

    def add_device(self, cls, dev):
        rec = self.by_addr.get(cls)
        if rec is not None:
            rec.devices.append(dev)

    def remove_device(self, cls, dev):
        rec = self.by_addr.get(cls)
        if rec is not None and dev in rec.devices:
            rec.devices.remove(dev)

    def find_by_devt(self, cls, devt) -> int:
        """class_find_device_by_devt() (without taking a reference)."""
        rec = self.by_addr.get(cls)
        if rec is None:
            return 0
        for dev in rec.devices:
            if rd(self.k, dev, "device.devt", 4) == devt:
                return dev
        return 0

    def misc_class(self) -> int:
        return self.boot["misc"]


def register(k, cls):
    """__class_register(): a generator returning 0 or -errno."""
    classes = k.model(Classes)
    sysfs = k.model(Sysfs)
    name = cstr(k, rd(k, cls, "class.name"), 256)
    t = k.target
    # 6.4 dropped class.owner (and dev_kobj, p): the registering module owns it
    owner = owner_of(k, rd(k, cls, "class.owner")) if t.has_offset("class.owner") \
        else k.current_module()
    path = f"/class/{name}"
    if path in sysfs.nodes:
        k.log.emit(KERN_WARNING, f"sysfs: cannot create duplicate filename '{path}'")
        k.dump_stack()
        k.log.emit(KERN_ERR, f"kobject_add_internal failed for {name} with -EEXIST, don't try to "
                      "register things with the same name in the same directory.")
        return -errno.EEXIST
    if t.has_offset("class.dev_kobj") and not rd(k, cls, "class.dev_kobj"):
        from ...lib.kobject import KObjects
        ko = k.model(KObjects)
        devchar = getattr(ko, "sysfs_dev_char_kobj", 0)
        if not devchar:
            devchar = ko.sysfs_dev_char_kobj = ko.kernel_kobject("char", "/dev/char")
        wr(k, cls, "class.dev_kobj", devchar)
    if t.has_offset("class.p"):
        wr(k, cls, "class.p", kzalloc(k, 64, "subsys_private"))
    sysfs.nodes[path] = Node(path, "dir", owner)
    rec = Cls(cls, name, owner)
    classes.by_addr[cls] = rec
    groups = rd(k, cls, "class.class_groups")
    if groups:
        from ...lib.kobject import KObjects, KObj
        # class attributes live in /sys/class/NAME: give the class a kobject record there
        objs = k.model(KObjects).objs
        objs[cls] = KObj(cls)
        objs[cls].path, objs[cls].in_sysfs = path, True
        err = yield from create_groups(k, cls, groups)
        del objs[cls]
        if err:
            sysfs.remove(path)
            del classes.by_addr[cls]
            if t.has_offset("class.p"):
                kfree(k, rd(k, cls, "class.p"))
                wr(k, cls, "class.p", 0)
            return err
    k.register("class", cls, owner, f"class {name}")
    return 0


def unregister(k, cls):
    """class_unregister(): remove the class; class_release (a generator)."""
    classes = k.model(Classes)
    rec = classes.by_addr.pop(cls, None)
    if rec is None:
        return
    if rec.devices:
        k.finding("class", f"class {rec.name} destroyed with {len(rec.devices)} device(s) "
                           "still registered", k.current_module())
    k.model(Sysfs).remove(f"/class/{rec.name}")
    k.unregister("class", cls)
    if k.target.has_offset("class.p"):
        kfree(k, rd(k, cls, "class.p"))
    release = rd(k, cls, "class.class_release")
    if release:
        yield k.call_request(release, cls)


@static("void class_create_release(struct class *cls)")
def class_create_release(k, cls):
    kfree(k, cls)


@export("struct class *__class_create(struct module *owner, const char *name, "
        "struct lock_class_key *key)", until="6.4", fails="ERR_PTR(-ENOMEM)")
def __class_create(k, owner, name, key):
    return (yield from create(k, name, owner))


@export("struct class *class_create(const char *name)", since="6.4", fails="ERR_PTR(-ENOMEM)")
def class_create(k, name):
    """6.4: class_create() lost its owner argument (and the lockdep key)."""
    return (yield from create(k, name, None))


def create(k, name, owner):
    """class_create(): a class of that name, freed by class_create_release()."""
    cls = kzalloc(k, k.target.sizeof("class"), "class")
    wr(k, cls, "class.name", name)
    if owner is not None:
        wr(k, cls, "class.owner", owner)
    wr(k, cls, "class.class_release", static_addr(k, "class_create_release"))
    err = yield from register(k, cls)
    if err:
        kfree(k, cls)
        return err_ptr(err)
    return cls


@export("int __class_register(struct class *cls, struct lock_class_key *key)", until="6.4",
        fails="-ENOMEM")
def __class_register(k, cls, key):
    return (yield from register(k, cls))


@export("int class_register(const struct class *cls)", since="6.4", fails="-ENOMEM")
def class_register(k, cls):
    return (yield from register(k, cls))


@export("void class_unregister(struct class *cls)")
def class_unregister(k, cls):
    yield from unregister(k, cls)


@export("void class_destroy(struct class *cls)")
def class_destroy(k, cls):
    if not cls or is_err(cls):
        return
    yield from unregister(k, cls)


def classes(k) -> list:
    """(name, owner module name or None, [device names]) of every class."""
    from .base import dev_name
    return [(c.name, c.owner.name if c.owner else None, [dev_name(k, d) for d in c.devices])
            for c in k.model(Classes).by_addr.values()]


# ------------------------------------------------------------ finding and attributes
def _class_devices(k, cls, start):
    rec = k.model(Classes).by_addr.get(cls)
    if rec is None:
        return None
    devs = list(rec.devices)
    if start and start in devs:
        devs = devs[devs.index(start) + 1:]
    return devs


@export("struct device *class_find_device(struct class *class, struct device *start, "
        "const void *data, int (*match)(struct device *, const void *))")
def class_find_device(k, cls, start, data_, match):
    from .base import get_device
    devs = _class_devices(k, cls, start)
    if not devs:
        return 0
    for dev in devs:
        if (yield k.call_request(match, dev, data_)) & 0xFFFFFFFF:
            return get_device(k, dev)
    return 0


@export("int class_for_each_device(struct class *class, struct device *start, void *data, "
        "int (*fn)(struct device *dev, void *data))")
def class_for_each_device(k, cls, start, data_, fn):
    from kemu.abi.toolkit import s32
    devs = _class_devices(k, cls, start)
    if devs is None:
        return -errno.EINVAL
    for dev in devs:
        ret = s32((yield k.call_request(fn, dev, data_)))
        if ret:
            return ret
    return 0


def _class_kobj(k, cls):
    """A kobject record for /sys/class/NAME while its attributes are made."""
    from ...lib.kobject import KObjects, KObj
    rec = k.model(Classes).by_addr.get(cls)
    if rec is None:
        return None
    objs = k.model(KObjects).objs
    objs[cls] = KObj(cls)
    objs[cls].path, objs[cls].in_sysfs = f"/class/{rec.name}", True
    return objs


@export("int class_create_file_ns(struct class *class, const struct class_attribute *attr, "
        "const void *ns)")
def class_create_file_ns(k, cls, attr, ns):
    from ...fs.sysfs import sysfs_create_file_ns
    if not cls:
        return -errno.EINVAL
    objs = _class_kobj(k, cls)
    if objs is None:
        return -errno.EINVAL
    try:
        return sysfs_create_file_ns(k, cls, attr + k.target.offset("class_attribute.attr"), ns)
    finally:
        del objs[cls]


@export("void class_remove_file_ns(struct class *class, const struct class_attribute *attr, "
        "const void *ns)")
def class_remove_file_ns(k, cls, attr, ns):
    from ...fs.sysfs import attr_name
    rec = k.model(Classes).by_addr.get(cls) if cls else None
    if rec is not None:
        k.model(Sysfs).remove(f"/class/{rec.name}/"
                              f"{attr_name(k, attr + k.target.offset('class_attribute.attr'))}")


@export("ssize_t show_class_attr_string(struct class *class, struct class_attribute *attr, "
        "char *buf)")
def show_class_attr_string(k, cls, attr, buf):
    """sysfs_emit(buf, "%s\\n", cs->str)."""
    text = cstr(k, rd(k, attr, "class_attribute_string.str"), 4094).encode("utf-8", "surrogateescape") + b"\n"
    text = text[:4095]
    k.machine.write(buf, text + b"\0")
    return len(text)


@export("int class_interface_register(struct class_interface *class_intf)")
def class_interface_register(k, intf):
    """add_dev() for each device the class has now; the interface is recorded."""
    if not intf or not rd(k, intf, "class_interface.class"):
        return -errno.ENODEV
    cls = rd(k, intf, "class_interface.class")
    add_dev = rd(k, intf, "class_interface.add_dev")
    for dev in (_class_devices(k, cls, 0) or []) if add_dev else []:
        yield k.call_request(add_dev, dev, intf)
    rec = k.model(Classes).by_addr.get(cls)
    name = rec.name if rec else cstr(k, rd(k, cls, "class.name"), 256)
    k.register("class interface", intf, k.current_module(), f"class interface of class {name}")
    return 0


@export("void class_interface_unregister(struct class_interface *class_intf)")
def class_interface_unregister(k, intf):
    cls = rd(k, intf, "class_interface.class")
    if not cls:
        return
    k.unregister("class interface", intf)
    remove_dev = rd(k, intf, "class_interface.remove_dev")
    for dev in (_class_devices(k, cls, 0) or []) if remove_dev else []:
        yield k.call_request(remove_dev, dev, intf)
