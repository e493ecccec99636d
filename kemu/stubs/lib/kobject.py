"""lib/kobject.c: kobjects with their reference count in ``kobj->kref``.

A kobject added to sysfs gets a directory in the sysfs model; the last
``kobject_put`` removes it and calls ``ktype->release`` in emulation (for
``kobject_create``'d objects the kernel's ``dynamic_kobj_release``, a kfree).
The kernel's warnings for using an uninitialized kobject, re-initializing one
and a missing ktype are reproduced. ``kernel_kobj``, ``fs_kobj``,
``firmware_kobj``, ``mm_kobj`` and ``hypervisor_kobj`` are kernel kobjects
for /sys/kernel, /sys/fs, ...

Python API: ``kobject_name(k, kobj)``, ``kobject_refcount(k, kobj)``.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import VaList, members
from kemu.kernel.log import KERN_ERR, KERN_WARNING

from kemu.abi.toolkit import (cstr, init_list_head, kfree, kstrdup, kzalloc, rd, static,
                              static_addr, wr)
from kemu.stubs.lib.vsprintf import vformat
from ..fs.sysfs import Node, Sysfs, remove_groups, create_groups
from .refcount import REFCOUNT_ADD_OVF, REFCOUNT_ADD_UAF, _dec_and_test, refcount_warn_saturate

members("struct kobj_type", "release", "sysfs_ops", "default_groups")
members("struct sysfs_ops", "show", "store")
members("struct kset", "list", "kobj", "uevent_ops", "list_lock")
members("struct kref", "refcount")


members("struct kobject", "name", "entry", "parent", "kset", "ktype", "sd", "kref")


class KObj:
    """kemu's record of one initialized kobject."""
    __slots__ = ("addr", "path", "in_sysfs", "dynamic")

    def __init__(self, addr, dynamic=False):
        self.addr, self.path, self.in_sysfs, self.dynamic = addr, "", False, dynamic


class KObjects:
    """Per-kernel kobject records and the kernel's own kobj_types."""

    def __init__(self, k):
        self.k = k
        self.objs: dict[int, KObj] = {}
        k.model(Sysfs).kobjects = self.objs     # sysfs finds a kobject's directory here
        t = k.target
        m = k.machine
        self.kobj_sysfs_ops = m.alloc_kdata(t.sizeof("sysfs_ops"), 8)
        wr(k, self.kobj_sysfs_ops, "sysfs_ops.show", static_addr(k, "kobj_attr_show"))
        wr(k, self.kobj_sysfs_ops, "sysfs_ops.store", static_addr(k, "kobj_attr_store"))
        self.dynamic_ktype = m.alloc_kdata(t.sizeof("kobj_type"), 8)
        wr(k, self.dynamic_ktype, "kobj_type.release", static_addr(k, "dynamic_kobj_release"))
        wr(k, self.dynamic_ktype, "kobj_type.sysfs_ops", self.kobj_sysfs_ops)
        self.kset_ktype = m.alloc_kdata(t.sizeof("kobj_type"), 8)
        wr(k, self.kset_ktype, "kobj_type.release", static_addr(k, "kset_release"))
        wr(k, self.kset_ktype, "kobj_type.sysfs_ops", self.kobj_sysfs_ops)

    def kernel_kobject(self, name: str, path: str) -> int:
        """A kobject the kernel made at boot (in kernel data, never released)."""
        k, t = self.k, self.k.target
        kobj = k.machine.alloc_kdata(t.sizeof("kobject"), 8)
        name_addr = k.machine.alloc_kdata(len(name) + 1, 1)
        k.machine.write(name_addr, name.encode() + b"\0")
        wr(k, kobj, "kobject.name", name_addr)
        wr(k, kobj, "kobject.ktype", self.dynamic_ktype)
        wr(k, kobj, "kobject.kref", 1, 4)
        init_list_head(k, kobj + t.offset("kobject.entry"))
        rec = KObj(kobj)
        rec.path, rec.in_sysfs = path, True
        self.objs[kobj] = rec
        wr(k, kobj, "kobject.sd", kobj)         # any non-NULL kernfs_node
        return kobj


def kobject_name(k, kobj) -> str:
    """kobject_name()."""
    return cstr(k, rd(k, kobj, "kobject.name"), 256)


def _kref(k, kobj):
    return kobj + k.target.offset("kobject.kref")


def kobject_refcount(k, kobj) -> int:
    """The kref count of a kobject."""
    return k.machine.read_u32(_kref(k, kobj))


def init(k, kobj, ktype, dynamic=False) -> None:
    """kobject_init()."""
    objs = k.model(KObjects).objs
    if not kobj:
        k.log.emit(KERN_ERR, "kobject: invalid kobject pointer!")
        k.dump_stack()
        return
    if not ktype:
        k.log.emit(KERN_ERR, "kobject: must have a ktype")
        k.dump_stack()
        return
    rec = objs.get(kobj)
    if rec is not None and kobject_refcount(k, kobj):
        k.log.emit(KERN_ERR, f"kobject ({k.hash_pointer(kobj)}): tried to init an initialized object, "
                      "something is seriously wrong.")
        k.dump_stack()
    wr(k, kobj, "kobject.kref", 1, 4)
    init_list_head(k, kobj + k.target.offset("kobject.entry"))
    wr(k, kobj, "kobject.ktype", ktype)
    objs[kobj] = KObj(kobj, dynamic)


def set_name(k, kobj, name: str) -> None:
    """kobject_set_name_vargs() with the name already formatted ('/' becomes '!')."""
    old = rd(k, kobj, "kobject.name")
    wr(k, kobj, "kobject.name", kstrdup(k, name.replace("/", "!"), "kobject name"))
    if old:
        kfree(k, old)


def add(k, kobj, parent, name: str | None):
    """kobject_add_varg() + kobject_add_internal(): 0 or -errno (generator: default groups)."""
    rec = k.model(KObjects).objs.get(kobj)
    if rec is None:
        nm = cstr(k, rd(k, kobj, "kobject.name"), 256) if kobj else ""
        k.log.emit(KERN_ERR, f"kobject '{nm}' ({k.hash_pointer(kobj)}): tried to add an uninitialized "
                      "object, something is seriously wrong.")
        k.dump_stack()
        return -errno.EINVAL
    if name is not None:
        set_name(k, kobj, name)
    if parent:
        wr(k, kobj, "kobject.parent", parent)
    return (yield from add_internal(k, kobj))


def add_internal(k, kobj):
    """kobject_add_internal(): the sysfs directory, the ktype's default groups."""
    objs = k.model(KObjects).objs
    rec = objs[kobj]
    name = cstr(k, rd(k, kobj, "kobject.name"), 256)
    if not name:
        k.log.emit(KERN_ERR, f"kobject: ({k.hash_pointer(kobj)}): attempted to be registered with "
                      "empty name!")
        k.dump_stack()
        return -errno.EINVAL
    parent = rd(k, kobj, "kobject.parent")
    if not parent:
        kset = rd(k, kobj, "kobject.kset")
        if kset:
            parent = kset + k.target.offset("kset.kobj")
            wr(k, kobj, "kobject.parent", parent)
    if parent:
        get(k, parent)
        prec = objs.get(parent)
        base = prec.path if prec is not None and prec.in_sysfs else None
        if base is None:
            base = ""
    else:
        base = ""
    path = f"{base}/{name}"
    err = k.model(Sysfs).add(Node(path, "dir", k.current_module(), kobj=kobj))
    if err == 0:
        ktype = rd(k, kobj, "kobject.ktype")
        groups = rd(k, ktype, "kobj_type.default_groups") if ktype else 0
        rec.path, rec.in_sysfs = path, True
        wr(k, kobj, "kobject.sd", kobj)
        if groups:
            err = yield from create_groups(k, kobj, groups)
            if err:
                k.model(Sysfs).remove(path)
                rec.in_sysfs = False
                wr(k, kobj, "kobject.sd", 0)
    if err:
        if parent:
            yield from put(k, parent)
        wr(k, kobj, "kobject.parent", 0)
        if err == -errno.EEXIST:
            k.log.emit(KERN_ERR, f"kobject_add_internal failed for {name} with -EEXIST, don't try to "
                          "register things with the same name in the same directory.")
        else:
            k.log.emit(KERN_ERR, f"kobject_add_internal failed for {name} ({err})")
    return err


def get(k, kobj) -> int:
    """kobject_get()."""
    if kobj:
        if kobj not in k.model(KObjects).objs:
            from .kemu_warn import warn
            warn(k, "lib/kobject.c:632", "kobject_get+0x43/0x70",
                 f"kobject: '{cstr(k, rd(k, kobj, 'kobject.name'), 256)}' "
                 f"({k.hash_pointer(kobj)}): is not initialized, yet kobject_get() is being called.")
        _kref_get(k, _kref(k, kobj))
    return kobj


def _kref_get(k, r) -> None:
    """kref_get(): refcount_inc(), which saturates and WARNs on 0 or overflow."""
    old = k.machine.read_s32(r)
    if old == 0:
        refcount_warn_saturate(k, r, REFCOUNT_ADD_UAF)
    elif old < 0 or old + 1 < 0 or old + 1 > 0x7FFFFFFF:
        refcount_warn_saturate(k, r, REFCOUNT_ADD_OVF)
    else:
        k.machine.write_u32(r, old + 1)


def delete(k, kobj):
    """__kobject_del() + kobject_put(parent) (generator)."""
    rec = k.model(KObjects).objs.get(kobj)
    if rec is None or not rec.in_sysfs:
        return
    ktype = rd(k, kobj, "kobject.ktype")
    if ktype:
        remove_groups(k, kobj, rd(k, ktype, "kobj_type.default_groups"))
    k.model(Sysfs).remove(rec.path)
    rec.in_sysfs = False
    wr(k, kobj, "kobject.sd", 0)
    parent = rd(k, kobj, "kobject.parent")
    wr(k, kobj, "kobject.parent", 0)
    if parent:
        yield from put(k, parent)


def put(k, kobj):
    """kobject_put(): the last reference deletes and releases (a generator)."""
    if not kobj:
        return
    objs = k.model(KObjects).objs
    if kobj not in objs:
        from .kemu_warn import warn
        warn(k, "lib/kobject.c:726", "kobject_put+0xbd/0x1d0",
             f"kobject: '{cstr(k, rd(k, kobj, 'kobject.name'), 256)}' ({k.hash_pointer(kobj)}): "
             "is not initialized, yet kobject_put() is being called.")
    # kref_put(): refcount_dec_and_test(), which WARNs on underflow
    if not _dec_and_test(k, _kref(k, kobj)) or kobj not in objs:
        return
    # kobject_cleanup()
    rec = objs[kobj]
    ktype = rd(k, kobj, "kobject.ktype")
    if rec.in_sysfs:
        yield from delete(k, kobj)
    name = rd(k, kobj, "kobject.name")
    del objs[kobj]
    release = rd(k, ktype, "kobj_type.release") if ktype else 0
    if release:
        yield k.call_request(release, kobj)
    if name:
        kfree(k, name)


@static("void dynamic_kobj_release(struct kobject *kobj)")
def dynamic_kobj_release(k, kobj):
    kfree(k, kobj)


@static("void kset_release(struct kobject *kobj)")
def kset_release(k, kobj):
    kfree(k, kobj - k.target.offset("kset.kobj"))


# ------------------------------------------------------------ exports
@export("void kobject_init(struct kobject *kobj, const struct kobj_type *ktype)")
def kobject_init(k, kobj, ktype):
    init(k, kobj, ktype)


@export("int kobject_add(struct kobject *kobj, struct kobject *parent, const char *fmt, ...)")
def kobject_add(k, kobj, parent, fmt, va):
    if not kobj:
        return -errno.EINVAL
    name = vformat(k, fmt, va).decode("utf-8", "surrogateescape") if fmt else None
    return (yield from add(k, kobj, parent, name))


@export("int kobject_init_and_add(struct kobject *kobj, const struct kobj_type *ktype, "
        "struct kobject *parent, const char *fmt, ...)")
def kobject_init_and_add(k, kobj, ktype, parent, fmt, va):
    init(k, kobj, ktype)
    name = vformat(k, fmt, va).decode("utf-8", "surrogateescape") if fmt else None
    return (yield from add(k, kobj, parent, name))


@export("struct kobject *kobject_create_and_add(const char *name, struct kobject *parent)", fails="NULL")
def kobject_create_and_add(k, name, parent):
    kobj = kzalloc(k, k.target.sizeof("kobject"), "kobject")
    init(k, kobj, k.model(KObjects).dynamic_ktype, dynamic=True)
    err = yield from add(k, kobj, parent, cstr(k, name, 256))
    if err:
        k.log.emit(KERN_WARNING, f"kobject_create_and_add: kobject_add error: {err}")
        yield from put(k, kobj)
        return 0
    return kobj


@export("int kobject_set_name(struct kobject *kobj, const char *fmt, ...)")
def kobject_set_name(k, kobj, fmt, va):
    set_name(k, kobj, vformat(k, fmt, va).decode("utf-8", "surrogateescape"))
    return 0


def kobject_set_name_vargs(k, kobj, fmt, vargs):
    set_name(k, kobj, vformat(k, fmt, VaList(k.machine, vargs)).decode("utf-8", "surrogateescape"))
    return 0


@export("struct kobject *kobject_get(struct kobject *kobj)")
def kobject_get(k, kobj):
    return get(k, kobj)


@export("void kobject_put(struct kobject *kobj)")
def kobject_put(k, kobj):
    yield from put(k, kobj)


@export("void kobject_del(struct kobject *kobj)")
def kobject_del(k, kobj):
    yield from delete(k, kobj)


@export("int kobject_uevent(struct kobject *kobj, enum kobject_action action)")
def kobject_uevent(k, kobj, action):
    return 0


@export("int kobject_uevent_env(struct kobject *kobj, enum kobject_action action, char **envp)")
def kobject_uevent_env(k, kobj, action, envp):
    return 0


@export("struct kset *kset_create_and_add(const char *name, const struct kset_uevent_ops *u, "
        "struct kobject *parent_kobj)", fails="NULL")
def kset_create_and_add(k, name, u, parent_kobj):
    t = k.target
    kset = kzalloc(k, t.sizeof("kset"), "kset")
    kobj = kset + t.offset("kset.kobj")
    init(k, kobj, k.model(KObjects).kset_ktype)
    init_list_head(k, kset + t.offset("kset.list"))
    wr(k, kset, "kset.uevent_ops", u)
    wr(k, kobj, "kobject.parent", parent_kobj)
    err = yield from add(k, kobj, 0, cstr(k, name, 256))
    if err:
        yield from put(k, kobj)
        return 0
    return kset


@export("int kset_register(struct kset *kset)")
def kset_register(k, kset):
    if not kset:
        return -errno.EINVAL
    t = k.target
    kobj = kset + t.offset("kset.kobj")
    init_list_head(k, kset + t.offset("kset.list"))
    if kobj not in k.model(KObjects).objs:
        init(k, kobj, rd(k, kobj, "kobject.ktype") or k.model(KObjects).kset_ktype)
    return (yield from add_internal(k, kobj))


@export("void kset_unregister(struct kset *kset)")
def kset_unregister(k, kset):
    if not kset:
        return
    kobj = kset + k.target.offset("kset.kobj")
    yield from delete(k, kobj)
    yield from put(k, kobj)


def _boot_kobj(name, path):
    def init_(k, addr):
        k.machine.write_u64(addr, k.model(KObjects).kernel_kobject(name, path))
    return init_


for _name, _dir, _path in (("kernel_kobj", "kernel", "/kernel"), ("fs_kobj", "fs", "/fs"),
                           ("firmware_kobj", "firmware", "/firmware"),
                           ("mm_kobj", "mm", "/kernel/mm"),
                           ("hypervisor_kobj", "hypervisor", "/hypervisor")):
    data(f"struct kobject *{_name}")(_boot_kobj(_dir, _path))


@export("char *kobject_get_path(const struct kobject *kobj, gfp_t flag)")
def kobject_get_path(k, kobj, flag):
    """"/" and each ancestor's name down to ``kobj`` (kobject_get_path()), kmalloc'd."""
    names = []
    node = kobj
    while node:
        names.append(kobject_name(k, node))
        node = rd(k, node, "kobject.parent")
    if not names or not all(names):
        return 0
    path = ("/" + "/".join(reversed(names))).encode()
    out = kzalloc(k, len(path) + 1, "kobject path")
    k.machine.write(out, path)
    return out
