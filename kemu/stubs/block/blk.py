"""block/blk.h: what the block layer's files share (a leaf: imports no other block model).

Request queues' references and release (``blk_get_queue``/``blk_put_queue``
count here; the last put frees the queue after its owner's release hook), the
exit hook blk-mq sets for the queues it initialised (``blk_mq_exit_queue``,
which genhd's del_gendisk and disk_release call), its elevator hooks
(``elevator_init_mq`` at device_add_disk, ``elevator_exit`` at del_gendisk), and the queue limits'
accessors and defaults (``blk_set_default_limits``).
"""
from __future__ import annotations

from kemu.abi.exports import members
from kemu.abi.toolkit import kfree, kzalloc, rd, wr

members("struct request_queue", "limits", "queue_flags", "disk", "queuedata")

BLK_MAX_SEGMENTS, BLK_MAX_SEGMENT_SIZE = 128, 65536
BLK_SAFE_MAX_SECTORS = 255
BLK_SEG_BOUNDARY_MASK = 0xFFFFFFFF

# queue_limits member -> size in bytes (the others are unsigned int)
_SIZES = {"seg_boundary_mask": 8, "virt_boundary_mask": 8, "max_segments": 2,
          "max_integrity_segments": 2, "max_discard_segments": 2, "misaligned": 1,
          "discard_misaligned": 1}


class Queues:
    """Per-kernel request queues: references, and the hooks of the layer that made each."""

    def __init__(self, k):
        self.refs: dict[int, int] = {}
        self.release: dict[int, object] = {}      # q -> generator fn(k, q), before the kfree
        self.exit: dict[int, object] = {}         # q -> generator fn(k, q): blk_mq_exit_queue
        self.elevator: dict[int, tuple] = {}      # q -> (elevator_init_mq, elevator_exit) fns


def queue_new(k) -> int:
    """blk_alloc_queue(): a zeroed request_queue with the default limits, one reference."""
    q = kzalloc(k, k.target.sizeof("request_queue"), "request_queue")
    set_default_limits(k, limits(k, q))
    k.model(Queues).refs[q] = 1
    return q


def queue_get(k, q) -> None:
    qs = k.model(Queues)
    qs.refs[q] = qs.refs.get(q, 0) + 1


def queue_put(k, q):
    """blk_put_queue(): the last reference frees the queue (after its release hook)."""
    qs = k.model(Queues)
    if q not in qs.refs:
        return
    qs.refs[q] -= 1
    if qs.refs[q] > 0:
        return
    del qs.refs[q]
    qs.exit.pop(q, None)
    qs.elevator.pop(q, None)
    release = qs.release.pop(q, None)
    if release is not None:
        yield from release(k, q)
    kfree(k, q)


def exit_queue(k, q):
    """blk_mq_exit_queue() of a blk-mq queue (once); nothing for a bio-based one."""
    fn = k.model(Queues).exit.pop(q, None)
    if fn is not None:
        yield from fn(k, q)


def elevator_init(k, q):
    """elevator_init_mq() at device_add_disk(): blk-mq's default scheduler, if any."""
    hooks = k.model(Queues).elevator.get(q)
    if hooks is not None:
        yield from hooks[0](k, q)


def elevator_exit(k, q):
    """elevator_exit() at del_gendisk()."""
    hooks = k.model(Queues).elevator.pop(q, None)
    if hooks is not None:
        yield from hooks[1](k, q)


def lim_get(k, lim, member) -> int:
    return rd(k, lim, f"queue_limits.{member}", _SIZES.get(member, 4))


def lim_set(k, lim, member, value) -> None:
    size = _SIZES.get(member, 4)
    wr(k, lim, f"queue_limits.{member}", value & ((1 << 8 * size) - 1), size)


def limits(k, q) -> int:
    return q + k.target.offset("request_queue.limits")


def set_default_limits(k, lim) -> None:
    """blk_set_default_limits()."""
    k.machine.write(lim, bytes(k.target.sizeof("queue_limits")))
    for member, value in (("max_segments", BLK_MAX_SEGMENTS), ("max_discard_segments", 1),
                          ("seg_boundary_mask", BLK_SEG_BOUNDARY_MASK),
                          ("max_segment_size", BLK_MAX_SEGMENT_SIZE),
                          ("max_sectors", BLK_SAFE_MAX_SECTORS),
                          ("max_hw_sectors", BLK_SAFE_MAX_SECTORS),
                          ("logical_block_size", 512), ("physical_block_size", 512),
                          ("io_min", 512), ("dma_alignment", 511)):
        lim_set(k, lim, member, value)
