"""fs/inode.c: the inode helpers simple enough to model for real.

``current_time`` is the coarse CLOCK_REALTIME of kemu's virtual clock,
truncated to the superblock's granularity and clamped to its time range
(``timestamp_truncate``); it returns ``struct timespec64`` by value, in
RAX:RDX. ``inc_nlink``/``drop_nlink``/``clear_nlink``/``set_nlink`` keep
``__i_nlink`` and the superblock's ``s_remove_count`` with the kernel's
warnings; ``ihold`` takes an ``i_count`` reference.
The rest of the inode cache (iget, iput, new_inode...) is mount-time only:
see stubs/fs/vfs_link.py.
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members

from ..kernel.sched.core import NSEC_PER_SEC
from ..kernel.time.timekeeping import REALTIME_AT_BOOT, coarse_ns
from ..lib.kemu_warn import warn
from kemu.abi.toolkit import rd, wr

members("struct inode", "i_sb", "__i_nlink", "i_state", "i_count")
members("struct super_block", "s_time_gran", "s_time_min", "s_time_max", "s_remove_count")


def _s64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >> 63 else v


def timestamp_truncate(k, sec: int, nsec: int, inode: int) -> tuple[int, int]:
    """timestamp_truncate(): clamp to [s_time_min, s_time_max], round to s_time_gran."""
    sb = rd(k, inode, "inode.i_sb")
    gran = rd(k, sb, "super_block.s_time_gran", 4)
    lo, hi = _s64(rd(k, sb, "super_block.s_time_min")), _s64(rd(k, sb, "super_block.s_time_max"))
    sec = min(max(sec, lo), hi)
    if sec in (lo, hi):
        nsec = 0
    if gran == 1:
        pass
    elif gran == NSEC_PER_SEC:
        nsec = 0
    elif 1 < gran < NSEC_PER_SEC:
        nsec -= nsec % gran
    else:
        warn(k, "fs/inode.c:2517", "timestamp_truncate+0x93/0xb0",
             f"invalid file time granularity: {gran}")
    return sec, nsec


@export("struct timespec64 current_time(struct inode *inode)")
def current_time(k, inode):
    sec, nsec = divmod(REALTIME_AT_BOOT + coarse_ns(k), NSEC_PER_SEC)
    if not rd(k, inode, "inode.i_sb"):
        warn(k, "fs/inode.c:2539", "current_time+0xed/0x100",
             "current_time() called with uninitialized super_block in the inode")
        return (sec, nsec)
    return timestamp_truncate(k, sec, nsec, inode)


def _nlink(k, inode) -> int:
    return rd(k, inode, "inode.__i_nlink", 4)


def _remove_count(k, inode, delta: int) -> None:
    sb = rd(k, inode, "inode.i_sb")
    wr(k, sb, "super_block.s_remove_count",
       (rd(k, sb, "super_block.s_remove_count") + delta) & ((1 << 64) - 1))


@export("void inc_nlink(struct inode *inode)")
def inc_nlink(k, inode):
    if _nlink(k, inode) == 0:
        if not rd(k, inode, "inode.i_state", 4) & k.target.const("I_LINKABLE"):
            warn(k, "fs/inode.c:389", "inc_nlink+0x3a/0x40")
        _remove_count(k, inode, -1)
    wr(k, inode, "inode.__i_nlink", (_nlink(k, inode) + 1) & 0xFFFFFFFF, 4)


@export("void drop_nlink(struct inode *inode)")
def drop_nlink(k, inode):
    if _nlink(k, inode) == 0:
        warn(k, "fs/inode.c:332", "drop_nlink+0x25/0x40")
    wr(k, inode, "inode.__i_nlink", (_nlink(k, inode) - 1) & 0xFFFFFFFF, 4)
    if not _nlink(k, inode):
        _remove_count(k, inode, 1)


@export("void clear_nlink(struct inode *inode)")
def clear_nlink(k, inode):
    if _nlink(k, inode):
        wr(k, inode, "inode.__i_nlink", 0, 4)
        _remove_count(k, inode, 1)


@export("void set_nlink(struct inode *inode, unsigned int nlink)")
def set_nlink(k, inode, nlink):
    if not nlink:
        clear_nlink(k, inode)
        return
    if _nlink(k, inode) == 0:
        _remove_count(k, inode, -1)
    wr(k, inode, "inode.__i_nlink", nlink, 4)


@export("void ihold(struct inode *inode)")
def ihold(k, inode):
    count = (rd(k, inode, "inode.i_count", 4) + 1) & 0xFFFFFFFF
    wr(k, inode, "inode.i_count", count, 4)
    if count < 2 or count >> 31:
        warn(k, "fs/inode.c:453", "ihold+0x1f/0x30")
