"""kernel/padata.c: parallel processing with serialised completion (pcrypt's engine).

padata_alloc() makes the instance as the kernel does (its parallel and serial
workqueues, CPU masks, the kobject the caller adds to sysfs, released through
padata_attr_type's release), shells and their parallel_data. kemu emulates
one CPU: padata_do_parallel() takes the path the kernel takes when no
padata_work is free and runs ->parallel() in the caller's task; objects
handed to padata_do_serial() leave in sequence-number order through ->serial(),
as padata_reorder() and the serial worker deliver them.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import init_list_head, kfree, kzalloc, rd, static, static_addr, wr
from ..lib.kemu_warn import warn

members("struct kobj_type", "release")
members("struct padata_priv", "pd", "cb_cpu", "seq_nr", "parallel", "serial", "list", "info")
members("struct padata_shell", "pinst", "pd", "list", "opd")
members("struct parallel_data", "ps", "refcnt", "seq_nr", "processed", "cpu", "cpumask",
        "reorder_list", "squeue")
members("struct padata_instance", "parallel_wq", "serial_wq", "pslist", "cpumask",
        "validate_cpumask", "kobj", "lock", "flags", "cpuhp_node")
members("struct padata_cpumask", "pcpu", "cbcpu")


class Padata:
    """Per-kernel padata state: the kobj_type and each parallel_data's reorder queue."""

    def __init__(self, k):
        t, m = k.target, k.machine
        self.attr_type = m.alloc_kdata(t.sizeof("kobj_type"), 8)     # padata_attr_type
        m.write_u64(self.attr_type + t.offset("kobj_type.release"),
                    static_addr(k, "padata_sysfs_release"))
        self.reorder: dict = {}            # parallel_data -> {seq_nr: padata_priv}


def _cpumask_alloc(k, value):
    """alloc_cpumask_var() and a copy of ``value`` (CONFIG_CPUMASK_OFFSTACK)."""
    nr = k.machine.read_u32(k.export_addr("nr_cpu_ids"))
    mask = kzalloc(k, 8 * ((nr + 63) // 64), "cpumask_var_t")
    k.machine.write_u64(mask, value)
    return mask


def _possible(k):
    return k.machine.read_u64(k.export_addr("__cpu_possible_mask"))


@export("struct padata_instance *padata_alloc(const char *name)")
def padata_alloc(k, name_addr):
    """A padata instance with its workqueues and CPU masks, or NULL."""
    from .workqueue import wqs
    t, m = k.target, k.machine
    name = m.read_cstr(name_addr, 64).decode("utf-8", "replace")
    owner = k.current_module()
    pinst = kzalloc(k, t.sizeof("padata_instance"), "padata_instance")
    w = wqs(k)
    wr(k, pinst, "padata_instance.parallel_wq",
       w.new_wq(f"{name}_parallel", t.const("WQ_UNBOUND"), 0, owner).addr)
    wr(k, pinst, "padata_instance.serial_wq",
       w.new_wq(f"{name}_serial", t.const("WQ_MEM_RECLAIM") | t.const("WQ_CPU_INTENSIVE"), 1,
                owner).addr)
    masks = pinst + t.offset("padata_instance.cpumask")
    for member in ("pcpu", "cbcpu"):
        m.write_u64(masks + t.offset(f"padata_cpumask.{member}"), _cpumask_alloc(k, _possible(k)))
    init_list_head(k, pinst + t.offset("padata_instance.pslist"))
    wr(k, pinst, "padata_instance.validate_cpumask", 0)
    m.write_u8(pinst + t.offset("padata_instance.flags"), t.const("PADATA_INIT"))  # __padata_start
    from ..lib.kobject import init as kobject_init
    kobject_init(k, pinst + t.offset("padata_instance.kobj"), k.model(Padata).attr_type)
    from .locking.mutex import __mutex_init
    __mutex_init(k, pinst + t.offset("padata_instance.lock"), 0, 0)
    return pinst


@static("void padata_sysfs_release(struct kobject *kobj)")
def padata_sysfs_release(k, kobj):
    """__padata_free(): the masks, the workqueues, the instance."""
    from .workqueue import destroy_workqueue
    t, m = k.target, k.machine
    pinst = kobj - t.offset("padata_instance.kobj")
    pslist = pinst + t.offset("padata_instance.pslist")
    if m.read_u64(pslist + t.offset("list_head.next")) != pslist:
        warn(k, "kernel/padata.c:812", "padata_sysfs_release+0x62/0x70")
    masks = pinst + t.offset("padata_instance.cpumask")
    for member in ("pcpu", "cbcpu"):
        kfree(k, m.read_u64(masks + t.offset(f"padata_cpumask.{member}")))
    yield from destroy_workqueue(k, rd(k, pinst, "padata_instance.serial_wq"))
    yield from destroy_workqueue(k, rd(k, pinst, "padata_instance.parallel_wq"))
    kfree(k, pinst)


@export("void padata_free(struct padata_instance *pinst)")
def padata_free(k, pinst):
    from ..lib.kobject import put
    yield from put(k, pinst + k.target.offset("padata_instance.kobj"))


# ---------------------------------------------------------------------- shells
def _alloc_pd(k, ps):
    """padata_alloc_pd(): the shell's parallel_data, masks from the instance."""
    t, m = k.target, k.machine
    pinst = rd(k, ps, "padata_shell.pinst")
    pd = kzalloc(k, t.sizeof("parallel_data"), "parallel_data")
    wr(k, pd, "parallel_data.ps", ps)
    src = pinst + t.offset("padata_instance.cpumask")
    dst = pd + t.offset("parallel_data.cpumask")
    online = m.read_u64(k.export_addr("__cpu_online_mask"))
    for member in ("pcpu", "cbcpu"):
        value = m.read_u64(m.read_u64(src + t.offset(f"padata_cpumask.{member}"))) & online
        m.write_u64(dst + t.offset(f"padata_cpumask.{member}"), _cpumask_alloc(k, value))
    m.write_u32(pd + t.offset("parallel_data.refcnt"), 1)
    pcpu = m.read_u64(m.read_u64(dst + t.offset("padata_cpumask.pcpu")))
    m.write_u32(pd + t.offset("parallel_data.cpu"), (pcpu & -pcpu).bit_length() - 1)
    k.model(Padata).reorder[pd] = {}
    return pd


def _free_pd(k, pd):
    t, m = k.target, k.machine
    masks = pd + t.offset("parallel_data.cpumask")
    for member in ("pcpu", "cbcpu"):
        kfree(k, m.read_u64(masks + t.offset(f"padata_cpumask.{member}")))
    k.model(Padata).reorder.pop(pd, None)
    kfree(k, pd)


@export("struct padata_shell *padata_alloc_shell(struct padata_instance *pinst)")
def padata_alloc_shell(k, pinst):
    from kemu.abi.toolkit import list_add
    t = k.target
    ps = kzalloc(k, t.sizeof("padata_shell"), "padata_shell")
    wr(k, ps, "padata_shell.pinst", pinst)
    wr(k, ps, "padata_shell.pd", _alloc_pd(k, ps))
    list_add(k, ps + t.offset("padata_shell.list"), pinst + t.offset("padata_instance.pslist"))
    return ps


@export("void padata_free_shell(struct padata_shell *ps)")
def padata_free_shell(k, ps):
    from ..crypto.internal import list_del_init
    if not ps:
        return
    list_del_init(k, ps + k.target.offset("padata_shell.list"))
    _put_pd(k, rd(k, ps, "padata_shell.pd"), 1)
    kfree(k, ps)


def _put_pd(k, pd, count):
    ref = pd + k.target.offset("parallel_data.refcnt")
    left = k.machine.read_u32(ref) - count
    k.machine.write_u32(ref, left)
    if not left:
        _free_pd(k, pd)


# ------------------------------------------------------------------- the work
@export("int padata_do_parallel(struct padata_shell *ps, struct padata_priv *padata, int *cb_cpu)")
def padata_do_parallel(k, ps, padata, cb_cpu_ptr):
    """Number ``padata`` and run its ->parallel(); 0, -EINVAL or -EBUSY."""
    t, m = k.target, k.machine
    pinst = rd(k, ps, "padata_shell.pinst")
    pd = rd(k, ps, "padata_shell.pd")
    flags = m.read_u8(pinst + t.offset("padata_instance.flags"))
    if not flags & t.const("PADATA_INIT") or flags & t.const("PADATA_INVALID"):
        return -errno.EINVAL
    cbcpu = m.read_u64(m.read_u64(pd + t.offset("parallel_data.cpumask") +
                                  t.offset("padata_cpumask.cbcpu")))
    cb_cpu = m.read_s32(cb_cpu_ptr)
    if not (cb_cpu >= 0 and cbcpu >> cb_cpu & 1):
        if not cbcpu:
            return -errno.EINVAL
        cpus = [i for i in range(64) if cbcpu >> i & 1]
        cb_cpu = cpus[cb_cpu % len(cpus)]                  # an alternate fallback CPU
        m.write_u32(cb_cpu_ptr, cb_cpu)
    if flags & t.const("PADATA_RESET"):
        return -errno.EBUSY
    ref = pd + t.offset("parallel_data.refcnt")
    m.write_u32(ref, m.read_u32(ref) + 1)
    wr(k, padata, "padata_priv.pd", pd)
    m.write_u32(padata + t.offset("padata_priv.cb_cpu"), cb_cpu)
    seq = (m.read_u32(pd + t.offset("parallel_data.seq_nr")) + 1) & 0xFFFFFFFF
    m.write_u32(pd + t.offset("parallel_data.seq_nr"), seq)
    m.write_u32(padata + t.offset("padata_priv.seq_nr"), seq)
    yield k.call_request(rd(k, padata, "padata_priv.parallel"), padata)
    return 0


@export("void padata_do_serial(struct padata_priv *padata)")
def padata_do_serial(k, padata):
    """Queue ``padata`` for serialisation; deliver every object now in order (padata_reorder)."""
    t, m = k.target, k.machine
    pd = rd(k, padata, "padata_priv.pd")
    queue = k.model(Padata).reorder.setdefault(pd, {})
    queue[m.read_u32(padata + t.offset("padata_priv.seq_nr"))] = padata
    delivered = 0
    while True:
        nxt = (m.read_u32(pd + t.offset("parallel_data.processed")) + 1) & 0xFFFFFFFF
        obj = queue.pop(nxt, None)
        if obj is None:
            break
        m.write_u32(pd + t.offset("parallel_data.processed"), nxt)
        yield k.call_request(rd(k, obj, "padata_priv.serial"), obj)
        delivered += 1
    if delivered:
        _put_pd(k, pd, delivered)
