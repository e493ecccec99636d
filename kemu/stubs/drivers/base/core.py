"""drivers/base/core.c and devtmpfs: struct device, its sysfs directory and /dev node.

``device_initialize``/``device_add``/``device_del``/``put_device`` follow the
kernel: the device's kobject holds the reference count, ``device_add`` names
the device (``init_name`` or ``dev_set_name``), places it in sysfs (below its
parent, or ``/devices/virtual/<class>`` for a parentless class device), links
it from ``/class/<class>``, adds the class's, type's and device's attribute
groups (``is_visible`` runs in emulation) and, with a major number, creates the
devtmpfs node named by ``class->devnode`` (called in emulation) or the device
name. The last ``put_device`` calls ``dev->release``, ``type->release`` or
``class->dev_release``, or warns as the kernel does when there is none.

Python API: ``device_list(k) -> [(sysfs path, dev_t, class name or None, owner)]``
(opening /dev nodes is devtmpfs.py's).
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_ERR, KERN_WARNING
from kemu.abi.exports import members

from kemu.abi.toolkit import (cstr, err_ptr, init_list_head, is_err, kfree, kzalloc, rd, s64,
                              static, static_addr, wr)
from kemu.stubs.lib.vsprintf import vformat
from ...fs.sysfs import Node, Sysfs, create_groups, remove_groups
from .base import _kobj, dev_driver_string, dev_driver_string_of, dev_name, get_device  # noqa: F401

members("struct mutex", "wait_list")
members("struct class", "name", "dev_groups", "devnode", "dev_release")
members("struct device", "kobj", "parent", "init_name", "type", "bus", "driver_data", "devt",
        "id", "class", "groups", "release", "mutex", "devres_head", "dma_pools", "numa_node",
        "of_node", "fwnode")
members("struct device_type", "groups", "devnode", "release", "name", "uevent")
members("struct bus_type", "dev_name", "dev_root", "uevent", "sync_state", "shutdown", "pm")
members("struct attribute", "name", "mode")
members("struct device_attribute", "attr", "show", "store")
members("struct kobj_type", "release", "sysfs_ops")
members("struct sysfs_ops", "show", "store")


class Dev:
    """kemu's record of a device that was added."""
    __slots__ = ("addr", "path", "glue", "cls", "node", "owner", "class_link")

    def __init__(self, addr):
        self.addr, self.path, self.glue, self.cls, self.node = addr, "", "", 0, None
        self.owner, self.class_link = None, ""


class Devices:
    """Per-kernel devices: device_ktype, the added devices, devtmpfs nodes."""

    def __init__(self, k):
        self.k = k
        t = k.target
        m = k.machine
        self.added: dict[int, Dev] = {}
        self.nodes: dict[str, tuple] = {}      # /dev name -> (devt, mode, device)
        self.dev_sysfs_ops = m.alloc_kdata(t.sizeof("sysfs_ops"), 8)
        wr(k, self.dev_sysfs_ops, "sysfs_ops.show", static_addr(k, "dev_attr_show"))
        wr(k, self.dev_sysfs_ops, "sysfs_ops.store", static_addr(k, "dev_attr_store"))
        self.device_ktype = m.alloc_kdata(t.sizeof("kobj_type"), 8)
        wr(k, self.device_ktype, "kobj_type.release", static_addr(k, "device_release"))
        wr(k, self.device_ktype, "kobj_type.sysfs_ops", self.dev_sysfs_ops)


def initialize(k, dev) -> None:
    """device_initialize()."""
    from ...lib import kobject as ko
    t = k.target
    ko.init(k, _kobj(k, dev), k.model(Devices).device_ktype)
    init_list_head(k, dev + t.offset("device.dma_pools"))
    init_list_head(k, dev + t.offset("device.devres_head"))
    if t.has_offset("mutex.wait_list"):
        init_list_head(k, dev + t.offset("device.mutex") + t.offset("mutex.wait_list"))
    k.machine.write_u32(dev + t.offset("device.numa_node"), 0xFFFFFFFF)   # NUMA_NO_NODE
    from .power.runtime import pm_runtime_init
    pm_runtime_init(k, dev)


def _class_name(k, cls):
    return cstr(k, rd(k, cls, "class.name"), 256) if cls else ""


def device_add_gen(k, dev):
    """device_add(): a generator returning 0 or -errno."""
    from ...lib import kobject as ko
    from .class_ import Classes
    t = k.target
    devs = k.model(Devices)
    sysfs = k.model(Sysfs)
    kobj = _kobj(k, dev)
    ko.get(k, kobj)
    sysfs.quiet += 1                  # the device registration covers its sysfs nodes
    try:
        init_name = rd(k, dev, "device.init_name")
        if init_name:
            ko.set_name(k, kobj, cstr(k, init_name, 256))
            wr(k, dev, "device.init_name", 0)
        name = cstr(k, rd(k, kobj, "kobject.name"), 256)
        bus = rd(k, dev, "device.bus")
        if not name and bus and rd(k, bus, "bus_type.dev_name"):
            # subsystems can specify simple device enumeration
            name = f"{cstr(k, rd(k, bus, 'bus_type.dev_name'), 256)}{rd(k, dev, 'device.id', 4)}"
            ko.set_name(k, kobj, name)
        if not name:
            return -errno.EINVAL
        parent = rd(k, dev, "device.parent")
        cls = rd(k, dev, "device.class")
        rec = Dev(dev)
        rec.owner = k.current_module()
        rec.cls = cls
        # get_device_parent(): the directory the device goes in
        if parent:
            ko.get(k, _kobj(k, parent))
            base = devs.added[parent].path if parent in devs.added else "/devices"
        else:
            base = "/devices/virtual" if cls else "/devices"
        if cls and (not parent or not rd(k, parent, "device.class")):
            glue = f"{base}/{_class_name(k, cls)}"
            if glue not in sysfs.nodes:
                sysfs.nodes[glue] = Node(glue, "dir", None)
                rec.glue = glue
            base = glue
        rec.path = f"{base}/{name}"
        if kobj not in k.model(ko.KObjects).objs:
            # kobject_add() of a device never device_initialize()d: its error, then
            # device_add()'s unwinding (put_device(parent); put_device(dev) below)
            k.log.emit(KERN_ERR, f"kobject '{name}' ({k.hash_pointer(kobj)}): tried to add an "
                                 "uninitialized object, something is seriously wrong.")
            k.dump_stack()
            _drop_glue(k, rec)
            if parent:
                yield from ko.put(k, _kobj(k, parent))
            return -errno.EINVAL
        err = sysfs.add(Node(rec.path, "dir", rec.owner, kobj=kobj))
        if err:
            k.log.emit(KERN_ERR, f"kobject_add_internal failed for {name} with -EEXIST, don't try to "
                          "register things with the same name in the same directory.")
            _drop_glue(k, rec)
            if parent:
                yield from ko.put(k, _kobj(k, parent))
            return err
        objs = k.model(ko.KObjects).objs
        objs[kobj].path, objs[kobj].in_sysfs = rec.path, True
        wr(k, kobj, "kobject.sd", kobj)
        if parent:
            wr(k, kobj, "kobject.parent", _kobj(k, parent))
        devs.added[dev] = rec
        sysfs.nodes[rec.path + "/uevent"] = Node(rec.path + "/uevent", "file", None, kobj=kobj)
        if cls:
            rec.class_link = f"/class/{_class_name(k, cls)}/{name}"
            sysfs.nodes.setdefault(rec.class_link, Node(rec.class_link, "link", None,
                                                        target=rec.path))
        # device_add_attrs(): class dev_groups, type groups, dev->groups
        groups = []
        if cls:
            groups.append(rd(k, cls, "class.dev_groups"))
        dtype = rd(k, dev, "device.type")
        if dtype:
            groups.append(rd(k, dtype, "device_type.groups"))
        groups.append(rd(k, dev, "device.groups"))
        for g in groups:
            if g:
                err = yield from create_groups(k, kobj, g)
                if err:
                    yield from device_del_gen(k, dev)
                    return err
        devt = rd(k, dev, "device.devt", 4)
        if devt >> t.const("MINORBITS"):
            sysfs.nodes[rec.path + "/dev"] = Node(rec.path + "/dev", "file", None, kobj=kobj)
            node_name, mode = yield from _devnode(k, dev, name, cls, dtype)
            if node_name:
                rec.node = node_name
                devs.nodes[node_name] = (devt, mode, dev)
        from .bus import bus_add_device, bus_probe_device
        err = yield from bus_add_device(k, dev)
        if err:
            yield from device_del_gen(k, dev)
            return err
        if cls:
            k.model(Classes).add_device(cls, dev)
        k.register("device", dev, rec.owner, f"device {name}"
                   + (f" (/dev/{rec.node})" if rec.node else ""))
        yield from bus_probe_device(k, dev)
        return 0
    finally:
        sysfs.quiet -= 1
        yield from ko.put(k, kobj)


def _devnode(k, dev, name, cls, dtype):
    """device_get_devnode(): (name, mode) for devtmpfs."""
    mode = 0
    scratch = k.heap.alloc(8, kind="umode_t", zero=True)
    try:
        for fn in ((rd(k, dtype, "device_type.devnode") if dtype else 0),
                   (rd(k, cls, "class.devnode") if cls else 0)):
            if fn:
                ret = yield k.call_request(fn, dev, scratch)
                mode = k.machine.read_u16(scratch)
                if ret:
                    text = cstr(k, ret, 256)
                    kfree(k, ret)
                    return text, mode
    finally:
        k.heap.free(scratch)
    return name.replace("!", "/"), mode


def _drop_glue(k, rec):
    sysfs = k.model(Sysfs)
    if rec.glue and not any(p.startswith(rec.glue + "/") for p in sysfs.nodes):
        sysfs.nodes.pop(rec.glue, None)


def device_del_gen(k, dev):
    """device_del(): the devtmpfs node, the class link, the sysfs directory; put(parent)."""
    from ...lib import kobject as ko
    from .class_ import Classes
    from .bus import bus_remove_device
    devs = k.model(Devices)
    if dev not in devs.added:
        return
    yield from bus_remove_device(k, dev)
    from .power.wakeup import wakeup_disable
    wakeup_disable(k, dev)                    # device_pm_remove()
    rec = devs.added.pop(dev, None)
    sysfs = k.model(Sysfs)
    kobj = _kobj(k, dev)
    if rec.node:
        devs.nodes.pop(rec.node, None)
    if rec.class_link:
        sysfs.nodes.pop(rec.class_link, None)
    if rec.cls:
        k.model(Classes).remove_device(rec.cls, dev)
    sysfs.remove(rec.path)
    _drop_glue(k, rec)
    objs = k.model(ko.KObjects).objs
    if kobj in objs:
        objs[kobj].in_sysfs = False
    wr(k, kobj, "kobject.sd", 0)
    k.unregister("device", dev)
    parent = rd(k, kobj, "kobject.parent")
    wr(k, kobj, "kobject.parent", 0)
    if parent:
        yield from ko.put(k, parent)


def put_device_gen(k, dev):
    """put_device()."""
    from ...lib import kobject as ko
    if dev:
        yield from ko.put(k, _kobj(k, dev))


@static("void device_release(struct kobject *kobj)")
def device_release(k, kobj):
    from .devres import release_all
    dev = kobj - k.target.offset("device.kobj")
    # resources of a device that was driven without a driver bound
    yield from release_all(k, dev)
    dtype = rd(k, dev, "device.type")
    cls = rd(k, dev, "device.class")
    fn = rd(k, dev, "device.release")
    if not fn and dtype:
        fn = rd(k, dtype, "device_type.release")
    if not fn and cls:
        fn = rd(k, cls, "class.dev_release")
    if fn:
        yield k.call_request(fn, dev)
    else:
        from ...lib.kemu_warn import warn
        warn(k, "drivers/base/core.c:2510", "device_release+0x79/0x90",
             f"Device '{dev_name(k, dev)}' does not have a release() function, it is broken and "
             "must be fixed. See Documentation/core-api/kobject.rst.")


@static("void device_create_release(struct device *dev)")
def device_create_release(k, dev):
    kfree(k, dev)


@static("ssize_t dev_attr_show(struct kobject *kobj, struct attribute *attr, char *buf)")
def dev_attr_show(k, kobj, attr, buf):
    t = k.target
    dattr = attr - t.offset("device_attribute.attr")
    show = rd(k, dattr, "device_attribute.show")
    if not show:
        return -errno.EIO
    ret = s64((yield k.call_request(show, kobj - t.offset("device.kobj"), dattr, buf)))
    if ret >= 4096:
        k.log.emit(KERN_WARNING, f"dev_attr_show: {k.format_addr(show)} returned bad count")
    return ret


@static("ssize_t dev_attr_store(struct kobject *kobj, struct attribute *attr, const char *buf, "
        "size_t count)")
def dev_attr_store(k, kobj, attr, buf, count):
    t = k.target
    dattr = attr - t.offset("device_attribute.attr")
    store = rd(k, dattr, "device_attribute.store")
    if not store:
        return -errno.EIO
    return s64((yield k.call_request(store, kobj - t.offset("device.kobj"), dattr, buf, count)))


# ------------------------------------------------------------ exports
@export("void device_initialize(struct device *dev)")
def device_initialize(k, dev):
    initialize(k, dev)


@export("int device_add(struct device *dev)")
def device_add(k, dev):
    return (yield from device_add_gen(k, dev))


@export("int device_register(struct device *dev)", fails="-ENOMEM")
def device_register(k, dev):
    initialize(k, dev)
    return (yield from device_add_gen(k, dev))


@export("void device_del(struct device *dev)")
def device_del(k, dev):
    yield from device_del_gen(k, dev)


@export("void device_unregister(struct device *dev)")
def device_unregister(k, dev):
    yield from device_del_gen(k, dev)
    yield from put_device_gen(k, dev)


@export("void put_device(struct device *dev)")
def put_device(k, dev):
    yield from put_device_gen(k, dev)


@export("int dev_set_name(struct device *dev, const char *fmt, ...)")
def dev_set_name(k, dev, fmt, va):
    from ...lib import kobject as ko
    ko.set_name(k, _kobj(k, dev), vformat(k, fmt, va).decode("utf-8", "surrogateescape"))
    return 0


def create_device(k, cls, parent, devt, drvdata, groups, name):
    """device_create_groups_vargs() with the name formatted."""
    if not cls or is_err(cls):
        return err_ptr(-errno.ENODEV)
    dev = kzalloc(k, k.target.sizeof("device"), "device")
    initialize(k, dev)
    wr(k, dev, "device.devt", devt, 4)
    wr(k, dev, "device.class", cls)
    wr(k, dev, "device.parent", parent)
    wr(k, dev, "device.groups", groups)
    wr(k, dev, "device.release", static_addr(k, "device_create_release"))
    wr(k, dev, "device.driver_data", drvdata)
    from ...lib import kobject as ko
    ko.set_name(k, _kobj(k, dev), name)
    err = yield from device_add_gen(k, dev)
    if err:
        yield from put_device_gen(k, dev)
        return err_ptr(err)
    return dev


@export("struct device *device_create(struct class *cls, struct device *parent, dev_t devt, "
        "void *drvdata, const char *fmt, ...)", fails="ERR_PTR(-ENOMEM)")
def device_create(k, cls, parent, devt, drvdata, fmt, va):
    name = vformat(k, fmt, va).decode("utf-8", "surrogateescape")
    return (yield from create_device(k, cls, parent, devt, drvdata, 0, name))


@export("struct device *device_create_with_groups(struct class *cls, struct device *parent, "
        "dev_t devt, void *drvdata, const struct attribute_group **groups, const char *fmt, ...)")
def device_create_with_groups(k, cls, parent, devt, drvdata, groups, fmt, va):
    name = vformat(k, fmt, va).decode("utf-8", "surrogateescape")
    return (yield from create_device(k, cls, parent, devt, drvdata, groups, name))


@export("void device_destroy(struct class *cls, dev_t devt)")
def device_destroy(k, cls, devt):
    from .class_ import Classes
    dev = k.model(Classes).find_by_devt(cls, devt)
    if dev:                                   # device_unregister(dev)
        yield from device_del_gen(k, dev)
        yield from put_device_gen(k, dev)


@export("int device_create_file(struct device *dev, const struct device_attribute *attr)", fails="-ENOMEM")
def device_create_file(k, dev, attr):
    from ...fs.sysfs import sysfs_create_file_ns
    from ...lib.kemu_warn import warn
    if not dev:
        return 0
    t = k.target
    a = attr + t.offset("device_attribute.attr")
    mode = rd(k, a, "attribute.mode", 2)
    name = cstr(k, rd(k, a, "attribute.name"), 256)
    if mode & 0o222 and not rd(k, attr, "device_attribute.store"):
        warn(k, "drivers/base/core.c:3050", "device_create_file+0x53/0x90",
             f"Attribute {name}: write permission without 'store'")
    if mode & 0o444 and not rd(k, attr, "device_attribute.show"):
        warn(k, "drivers/base/core.c:3053", "device_create_file+0x70/0x90",
             f"Attribute {name}: read permission without 'show'")
    return sysfs_create_file_ns(k, _kobj(k, dev), a, 0)


@export("void device_remove_file(struct device *dev, const struct device_attribute *attr)")
def device_remove_file(k, dev, attr):
    from ...fs.sysfs import sysfs_remove_file_ns
    if dev:
        sysfs_remove_file_ns(k, _kobj(k, dev), attr + k.target.offset("device_attribute.attr"), 0)


@export("int device_add_groups(struct device *dev, const struct attribute_group **groups)")
def device_add_groups(k, dev, groups):
    return (yield from create_groups(k, _kobj(k, dev), groups))


@export("void device_remove_groups(struct device *dev, const struct attribute_group **groups)")
def device_remove_groups(k, dev, groups):
    remove_groups(k, _kobj(k, dev), groups)


# ------------------------------------------------------------ Python API
def device_list(k) -> list:
    """(sysfs path, dev_t, class name or None, owner module name or None) of added devices."""
    return [(rec.path, rd(k, dev, "device.devt", 4), _class_name(k, rec.cls) or None,
             rec.owner.name if rec.owner else None)
            for dev, rec in k.model(Devices).added.items()]


# ------------------------------------------------------------ matching and children
@export("int device_match_devt(struct device *dev, const void *pdevt)")
def device_match_devt(k, dev, pdevt):
    return int(rd(k, dev, "device.devt", 4) == k.machine.read_u32(pdevt))


@export("int device_match_name(struct device *dev, const void *name)")
def device_match_name(k, dev, name):
    """sysfs_streq(dev_name(dev), name): a trailing newline is ignored."""
    a, b = dev_name(k, dev), cstr(k, name, 256)
    return int(a.rstrip("\n") == b.rstrip("\n"))


@export("int device_match_fwnode(struct device *dev, const void *fwnode)")
def device_match_fwnode(k, dev, fwnode):
    return int(rd(k, dev, "device.fwnode") == fwnode)


@export("int device_match_any(struct device *dev, const void *unused)")
def device_match_any(k, dev, unused):
    return 1


def _children(k, parent):
    return [d for d in k.model(Devices).added if d != parent and rd(k, d, "device.parent") == parent]


@export("int device_for_each_child(struct device *parent, void *data, "
        "int (*fn)(struct device *dev, void *data))")
def device_for_each_child(k, parent, data_, fn):
    if not parent:
        return 0
    for dev in _children(k, parent):
        ret = s64((yield k.call_request(fn, dev, data_))) & 0xFFFFFFFF
        if ret:
            return ret - (1 << 32) if ret >> 31 else ret
    return 0


@export("struct device *device_find_child(struct device *parent, void *data, "
        "int (*match)(struct device *dev, void *data))")
def device_find_child(k, parent, data_, match):
    if not parent:
        return 0
    for dev in _children(k, parent):
        if (yield k.call_request(match, dev, data_)) & 0xFFFFFFFF:
            return get_device(k, dev)
    return 0


@export("struct device *device_find_child_by_name(struct device *parent, const char *name)")
def device_find_child_by_name(k, parent, name):
    if not parent:
        return 0
    want = cstr(k, name, 256)
    for dev in _children(k, parent):
        if dev_name(k, dev) == want:
            return get_device(k, dev)
    return 0


@export("int device_create_bin_file(struct device *dev, const struct bin_attribute *attr)")
def device_create_bin_file(k, dev, attr):
    from ...fs.sysfs import sysfs_create_bin_file
    if not dev:
        return -errno.EINVAL
    return sysfs_create_bin_file(k, _kobj(k, dev), attr)


@export("void device_remove_bin_file(struct device *dev, const struct bin_attribute *attr)")
def device_remove_bin_file(k, dev, attr):
    from ...fs.sysfs import sysfs_remove_bin_file
    if dev:
        sysfs_remove_bin_file(k, _kobj(k, dev), attr)


@export("void device_set_of_node_from_dev(struct device *dev, const struct device *dev2)")
def device_set_of_node_from_dev(k, dev, dev2):
    """dev->of_node = dev2->of_node (kemu has no OF nodes to count references of)."""
    wr(k, dev, "device.of_node", rd(k, dev2, "device.of_node"))


@export("void set_primary_fwnode(struct device *dev, struct fwnode_handle *fwnode)")
def set_primary_fwnode(k, dev, fwnode):
    """kemu's fwnodes have no secondary chain: the primary is simply replaced."""
    wr(k, dev, "device.fwnode", fwnode)


@export("void __suspend_report_result(const char *function, struct device *dev, void *fn, "
        "int ret)")
def __suspend_report_result(k, function, dev, fn, ret):
    from .dev_printk import dev_emit
    ret = ret - (1 << 32) if ret >> 31 else ret
    if ret:
        hit = k.symbolize(fn)
        where = f"{hit[0]}+{hit[1]:#x}/{hit[2]:#x}" + (f" [{hit[3]}]" if hit[3] else "") \
            if hit else f"{fn:#x}"
        dev_emit(k, KERN_ERR, dev, f"{cstr(k, function, 64)}(): {where} returns {ret}\n"
                 .encode("utf-8", "surrogateescape"))


@export("int device_pm_wait_for_dev(struct device *subordinate, struct device *dev)")
def device_pm_wait_for_dev(k, subordinate, dev):
    """No asynchronous suspend/resume runs in kemu: nothing to wait for."""
    return 0


@data("const char power_group_name[6]")
def power_group_name(k, addr):
    k.machine.write(addr, b"power\0")
