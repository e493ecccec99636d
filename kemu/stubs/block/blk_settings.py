"""block/blk-settings.c, block/blk-core.c: a request queue's limits and flags.

The setters keep ``struct queue_limits`` as 6.1 does: the defaults of
``blk_set_default_limits`` (128 segments of 64 KiB, 255 sectors, 512-byte
blocks), the minimums with their "set to minimum" lines, the block sizes
that raise ``physical_block_size`` and ``io_min`` and round the sector
limits, the stacking limits. ``blk_queue_flag_set``/``clear`` and
``blk_queue_write_cache`` (QUEUE_FLAG_WC/FUA) are bits of ``queue_flags``.
Left out: the bdi's read-ahead (``io_pages``, ``ra_pages``), zoned limits.
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import rd, wr
from kemu.kernel.log import KERN_INFO

from ..lib.kemu_warn import warn_once
from .blk import lim_get, lim_set, limits, queue_get, queue_put, set_default_limits

members("struct queue_limits", "seg_boundary_mask", "virt_boundary_mask",
        "max_hw_sectors", "max_dev_sectors", "chunk_sectors", "max_sectors",
        "max_segment_size", "physical_block_size", "logical_block_size", "alignment_offset",
        "io_min", "io_opt", "max_discard_sectors", "max_hw_discard_sectors",
        "max_secure_erase_sectors", "max_write_zeroes_sectors", "max_zone_append_sectors",
        "discard_granularity", "discard_alignment", "zone_write_granularity", "max_segments",
        "max_integrity_segments", "max_discard_segments", "misaligned", "dma_alignment")
members("struct request_queue", "rq_timeout")

PAGE_SIZE, SECTOR_SHIFT = 4096, 9
UINT_MAX, USHRT_MAX = 0xFFFFFFFF, 0xFFFF
BLK_DEF_MAX_SECTORS = 2560


def _minimum(k, func: str, value, fmt="d") -> None:
    k.log.emit(KERN_INFO, f"{func}: set to minimum {value:{fmt}}")


def _round_down(v: int, to: int) -> int:
    return v - v % to if to else v


@export("void blk_set_stacking_limits(struct queue_limits *lim)")
def blk_set_stacking_limits(k, lim):
    set_default_limits(k, lim)
    for member, value in (("max_segments", USHRT_MAX), ("max_discard_segments", USHRT_MAX),
                          ("max_hw_sectors", UINT_MAX), ("max_segment_size", UINT_MAX),
                          ("max_sectors", UINT_MAX), ("max_dev_sectors", UINT_MAX),
                          ("max_write_zeroes_sectors", UINT_MAX),
                          ("max_zone_append_sectors", UINT_MAX)):
        lim_set(k, lim, member, value)


@export("void blk_queue_max_hw_sectors(struct request_queue *q, unsigned int max_hw_sectors)")
def blk_queue_max_hw_sectors(k, q, max_hw_sectors):
    lim = limits(k, q)
    if (max_hw_sectors << SECTOR_SHIFT) < PAGE_SIZE:
        max_hw_sectors = 1 << (12 - SECTOR_SHIFT)
        _minimum(k, "blk_queue_max_hw_sectors", max_hw_sectors)
    lbs = lim_get(k, lim, "logical_block_size") >> SECTOR_SHIFT
    max_hw_sectors = _round_down(max_hw_sectors, lbs)
    lim_set(k, lim, "max_hw_sectors", max_hw_sectors)
    dev = lim_get(k, lim, "max_dev_sectors")
    max_sectors = min(max_hw_sectors, dev) if dev else max_hw_sectors     # min_not_zero
    lim_set(k, lim, "max_sectors", _round_down(min(max_sectors, BLK_DEF_MAX_SECTORS), lbs))


@export("void blk_queue_chunk_sectors(struct request_queue *q, unsigned int chunk_sectors)")
def blk_queue_chunk_sectors(k, q, chunk_sectors):
    lim_set(k, limits(k, q), "chunk_sectors", chunk_sectors)


@export("void blk_queue_max_discard_sectors(struct request_queue *q, "
        "unsigned int max_discard_sectors)")
def blk_queue_max_discard_sectors(k, q, max_discard_sectors):
    lim_set(k, limits(k, q), "max_hw_discard_sectors", max_discard_sectors)
    lim_set(k, limits(k, q), "max_discard_sectors", max_discard_sectors)


@export("void blk_queue_max_secure_erase_sectors(struct request_queue *q, "
        "unsigned int max_sectors)")
def blk_queue_max_secure_erase_sectors(k, q, max_sectors):
    lim_set(k, limits(k, q), "max_secure_erase_sectors", max_sectors)


@export("void blk_queue_max_write_zeroes_sectors(struct request_queue *q, "
        "unsigned int max_write_zeroes_sectors)")
def blk_queue_max_write_zeroes_sectors(k, q, max_write_zeroes_sectors):
    lim_set(k, limits(k, q), "max_write_zeroes_sectors", max_write_zeroes_sectors)


@export("void blk_queue_max_segments(struct request_queue *q, unsigned short max_segments)")
def blk_queue_max_segments(k, q, max_segments):
    if not max_segments:
        max_segments = 1
        _minimum(k, "blk_queue_max_segments", max_segments)
    lim_set(k, limits(k, q), "max_segments", max_segments)


@export("void blk_queue_max_discard_segments(struct request_queue *q, unsigned short max_segments)")
def blk_queue_max_discard_segments(k, q, max_segments):
    lim_set(k, limits(k, q), "max_discard_segments", max_segments)


@export("void blk_queue_max_segment_size(struct request_queue *q, unsigned int max_size)")
def blk_queue_max_segment_size(k, q, max_size):
    if max_size < PAGE_SIZE:
        max_size = PAGE_SIZE
        _minimum(k, "blk_queue_max_segment_size", max_size)
    lim = limits(k, q)
    if lim_get(k, lim, "virt_boundary_mask"):
        warn_once(k, "block/blk-settings.c:288", "blk_queue_max_segment_size+0x4f/0x60")
    lim_set(k, lim, "max_segment_size", max_size)


@export("void blk_queue_logical_block_size(struct request_queue *q, unsigned int size)")
def blk_queue_logical_block_size(k, q, size):
    lim = limits(k, q)
    lim_set(k, lim, "logical_block_size", size)
    if lim_get(k, lim, "physical_block_size") < size:
        lim_set(k, lim, "physical_block_size", size)
    if lim_get(k, lim, "io_min") < lim_get(k, lim, "physical_block_size"):
        lim_set(k, lim, "io_min", lim_get(k, lim, "physical_block_size"))
    for member in ("max_hw_sectors", "max_sectors"):
        lim_set(k, lim, member, _round_down(lim_get(k, lim, member), size >> SECTOR_SHIFT))


@export("void blk_queue_physical_block_size(struct request_queue *q, unsigned int size)")
def blk_queue_physical_block_size(k, q, size):
    lim = limits(k, q)
    lim_set(k, lim, "physical_block_size", max(size, lim_get(k, lim, "logical_block_size")))
    if lim_get(k, lim, "io_min") < lim_get(k, lim, "physical_block_size"):
        lim_set(k, lim, "io_min", lim_get(k, lim, "physical_block_size"))


@export("void blk_queue_alignment_offset(struct request_queue *q, unsigned int offset)")
def blk_queue_alignment_offset(k, q, offset):
    lim = limits(k, q)
    lim_set(k, lim, "alignment_offset", offset & (lim_get(k, lim, "physical_block_size") - 1))
    lim_set(k, lim, "misaligned", 0)


@export("void blk_limits_io_min(struct queue_limits *limits, unsigned int min)")
def blk_limits_io_min(k, lim, min_):
    lim_set(k, lim, "io_min", max(min_, lim_get(k, lim, "logical_block_size"),
                                  lim_get(k, lim, "physical_block_size")))


@export("void blk_queue_io_min(struct request_queue *q, unsigned int min)")
def blk_queue_io_min(k, q, min_):
    blk_limits_io_min(k, limits(k, q), min_)


@export("void blk_limits_io_opt(struct queue_limits *limits, unsigned int opt)")
def blk_limits_io_opt(k, lim, opt):
    lim_set(k, lim, "io_opt", opt)


@export("void blk_queue_io_opt(struct request_queue *q, unsigned int opt)")
def blk_queue_io_opt(k, q, opt):
    lim_set(k, limits(k, q), "io_opt", opt)


@export("void blk_queue_segment_boundary(struct request_queue *q, unsigned long mask)")
def blk_queue_segment_boundary(k, q, mask):
    if mask < PAGE_SIZE - 1:
        mask = PAGE_SIZE - 1
        _minimum(k, "blk_queue_segment_boundary", mask, "x")
    lim_set(k, limits(k, q), "seg_boundary_mask", mask)


@export("void blk_queue_virt_boundary(struct request_queue *q, unsigned long mask)")
def blk_queue_virt_boundary(k, q, mask):
    lim_set(k, limits(k, q), "virt_boundary_mask", mask)
    if mask:                                # devices with a virt boundary merge freely
        lim_set(k, limits(k, q), "max_segment_size", UINT_MAX)


@export("void blk_queue_dma_alignment(struct request_queue *q, int mask)")
def blk_queue_dma_alignment(k, q, mask):
    lim_set(k, limits(k, q), "dma_alignment", mask)


@export("void blk_queue_update_dma_alignment(struct request_queue *q, int mask)")
def blk_queue_update_dma_alignment(k, q, mask):
    if mask > lim_get(k, limits(k, q), "dma_alignment"):
        lim_set(k, limits(k, q), "dma_alignment", mask)


@export("void blk_queue_rq_timeout(struct request_queue *q, unsigned int timeout)")
def blk_queue_rq_timeout(k, q, timeout):
    wr(k, q, "request_queue.rq_timeout", timeout, 4)


def _flag(k, q, flag: int, on: bool) -> None:
    flags = rd(k, q, "request_queue.queue_flags")
    wr(k, q, "request_queue.queue_flags", flags | 1 << flag if on else flags & ~(1 << flag))


@export("void blk_queue_flag_set(unsigned int flag, struct request_queue *q)")
def blk_queue_flag_set(k, flag, q):
    _flag(k, q, flag, True)


@export("void blk_queue_flag_clear(unsigned int flag, struct request_queue *q)")
def blk_queue_flag_clear(k, flag, q):
    _flag(k, q, flag, False)


@export("void blk_queue_write_cache(struct request_queue *q, bool wc, bool fua)")
def blk_queue_write_cache(k, q, wc, fua):
    c = k.target.const
    _flag(k, q, c("QUEUE_FLAG_WC"), bool(wc))
    _flag(k, q, c("QUEUE_FLAG_FUA"), bool(fua))


@export("bool blk_get_queue(struct request_queue *q)")
def blk_get_queue(k, q):
    if rd(k, q, "request_queue.queue_flags") & 1 << k.target.const("QUEUE_FLAG_DYING"):
        return False
    queue_get(k, q)
    return True


@export("void blk_put_queue(struct request_queue *q)")
def blk_put_queue(k, q):
    yield from queue_put(k, q)


@export("void blk_sync_queue(struct request_queue *q)")
def blk_sync_queue(k, q):
    """No timeout timer or requeue work is ever armed: nothing to wait for."""
