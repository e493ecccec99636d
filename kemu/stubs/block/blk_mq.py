"""block/blk-mq.c, block/blk-mq-tag.c, block/blk-mq-cpumap.c: tag sets and blk-mq queues.

``blk_mq_alloc_tag_set`` checks the set as 6.1 does (-EINVAL for no hardware
queue, no depth, a depth not above the reserved tags, no ``queue_rq``, half a
budget pair; a depth above BLK_MQ_MAX_DEPTH is reduced with "blk-mq: reduced
tag depth"), maps the CPUs (``map_queues`` or ``blk_mq_map_queues``) and
allocates each hardware queue's ``blk_mq_tags`` with its requests
(``sizeof(struct request) + cmd_size`` each), calling ``init_request`` for
every one; ``blk_mq_free_tag_set`` calls ``exit_request`` and frees them.

``blk_mq_init_queue`` and ``blk_mq_alloc_disk`` make a queue on the set:
default limits, ``rq_timeout`` (the set's or 30 s), ``nr_requests``, one
``blk_mq_hw_ctx`` per hardware queue with ``init_hctx`` called, then
``init_request`` for its flush request (``exit_request`` and ``exit_hctx``
when the queue is exited by ``blk_mq_destroy_queue`` or ``del_gendisk``).
``device_add_disk`` gives a single-queue disk mq-deadline as 6.1 does by
default: ``nr_requests`` = 2 * min(depth, 128) scheduler requests per
hardware queue, each through ``init_request`` (freed at ``del_gendisk``).
``blk_alloc_disk`` makes a bio-based disk.

No request is ever issued: kemu does not submit bios nor scan partitions,
so the calls that act on requests (``blk_mq_start_request``,
``blk_mq_end_request``, completion and requeueing) are reached only from a
driver's own paths and are a ``not-modelled`` finding; freezing, quiescing
and running queues have no request to wait for or dispatch.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members, unreachable
from kemu.abi.toolkit import err_ptr, kfree, kzalloc, rd, s32, wr
from kemu.kernel.log import KERN_INFO

from ..kernel.workqueue import queue_work_on
from .blk import Queues, exit_queue, queue_new, queue_put
from .genhd import alloc_disk

members("struct blk_mq_tag_set", "map", "nr_maps", "ops", "nr_hw_queues", "queue_depth",
        "reserved_tags", "cmd_size", "numa_node", "timeout", "flags", "driver_data", "tags",
        "tag_list")
members("struct blk_mq_queue_map", "mq_map", "nr_queues", "queue_offset")
members("struct blk_mq_ops", "queue_rq", "init_request", "exit_request", "init_hctx",
        "exit_hctx", "map_queues", "get_budget", "put_budget")
members("struct blk_mq_tags", "nr_tags", "nr_reserved_tags", "rqs", "static_rqs")
members("struct blk_mq_hw_ctx", "queue", "queue_num", "driver_data", "tags", "numa_node")
members("struct request_queue", "mq_ops", "tag_set", "nr_hw_queues", "nr_requests",
        "rq_timeout", "queuedata", "queue_flags")
members("struct request", "q", "tag", "internal_tag")
members("struct request_queue", "queue_depth")

BLK_MQ_MAX_DEPTH, BLK_MQ_TAG_MIN = 10240, 1
BLKDEV_DEFAULT_RQ = 128
WORK_CPU_UNBOUND = 8192             # NR_CPUS
NUMA_NO_NODE = -1


class TagSets:
    """Per-kernel tag sets and queues: what blk-mq allocated for each."""

    def __init__(self, k):
        self.sets: dict[int, list] = {}        # set -> [(hctx_idx, tags, [requests])]
        self.hctxs: dict[int, list] = {}       # queue -> [hctx]
        self.flush: dict[int, list] = {}       # queue -> [flush request of each hctx]
        self.sched: dict[int, list] = {}       # queue -> [(hctx_idx, tags, [requests])]


def _ops(k, tset, member) -> int:
    ops = rd(k, tset, "blk_mq_tag_set.ops")
    return rd(k, ops, f"blk_mq_ops.{member}") if ops else 0


def _u32(k, obj, member) -> int:
    return rd(k, obj, member, 4)


def _map_queues(k, qmap) -> None:
    """blk_mq_map_queues(): CPU i to queue_offset + i % nr_queues."""
    from ..arch.x86.kernel.percpu import NR_CPUS_EMULATED
    mq_map = rd(k, qmap, "blk_mq_queue_map.mq_map")
    nr = _u32(k, qmap, "blk_mq_queue_map.nr_queues") or 1
    off = _u32(k, qmap, "blk_mq_queue_map.queue_offset")
    for cpu in range(NR_CPUS_EMULATED):
        k.machine.write_u32(mq_map + 4 * cpu, off + cpu % nr)


def _free_set_maps(k, tset) -> None:
    size = k.target.sizeof("blk_mq_queue_map")
    for i in range(max(_u32(k, tset, "blk_mq_tag_set.nr_maps"), 1)):
        qmap = tset + k.target.offset("blk_mq_tag_set.map") + i * size
        kfree(k, rd(k, qmap, "blk_mq_queue_map.mq_map"))
        wr(k, qmap, "blk_mq_queue_map.mq_map", 0)


def _free_rqs(k, tset, entries):
    exit_request = _ops(k, tset, "exit_request")
    for idx, tags, rqs in reversed(entries):
        for rq in rqs:
            if exit_request:
                yield k.call_request(exit_request, tset, rq, idx)
            kfree(k, rq)
        kfree(k, rd(k, tags, "blk_mq_tags.static_rqs"))
        kfree(k, rd(k, tags, "blk_mq_tags.rqs"))
        kfree(k, tags)


@export("int blk_mq_alloc_tag_set(struct blk_mq_tag_set *set)")
def blk_mq_alloc_tag_set(k, tset):
    from ..arch.x86.kernel.percpu import NR_CPUS_EMULATED
    t = k.target
    nr_hw = _u32(k, tset, "blk_mq_tag_set.nr_hw_queues")
    depth = _u32(k, tset, "blk_mq_tag_set.queue_depth")
    reserved = _u32(k, tset, "blk_mq_tag_set.reserved_tags")
    if not nr_hw or not depth:
        return -errno.EINVAL
    if depth < reserved + BLK_MQ_TAG_MIN:
        return -errno.EINVAL
    if not _ops(k, tset, "queue_rq"):
        return -errno.EINVAL
    if bool(_ops(k, tset, "get_budget")) != bool(_ops(k, tset, "put_budget")):
        return -errno.EINVAL
    if depth > BLK_MQ_MAX_DEPTH:
        k.log.emit(KERN_INFO, f"blk-mq: reduced tag depth to {BLK_MQ_MAX_DEPTH}")
        depth = BLK_MQ_MAX_DEPTH
        wr(k, tset, "blk_mq_tag_set.queue_depth", depth, 4)
    nr_maps = _u32(k, tset, "blk_mq_tag_set.nr_maps")
    if not nr_maps:
        nr_maps = 1
        wr(k, tset, "blk_mq_tag_set.nr_maps", 1, 4)
    elif nr_maps > t.const("HCTX_MAX_TYPES"):
        return -errno.EINVAL
    if nr_hw > NR_CPUS_EMULATED:                 # blk_mq_alloc_tag_set caps at nr_cpu_ids
        nr_hw = NR_CPUS_EMULATED
        wr(k, tset, "blk_mq_tag_set.nr_hw_queues", nr_hw, 4)
    tag_list = tset + t.offset("blk_mq_tag_set.tag_list")
    k.machine.write_u64(tag_list, tag_list)
    k.machine.write_u64(tag_list + 8, tag_list)
    size = t.sizeof("blk_mq_queue_map")
    for i in range(nr_maps):
        qmap = tset + t.offset("blk_mq_tag_set.map") + i * size
        wr(k, qmap, "blk_mq_queue_map.mq_map", kzalloc(k, 4 * NR_CPUS_EMULATED, "mq_map"))
        wr(k, qmap, "blk_mq_queue_map.nr_queues", nr_hw, 4)
    map_queues = _ops(k, tset, "map_queues")
    if map_queues:
        yield k.call_request(map_queues, tset)
    else:
        _map_queues(k, tset + t.offset("blk_mq_tag_set.map"))
    tags_arr = kzalloc(k, 8 * nr_hw, "blk_mq_tags *")
    wr(k, tset, "blk_mq_tag_set.tags", tags_arr)
    entries = []
    k.model(TagSets).sets[tset] = entries
    init_request = _ops(k, tset, "init_request")
    rq_size = t.sizeof("request") + _u32(k, tset, "blk_mq_tag_set.cmd_size")
    node = s32(_u32(k, tset, "blk_mq_tag_set.numa_node"))
    for idx in range(nr_hw):
        tags = kzalloc(k, t.sizeof("blk_mq_tags"), "blk_mq_tags")
        wr(k, tags, "blk_mq_tags.nr_tags", depth, 4)
        wr(k, tags, "blk_mq_tags.nr_reserved_tags", reserved, 4)
        wr(k, tags, "blk_mq_tags.rqs", kzalloc(k, 8 * depth, "request *"))
        static = kzalloc(k, 8 * depth, "request *")
        wr(k, tags, "blk_mq_tags.static_rqs", static)
        k.machine.write_u64(tags_arr + 8 * idx, tags)
        rqs = []
        entries.append((idx, tags, rqs))
        for tag in range(depth):
            rq = kzalloc(k, rq_size, "request")
            k.machine.write_u64(static + 8 * tag, rq)
            rqs.append(rq)
            if init_request:
                ret = s32((yield k.call_request(init_request, tset, rq, idx, node & 0xFFFFFFFF)))
                if ret:
                    rqs.remove(rq)
                    kfree(k, rq)
                    yield from _free_rqs(k, tset, entries)
                    del k.model(TagSets).sets[tset]
                    kfree(k, tags_arr)
                    wr(k, tset, "blk_mq_tag_set.tags", 0)
                    _free_set_maps(k, tset)
                    return -errno.ENOMEM
    return 0


@export("int blk_mq_alloc_sq_tag_set(struct blk_mq_tag_set *set, const struct blk_mq_ops *ops, "
        "unsigned int queue_depth, unsigned int set_flags)")
def blk_mq_alloc_sq_tag_set(k, tset, ops, queue_depth, set_flags):
    k.machine.write(tset, bytes(k.target.sizeof("blk_mq_tag_set")))
    wr(k, tset, "blk_mq_tag_set.ops", ops)
    wr(k, tset, "blk_mq_tag_set.nr_hw_queues", 1, 4)
    wr(k, tset, "blk_mq_tag_set.nr_maps", 1, 4)
    wr(k, tset, "blk_mq_tag_set.queue_depth", queue_depth, 4)
    wr(k, tset, "blk_mq_tag_set.numa_node", NUMA_NO_NODE & 0xFFFFFFFF, 4)
    wr(k, tset, "blk_mq_tag_set.flags", set_flags, 4)
    return (yield from blk_mq_alloc_tag_set(k, tset))


@export("void blk_mq_free_tag_set(struct blk_mq_tag_set *set)")
def blk_mq_free_tag_set(k, tset):
    entries = k.model(TagSets).sets.pop(tset, None)
    if entries is None:
        return
    yield from _free_rqs(k, tset, entries)
    kfree(k, rd(k, tset, "blk_mq_tag_set.tags"))
    wr(k, tset, "blk_mq_tag_set.tags", 0)
    _free_set_maps(k, tset)


@export("void blk_mq_map_queues(struct blk_mq_queue_map *qmap)")
def blk_mq_map_queues(k, qmap):
    _map_queues(k, qmap)


# ------------------------------------------------------------ queues
def _exit_queue(k, q):
    """blk_mq_exit_queue(): for each hardware context exit_request of its flush request,
    exit_hctx, then it is freed."""
    ts = k.model(TagSets)
    tset = rd(k, q, "request_queue.tag_set")
    exit_hctx = _ops(k, tset, "exit_hctx") if tset else 0
    exit_request = _ops(k, tset, "exit_request") if tset else 0
    flush = ts.flush.pop(q, [])
    for idx, hctx in enumerate(ts.hctxs.pop(q, [])):
        if idx < len(flush):
            if exit_request:
                yield k.call_request(exit_request, tset, flush[idx], idx)
            kfree(k, flush[idx])
        if exit_hctx:
            yield k.call_request(exit_hctx, hctx, idx)
        kfree(k, hctx)


def _elevator_init(k, q):
    """elevator_init_mq(): mq-deadline for a single hardware queue (unless the set says
    BLK_MQ_F_NO_SCHED or NO_SCHED_BY_DEFAULT): nr_requests = 2 * min(depth, 128) and a
    scheduler tag map of that many requests per hardware queue, each through init_request."""
    c = k.target.const
    tset = rd(k, q, "request_queue.tag_set")
    flags = _u32(k, tset, "blk_mq_tag_set.flags")
    ts = k.model(TagSets)
    if q in ts.sched or flags & (c("BLK_MQ_F_NO_SCHED") | c("BLK_MQ_F_NO_SCHED_BY_DEFAULT")):
        return
    if _u32(k, q, "request_queue.nr_hw_queues") != 1 or flags & c("BLK_MQ_F_TAG_HCTX_SHARED"):
        return                          # shared tags: not modelled (kemu gives them none)
    nr = 2 * min(_u32(k, tset, "blk_mq_tag_set.queue_depth"), BLKDEV_DEFAULT_RQ)
    wr(k, q, "request_queue.nr_requests", nr)
    entries = []
    ts.sched[q] = entries
    init_request = _ops(k, tset, "init_request")
    rq_size = k.target.sizeof("request") + _u32(k, tset, "blk_mq_tag_set.cmd_size")
    for idx in range(len(ts.hctxs.get(q, []))):
        tags = kzalloc(k, k.target.sizeof("blk_mq_tags"), "blk_mq_tags")
        wr(k, tags, "blk_mq_tags.nr_tags", nr, 4)
        rqs = []
        entries.append((idx, tags, rqs))
        for _tag in range(nr):
            rq = kzalloc(k, rq_size, "request")
            rqs.append(rq)
            if init_request:
                yield k.call_request(init_request, tset, rq, idx, NUMA_NO_NODE & 0xFFFFFFFF)


def _elevator_exit(k, q):
    ts = k.model(TagSets)
    tset = rd(k, q, "request_queue.tag_set")
    yield from _free_rqs(k, tset, ts.sched.pop(q, []))
    wr(k, q, "request_queue.nr_requests", _u32(k, tset, "blk_mq_tag_set.queue_depth"))


def init_queue(k, tset, queuedata=0):
    """blk_mq_init_queue_data(): a queue on ``tset``, or -errno."""
    t = k.target
    q = queue_new(k)
    wr(k, q, "request_queue.queuedata", queuedata)
    wr(k, q, "request_queue.mq_ops", rd(k, tset, "blk_mq_tag_set.ops"))
    wr(k, q, "request_queue.tag_set", tset)
    nr_hw = _u32(k, tset, "blk_mq_tag_set.nr_hw_queues")
    wr(k, q, "request_queue.nr_hw_queues", nr_hw, 4)
    timeout = _u32(k, tset, "blk_mq_tag_set.timeout") or 30 * t.const("HZ")
    wr(k, q, "request_queue.rq_timeout", timeout, 4)
    wr(k, q, "request_queue.nr_requests", _u32(k, tset, "blk_mq_tag_set.queue_depth"))
    hctxs = []
    k.model(TagSets).hctxs[q] = hctxs
    k.model(Queues).exit[q] = _exit_queue
    k.model(Queues).elevator[q] = (_elevator_init, _elevator_exit)
    flush = []
    k.model(TagSets).flush[q] = flush
    init_request = _ops(k, tset, "init_request")
    rq_size = t.sizeof("request") + _u32(k, tset, "blk_mq_tag_set.cmd_size")
    init_hctx = _ops(k, tset, "init_hctx")
    tags_arr = rd(k, tset, "blk_mq_tag_set.tags")
    for idx in range(nr_hw):
        k.machine.check_deadline()          # a set that never went through alloc_tag_set
        hctx = kzalloc(k, t.sizeof("blk_mq_hw_ctx"), "blk_mq_hw_ctx")
        wr(k, hctx, "blk_mq_hw_ctx.queue", q)
        wr(k, hctx, "blk_mq_hw_ctx.queue_num", idx, 4)
        wr(k, hctx, "blk_mq_hw_ctx.numa_node", NUMA_NO_NODE & 0xFFFFFFFF, 4)
        if tags_arr:
            wr(k, hctx, "blk_mq_hw_ctx.tags", k.machine.read_u64(tags_arr + 8 * idx))
        hctxs.append(hctx)
        if init_hctx:
            ret = s32((yield k.call_request(init_hctx, hctx,
                                            rd(k, tset, "blk_mq_tag_set.driver_data"), idx)))
            if ret:
                hctxs.remove(hctx)
                kfree(k, hctx)
                yield from _exit_queue(k, q)
                k.model(Queues).exit.pop(q, None)
                yield from queue_put(k, q)
                return -errno.ENOMEM
        flush_rq = kzalloc(k, rq_size, "request")        # hctx->fq->flush_rq
        flush.append(flush_rq)
        if init_request:
            yield k.call_request(init_request, tset, flush_rq, idx, NUMA_NO_NODE & 0xFFFFFFFF)
    return q


@export("struct request_queue *blk_mq_init_queue(struct blk_mq_tag_set *set)")
def blk_mq_init_queue(k, tset):
    q = yield from init_queue(k, tset)
    return err_ptr(q) if q < 0 else q


@export("struct gendisk *__blk_mq_alloc_disk(struct blk_mq_tag_set *set, void *queuedata, "
        "struct lock_class_key *lkclass)")
def __blk_mq_alloc_disk(k, tset, queuedata, lkclass):
    q = yield from init_queue(k, tset, queuedata)
    if q < 0:
        return err_ptr(q)
    return alloc_disk(k, q, owns_queue=True)


@export("struct gendisk *__blk_alloc_disk(int node, struct lock_class_key *lkclass)")
def __blk_alloc_disk(k, node, lkclass):
    """A bio-based disk (its fops' submit_bio gets the I/O) owning a fresh queue."""
    return alloc_disk(k, queue_new(k), owns_queue=True)


@export("void blk_mq_destroy_queue(struct request_queue *q)")
def blk_mq_destroy_queue(k, q):
    flags = rd(k, q, "request_queue.queue_flags")
    wr(k, q, "request_queue.queue_flags", flags | 1 << k.target.const("QUEUE_FLAG_DYING"))
    yield from exit_queue(k, q)


# Calls with no request to act on: nothing is in flight in kemu's queues.
def _no_request_in_flight(name: str, proto: str) -> None:
    def fn(k, *args):
        """No request is ever in flight: nothing to wait for, stop or dispatch."""
    fn.__name__ = name
    export(proto)(fn)


for _name, _proto in (
        ("blk_mq_freeze_queue", "void blk_mq_freeze_queue(struct request_queue *q)"),
        ("blk_mq_unfreeze_queue", "void blk_mq_unfreeze_queue(struct request_queue *q)"),
        ("blk_mq_freeze_queue_wait", "void blk_mq_freeze_queue_wait(struct request_queue *q)"),
        ("blk_freeze_queue_start", "void blk_freeze_queue_start(struct request_queue *q)"),
        ("blk_mq_quiesce_queue", "void blk_mq_quiesce_queue(struct request_queue *q)"),
        ("blk_mq_quiesce_queue_nowait",
         "void blk_mq_quiesce_queue_nowait(struct request_queue *q)"),
        ("blk_mq_unquiesce_queue", "void blk_mq_unquiesce_queue(struct request_queue *q)"),
        ("blk_mq_wait_quiesce_done", "void blk_mq_wait_quiesce_done(struct request_queue *q)"),
        ("blk_mq_run_hw_queues", "void blk_mq_run_hw_queues(struct request_queue *q, bool async)"),
        ("blk_mq_delay_run_hw_queues",
         "void blk_mq_delay_run_hw_queues(struct request_queue *q, unsigned long msecs)"),
        ("blk_mq_stop_hw_queues", "void blk_mq_stop_hw_queues(struct request_queue *q)"),
        ("blk_mq_start_hw_queues", "void blk_mq_start_hw_queues(struct request_queue *q)"),
        ("blk_mq_start_stopped_hw_queues",
         "void blk_mq_start_stopped_hw_queues(struct request_queue *q, bool async)"),
        ("blk_mq_kick_requeue_list", "void blk_mq_kick_requeue_list(struct request_queue *q)"),
        ("blk_mq_delay_kick_requeue_list",
         "void blk_mq_delay_kick_requeue_list(struct request_queue *q, unsigned long msecs)")):
    _no_request_in_flight(_name, _proto)


_WHY = "kemu issues no block request (no bio is submitted, no partition scanned)"
for _proto, _result in (
        ("void blk_mq_start_request(struct request *rq)", None),
        ("void blk_mq_end_request(struct request *rq, blk_status_t error)", None),
        ("void __blk_mq_end_request(struct request *rq, blk_status_t error)", None),
        ("bool blk_update_request(struct request *rq, blk_status_t error, "
         "unsigned int nr_bytes)", False),
        ("void blk_mq_complete_request(struct request *rq)", None),
        ("bool blk_mq_complete_request_remote(struct request *rq)", False),
        ("void blk_mq_requeue_request(struct request *rq, bool kick_requeue_list)", None),
        ("void blk_mq_free_request(struct request *rq)", None),
        # passthrough requests (SCSI commands, ioctls): built and executed on a device's queue
        ("struct request *blk_mq_alloc_request(struct request_queue *q, blk_opf_t opf, "
         "blk_mq_req_flags_t flags)", err_ptr(-errno.EWOULDBLOCK)),
        ("blk_status_t blk_execute_rq(struct request *rq, bool at_head)", 10),   # BLK_STS_IOERR
        ("void blk_execute_rq_nowait(struct request *rq, bool at_head)", None),
        ("void blk_rq_init(struct request_queue *q, struct request *rq)", None),
        ("int blk_rq_map_kern(struct request_queue *q, struct request *rq, void *kbuf, "
         "unsigned int len, gfp_t gfp_mask)", -errno.EINVAL),
        ("int blk_rq_map_user(struct request_queue *q, struct request *rq, "
         "struct rq_map_data *map_data, void *ubuf, unsigned long len, gfp_t gfp_mask)",
         -errno.EINVAL),
        ("int blk_rq_map_user_io(struct request *req, struct rq_map_data *map_data, "
         "void *ubuf, unsigned long buf_len, gfp_t gfp_mask, bool vec, int iov_count, "
         "bool check_iter_count, int rw)", -errno.EINVAL),
        ("int blk_rq_unmap_user(struct bio *bio)", 0),
        ("int __blk_rq_map_sg(struct request_queue *q, struct request *rq, "
         "struct scatterlist *sglist, struct scatterlist **last_sg)", 0),
        ("int blk_rq_count_integrity_sg(struct request_queue *q, struct bio *bio)", 0),
        ("int blk_rq_map_integrity_sg(struct request_queue *q, struct bio *bio, "
         "struct scatterlist *sglist)", 0),
        ("void blk_mq_tagset_busy_iter(struct blk_mq_tag_set *tagset, "
         "bool (*fn)(struct request *rq, void *priv), void *priv)", None)):
    unreachable(_proto, _result, _WHY)


@export("void blk_set_queue_depth(struct request_queue *q, unsigned int depth)")
def blk_set_queue_depth(k, q, depth):
    """q->queue_depth (writeback throttling, which reads it, is not modelled)."""
    wr(k, q, "request_queue.queue_depth", depth, 4)


@export("bool kblockd_schedule_work(struct work_struct *work)")
def kblockd_schedule_work(k, work):
    """queue_work(kblockd_workqueue, work): on the system workqueue here."""
    return queue_work_on(k, WORK_CPU_UNBOUND, k.machine.read_u64(k.export_addr("system_wq")),
                         work)
