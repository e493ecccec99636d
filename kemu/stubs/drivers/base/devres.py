"""drivers/base/devres.c: managed (devm_*) resources of a device.

Each device has a list of resources, released in reverse order when its
driver is unbound, its probe fails, or (for resources of a device that
never had a driver) when the device is released. ``devres_alloc`` /
``devres_add`` / ``devres_free`` / ``devres_destroy`` / ``devres_release``
work on the data area the kernel gives out; ``devm_kmalloc`` memory, actions
(``devm_add_action``), managed IRQs and I/O regions are resources of the same
list. kemu keeps the list in Python (the release callback, the data pointer).

Python API: ``devres_list(k, dev) -> [(name, data)]``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.kernel.log import KERN_ERR

from kemu.abi.toolkit import cstr, kfree, rd, s32
from kemu.stubs.lib.vsprintf import vformat


class Res:
    """One devres: data area, release (C function address or Python generator fn)."""
    __slots__ = ("data", "release", "py", "name", "size")

    def __init__(self, data, release, name, size=0, py=None):
        self.data, self.release, self.name, self.size, self.py = data, release, name, size, py


class Devres:
    """Per-kernel devres lists: device -> [Res], and allocated-but-not-added ones."""

    def __init__(self, k):
        self.lists: dict[int, list[Res]] = {}
        self.pending: dict[int, Res] = {}


def _alloc(k, size, gfp, kind):
    from ...mm.slab import kmalloc
    return kmalloc(k, max(size, 1), gfp | k.target.const("__GFP_ZERO"), kind)


def add(k, dev, res: Res) -> None:
    """devres_add()."""
    k.model(Devres).lists.setdefault(dev, []).append(res)


def add_py(k, dev, name: str, release, data=0) -> Res:
    """A resource released by the Python generator ``release(k, dev, data)``."""
    res = Res(data, 0, name, py=release)
    add(k, dev, res)
    return res


def _run_release(k, dev, res: Res):
    if res.py is not None:
        yield from res.py(k, dev, res.data)
    elif res.release:
        yield k.call_request(res.release, dev, res.data)
    if res.size:
        kfree(k, res.data)


def release_all(k, dev):
    """devres_release_all(): release every resource, newest first (generator)."""
    lists = k.model(Devres).lists
    while lists.get(dev):
        res = lists[dev].pop()
        yield from _run_release(k, dev, res)
    lists.pop(dev, None)


# ------------------------------------------------------------ generic devres
@export("void *devres_alloc_node(void (*release)(struct device *dev, void *res), size_t size, "
        "gfp_t gfp, int nid)", until="6.1", fails="NULL")
def devres_alloc_node(k, release, size, gfp, nid):
    """5.10: devres_alloc_node() has no name (6.0's __devres_alloc_node() does)."""
    return __devres_alloc_node(k, release, size, gfp, nid, 0)


@export("void *__devres_alloc_node(void (*release)(struct device *dev, void *res), size_t size, gfp_t gfp, int nid, "
        "const char *name)", fails="NULL")
def __devres_alloc_node(k, release, size, gfp, nid, name):
    data = _alloc(k, size, gfp, "devres")
    if not data:
        return 0
    k.model(Devres).pending[data] = Res(data, release, cstr(k, name, 64), size=size)
    return data


@export("void devres_add(struct device *dev, void *res)")
def devres_add(k, dev, res):
    rec = k.model(Devres).pending.pop(res, None)
    if rec is None:
        from ...lib.kemu_warn import warn
        warn(k, "drivers/base/devres.c:253", "devres_add+0x44/0x50")
        return
    add(k, dev, rec)


@export("void devres_free(void *res)")
def devres_free(k, res):
    if not res:
        return
    rec = k.model(Devres).pending.pop(res, None)
    if rec is None:
        from ...lib.kemu_warn import warn
        warn(k, "drivers/base/devres.c:189", "devres_free+0x3a/0x40")
    kfree(k, res)


def _find(k, dev, release, match, match_data):
    """The newest resource with ``release`` whose ``match(dev, data, match_data)`` holds."""
    for res in reversed(k.model(Devres).lists.get(dev, [])):
        if res.release != release or res.py is not None:
            continue
        if match and not s32((yield k.call_request(match, dev, res.data, match_data))):
            continue
        return res
    return None


@export("void *devres_find(struct device *dev, void (*release)(struct device *dev, void *res), int (*match)(struct device *dev, void *res, void *match_data), "
        "void *match_data)")
def devres_find(k, dev, release, match, match_data):
    res = yield from _find(k, dev, release, match, match_data)
    return res.data if res is not None else 0


@export("void *devres_remove(struct device *dev, void (*release)(struct device *dev, void *res), int (*match)(struct device *dev, void *res, void *match_data), "
        "void *match_data)")
def devres_remove(k, dev, release, match, match_data):
    res = yield from _find(k, dev, release, match, match_data)
    if res is None:
        return 0
    k.model(Devres).lists[dev].remove(res)
    k.model(Devres).pending[res.data] = res
    return res.data


@export("int devres_destroy(struct device *dev, void (*release)(struct device *dev, void *res), int (*match)(struct device *dev, void *res, void *match_data), "
        "void *match_data)")
def devres_destroy(k, dev, release, match, match_data):
    res = yield from _find(k, dev, release, match, match_data)
    if res is None:
        return -errno.ENOENT
    k.model(Devres).lists[dev].remove(res)
    kfree(k, res.data)
    return 0


@export("int devres_release(struct device *dev, void (*release)(struct device *dev, void *res), int (*match)(struct device *dev, void *res, void *match_data), "
        "void *match_data)")
def devres_release(k, dev, release, match, match_data):
    res = yield from _find(k, dev, release, match, match_data)
    if res is None:
        return -errno.ENOENT
    k.model(Devres).lists[dev].remove(res)
    yield from _run_release(k, dev, res)
    return 0


# ------------------------------------------------------------ managed memory
@export("void *devm_kmalloc(struct device *dev, size_t size, gfp_t gfp)", fails="NULL")
def devm_kmalloc(k, dev, size, gfp):
    if not size:
        return k.target.const("ZERO_SIZE_PTR")
    data = _alloc(k, size, gfp, "devm_kmalloc")
    if data:
        add(k, dev, Res(data, 0, "devm_kmalloc_release", size=size))
    return data


def _kmalloc_res(k, dev, data):
    for res in k.model(Devres).lists.get(dev, []):
        if res.data == data and res.name == "devm_kmalloc_release":
            return res
    return None


@export("void devm_kfree(struct device *dev, const void *p)")
def devm_kfree(k, dev, p):
    if p <= k.target.const("ZERO_SIZE_PTR"):
        return
    res = _kmalloc_res(k, dev, p)
    if res is None:
        from ...lib.kemu_warn import warn
        warn(k, "drivers/base/devres.c:1073", "devm_kfree+0x4a/0x60")
        return
    k.model(Devres).lists[dev].remove(res)
    kfree(k, p)


@export("void *devm_krealloc(struct device *dev, void *ptr, size_t new_size, gfp_t gfp)", fails="NULL")
def devm_krealloc(k, dev, ptr, new_size, gfp):
    if ptr <= k.target.const("ZERO_SIZE_PTR"):
        return devm_kmalloc(k, dev, new_size, gfp)
    if not new_size:
        devm_kfree(k, dev, ptr)
        return k.target.const("ZERO_SIZE_PTR")
    res = _kmalloc_res(k, dev, ptr)
    if res is None:
        return 0
    new = _alloc(k, new_size, gfp, "devm_kmalloc")
    k.machine.write(new, k.machine.read(ptr, min(res.size, new_size)))
    kfree(k, ptr)
    res.data, res.size = new, new_size
    return new


def _dup(k, dev, raw: bytes, gfp):
    p = devm_kmalloc(k, dev, len(raw), gfp)
    if p:
        k.machine.write(p, raw)
    return p


@export("char *devm_kstrdup(struct device *dev, const char *s, gfp_t gfp)", fails="NULL")
def devm_kstrdup(k, dev, s, gfp):
    return _dup(k, dev, k.machine.read_cstr(s) + b"\0", gfp) if s else 0


@export("const char *devm_kstrdup_const(struct device *dev, const char *s, gfp_t gfp)")
def devm_kstrdup_const(k, dev, s, gfp):
    return devm_kstrdup(k, dev, s, gfp)


@export("void *devm_kmemdup(struct device *dev, const void *src, size_t len, gfp_t gfp)", fails="NULL")
def devm_kmemdup(k, dev, src, len_, gfp):
    return _dup(k, dev, k.machine.read(src, len_), gfp)


@export("char *devm_kasprintf(struct device *dev, gfp_t gfp, const char *fmt, ...)")
def devm_kasprintf(k, dev, gfp, fmt, va):
    return _dup(k, dev, vformat(k, fmt, va) + b"\0", gfp)


# ------------------------------------------------------------ actions
def _action_release(k, dev, data):
    action, arg = data
    yield k.call_request(action, arg)


@export("int devm_add_action(struct device *dev, void (*action)(void *), void *data)")
def devm_add_action(k, dev, action, data):
    add(k, dev, Res((action, data), 0, "devm_action_release", py=_action_release))
    return 0


@export("int __devm_add_action(struct device *dev, void (*action)(void *), void *data, "
        "const char *name)", since="6.12")
def __devm_add_action(k, dev, action, data, name):
    """6.13 (in 6.12.y too): devm_add_action() names the action (#action) for devres'
    debug output, which kemu does not print."""
    return devm_add_action(k, dev, action, data)


def _take_action(k, dev, action, data):
    lst = k.model(Devres).lists.get(dev, [])
    for res in reversed(lst):
        if res.py is _action_release and res.data == (action, data):
            lst.remove(res)
            return res
    from ...lib.kemu_warn import warn
    warn(k, "drivers/base/devres.c:771", "devm_remove_action+0x68/0x80")
    return None


@export("void devm_remove_action(struct device *dev, void (*action)(void *), void *data)")
def devm_remove_action(k, dev, action, data):
    _take_action(k, dev, action, data)


@export("void devm_release_action(struct device *dev, void (*action)(void *), void *data)")
def devm_release_action(k, dev, action, data):
    if _take_action(k, dev, action, data) is not None:
        yield k.call_request(action, data)


# ------------------------------------------------------------ Python API
def devres_list(k, dev) -> list:
    """[(name, data)] of a device's managed resources, oldest first."""
    return [(r.name, r.data) for r in k.model(Devres).lists.get(dev, [])]


# ------------------------------------------------------------ managed irqs and regions
def _irq_release(k, dev, data):
    from ...kernel.irq.manage import remove_action
    irq, dev_id = data
    remove_action(k, irq, dev_id)
    return
    yield


@export("int devm_request_threaded_irq(struct device *dev, unsigned int irq, void *handler, "
        "void *thread_fn, unsigned long irqflags, const char *devname, void *dev_id)", fails="-EBUSY")
def devm_request_threaded_irq(k, dev, irq, handler, thread_fn, irqflags, devname, dev_id):
    from ...kernel.irq.manage import setup_irq
    from .dev_printk import dev_emit
    name = devname or rd(k, dev + k.target.offset("device.kobj"), "kobject.name")
    rc = setup_irq(k, irq, handler, thread_fn, irqflags, name, dev_id)
    if rc:
        dev_emit(k, KERN_ERR, dev, f"error {rc}: request_irq({irq}) {k.format_addr(handler)} "
                            f"{k.format_addr(thread_fn)} {irqflags:#x} "
                            f"{cstr(k, name, 64)}\n".encode("utf-8", "surrogateescape"))
        return rc
    add_py(k, dev, "devm_irq_release", _irq_release, (irq, dev_id))
    return 0


@export("int devm_request_any_context_irq(struct device *dev, unsigned int irq, void *handler, "
        "unsigned long irqflags, const char *devname, void *dev_id)")
def devm_request_any_context_irq(k, dev, irq, handler, irqflags, devname, dev_id):
    from ...kernel.irq.manage import setup_irq
    name = devname or rd(k, dev + k.target.offset("device.kobj"), "kobject.name")
    rc = setup_irq(k, irq, handler, 0, irqflags, name, dev_id)
    if rc:
        return rc
    add_py(k, dev, "devm_irq_release", _irq_release, (irq, dev_id))
    return 0


@export("void devm_free_irq(struct device *dev, unsigned int irq, void *dev_id)")
def devm_free_irq(k, dev, irq, dev_id):
    lst = k.model(Devres).lists.get(dev, [])
    for res in reversed(lst):
        if res.py is _irq_release and res.data == (irq, dev_id):
            lst.remove(res)
            yield from _irq_release(k, dev, res.data)
            return
    from ...lib.kemu_warn import warn
    warn(k, "kernel/irq/devres.c:143", "devm_free_irq+0x6f/0x80")


def _region_release(k, dev, data):
    from ...kernel.resource import __release_region
    parent, start, n = data
    __release_region(k, parent, start, n)
    return
    yield


@export("struct resource *__devm_request_region(struct device *dev, struct resource *parent, "
        "resource_size_t start, resource_size_t n, const char *name)")
def __devm_request_region(k, dev, parent, start, n, name):
    from ...kernel.resource import __request_region
    res = __request_region(k, parent, start, n, name, 0)
    if res:
        add_py(k, dev, "devm_region_release", _region_release, (parent, start, n))
    return res


@export("void __devm_release_region(struct device *dev, struct resource *parent, "
        "resource_size_t start, resource_size_t n)")
def __devm_release_region(k, dev, parent, start, n):
    lst = k.model(Devres).lists.get(dev, [])
    for res in reversed(lst):
        if res.py is _region_release and res.data == (parent, start, n):
            lst.remove(res)
            yield from _region_release(k, dev, res.data)
            return
    from ...lib.kemu_warn import warn
    warn(k, "kernel/resource.c:1636", "__devm_release_region+0x70/0x80")


def _iounmap_release(k, dev, data):
    from ...arch.x86.mm.ioremap import iounmap
    iounmap(k, data)
    return
    yield


@export("void *devm_ioremap(struct device *dev, resource_size_t offset, resource_size_t size)")
def devm_ioremap(k, dev, offset, size):
    from ...arch.x86.mm.ioremap import do_ioremap
    addr = do_ioremap(k, offset, size)
    if addr:
        add_py(k, dev, "devm_ioremap_release", _iounmap_release, addr)
    return addr


@export("void *devm_ioport_map(struct device *dev, unsigned long port, unsigned int nr)")
def devm_ioport_map(k, dev, port, nr):
    from ...lib.iomap import ioport_map
    addr = ioport_map(k, port, nr)
    if addr:
        add_py(k, dev, "devm_ioport_map_release", lambda k, d, a: iter(()), addr)
    return addr


@export("void devm_iounmap(struct device *dev, void *addr)")
def devm_iounmap(k, dev, addr):
    lst = k.model(Devres).lists.get(dev, [])
    for res in reversed(lst):
        if res.py is _iounmap_release and res.data == addr:
            lst.remove(res)
            yield from _iounmap_release(k, dev, addr)
            return
    from ...lib.kemu_warn import warn
    warn(k, "lib/devres.c:115", "devm_iounmap+0x27/0x40")


@export("void *devm_ioremap_resource(struct device *dev, const struct resource *res)")
def devm_ioremap_resource(k, dev, res):
    """__devm_ioremap_resource(): request the region, then map it (both managed)."""
    from kemu.abi.toolkit import err_ptr
    from .dev_printk import dev_emit
    t = k.target
    if not res or rd(k, res, "resource.flags") & t.const("IORESOURCE_TYPE_BITS") != \
            t.const("IORESOURCE_MEM"):
        dev_emit(k, KERN_ERR, dev, b"invalid resource\n")
        return err_ptr(-errno.EINVAL)
    start, end = rd(k, res, "resource.start"), rd(k, res, "resource.end")
    name = rd(k, res, "resource.name") or rd(k, dev + t.offset("device.kobj"), "kobject.name")
    region = __devm_request_region(k, dev, k.export_addr("iomem_resource"), start,
                                              end - start + 1, name)
    if not region:
        dev_emit(k, KERN_ERR, dev, f"can't request region for resource [mem {start:#010x}-{end:#010x}]\n"
                 .encode("utf-8", "surrogateescape"))
        return err_ptr(-errno.EBUSY)
    addr = devm_ioremap(k, dev, start, end - start + 1)
    if not addr:
        dev_emit(k, KERN_ERR, dev, f"ioremap failed for resource [mem {start:#010x}-{end:#010x}]\n"
                 .encode("utf-8", "surrogateescape"))
        return err_ptr(-errno.ENOMEM)
    return addr


from kemu.abi.exports import link_only  # noqa: E402

members("struct device", "kobj")
members("struct resource", "start", "end", "name", "flags")

# Resource groups are opened and released around a driver's probe of a device;
# kemu's machine has no device to probe.
for _proto, _result in (
        ("void *devres_open_group(struct device *dev, void *id, gfp_t gfp)", 0),
        ("void devres_close_group(struct device *dev, void *id)", None),
        ("void devres_remove_group(struct device *dev, void *id)", None),
        ("int devres_release_group(struct device *dev, void *id)", -2),
):
    link_only(_proto, _result, "only a probe of a device opens devres groups, and kemu's "
                               "machine has no device")
