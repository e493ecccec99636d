"""fs/inode.c: the inode helpers simple enough to model for real.

``current_time`` is the coarse CLOCK_REALTIME of kemu's virtual clock,
truncated to the superblock's granularity and clamped to its time range
(``timestamp_truncate``); it returns ``struct timespec64`` by value, in
RAX:RDX. ``inc_nlink``/``drop_nlink``/``clear_nlink``/``set_nlink`` keep
``__i_nlink`` and the superblock's ``s_remove_count`` with the kernel's
warnings; ``ihold`` takes an ``i_count`` reference.

The inode cache of mounted filesystems: ``new_inode``, ``iget_locked``,
``iget5_locked`` (alloc_inode(): the superblock's ``alloc_inode`` or a zeroed
inode, then inode_init_always(): ``i_sb``, ``i_blkbits``, one reference, one
link, ``empty_iops``/``no_open_fops``/``empty_aops`` tables, ``i_mapping`` =
``&i_data``), hashed by (superblock, number) with ``I_NEW`` until
``unlock_new_inode``; ``iget_failed`` makes the inode bad and puts it;
``iput`` drops a reference and, for the last one, iput_final(): an inode
still linked and hashed stays cached while the superblock is active, else it
is evicted (``I_FREEING``, the superblock's ``evict_inode`` or
truncate_inode_pages_final() + ``clear_inode``, then ``destroy_inode`` /
``free_inode`` or kfree). ``evict_inodes`` (umount) evicts the unused ones.

``__mark_inode_dirty`` runs the superblock's ``dirty_inode`` and sets
``i_state``'s dirty bits; :func:`write_inode_gen` is writeback's
write_inode() (the superblock's ``write_inode`` with a WB_SYNC_ALL
``writeback_control``), which sync_filesystem() runs for each dirty inode.

Left out: the LRU and shrinkers (an unused inode stays until umount), the
writeback lists and timers (inodes are written at sync and umount), RCU
freeing.
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import is_err

from ..kernel.sched.core import NSEC_PER_SEC
from ..kernel.time.timekeeping import REALTIME_AT_BOOT, coarse_ns
from ..lib.kemu_warn import warn
from ..mm.internal import page_cache
from kemu.abi.toolkit import rd, s32, wr
from kemu.kernel.log import KERN_DEBUG

members("struct inode", "i_sb", "__i_nlink", "i_state", "i_count")
members("struct super_block", "s_time_gran", "s_time_min", "s_time_max", "s_remove_count")
members("struct inode", "i_blkbits", "i_op", "i_fop", "i_mapping", "i_data", "i_mode", "i_rdev",
        "i_size", "i_blocks", "i_atime", "i_mtime", "i_ctime", "i_private", "i_flags", "i_ino")
members("struct address_space", "host", "a_ops", "gfp_mask", "private_data")
members("struct super_operations", "alloc_inode", "destroy_inode", "free_inode", "drop_inode",
        "evict_inode", "put_super", "write_inode", "sync_fs", "statfs", "dirty_inode")
members("struct super_block", "s_op", "s_blocksize_bits", "s_flags", "s_xattr")
members("struct inode_operations", "lookup", "get_link", "getattr")
members("struct writeback_control", "sync_mode", "nr_to_write")


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


# ------------------------------------------------------------------ the inode cache
class Inodes:
    """Every inode of a mounted superblock, and the hash of numbered ones."""

    def __init__(self, k):
        self.k = k
        self.by_sb: dict[int, list[int]] = {}          # sb -> its inodes (s_inodes)
        self.hashed: dict[tuple[int, int], int] = {}     # (sb, hashval) -> inode
        self.custom: dict[int, int] = {}                 # iget5 inode -> hashval
        t = k.target
        self.empty_iops = k.machine.alloc_kdata(t.sizeof("inode_operations"), 64)
        self.no_open_fops = k.machine.alloc_kdata(t.sizeof("file_operations"), 64)
        self.empty_aops = k.machine.alloc_kdata(t.sizeof("address_space_operations"), 64)
        self.bad_iops = k.machine.alloc_kdata(t.sizeof("inode_operations"), 64)
        self.bad_fops = k.machine.alloc_kdata(t.sizeof("file_operations"), 64)

    def sb_of(self, inode: int) -> int:
        return rd(self.k, inode, "inode.i_sb")

    def unhash(self, inode: int) -> None:
        for key, i in list(self.hashed.items()):
            if i == inode:
                del self.hashed[key]

    def is_hashed(self, inode: int) -> bool:
        return inode in self.hashed.values()


def _sop(k, sb: int, name: str) -> int:
    ops = rd(k, sb, "super_block.s_op")
    return rd(k, ops, f"super_operations.{name}") if ops else 0


def inode_init_always(k, sb: int, inode: int) -> None:
    t, m = k.target, k.machine
    st = k.model(Inodes)
    wr(k, inode, "inode.i_sb", sb)
    m.write_u8(inode + t.offset("inode.i_blkbits"),
               m.read_u8(sb + t.offset("super_block.s_blocksize_bits")))
    wr(k, inode, "inode.i_flags", 0, 4)
    wr(k, inode, "inode.i_count", 1, 4)
    wr(k, inode, "inode.i_op", st.empty_iops)
    wr(k, inode, "inode.i_fop", st.no_open_fops)
    wr(k, inode, "inode.i_ino", 0)
    wr(k, inode, "inode.__i_nlink", 1, 4)
    wr(k, inode, "inode.i_uid", 0, 4)
    wr(k, inode, "inode.i_gid", 0, 4)
    wr(k, inode, "inode.i_size", 0)
    wr(k, inode, "inode.i_blocks", 0)
    wr(k, inode, "inode.i_rdev", 0, 4)
    wr(k, inode, "inode.i_private", 0)
    wr(k, inode, "inode.i_state", 0, 4)
    mapping = inode + t.offset("inode.i_data")
    wr(k, mapping, "address_space.a_ops", st.empty_aops)
    wr(k, mapping, "address_space.host", inode)
    wr(k, mapping, "address_space.gfp_mask", t.const("GFP_HIGHUSER_MOVABLE"), 4)
    wr(k, mapping, "address_space.private_data", 0)
    wr(k, inode, "inode.i_mapping", mapping)


def alloc_inode(k, sb: int):
    """alloc_inode(): a generator returning the new inode (0 when out of memory)."""
    fn = _sop(k, sb, "alloc_inode")
    if fn:
        inode = (yield k.call_request(fn, sb)) & 0xFFFFFFFFFFFFFFFF
    else:
        inode = k.heap.alloc(k.target.sizeof("inode"), kind="inode", zero=True)
    if not inode:
        return 0
    inode_init_always(k, sb, inode)
    k.model(Inodes).by_sb.setdefault(sb, []).append(inode)
    return inode


@export("struct inode *new_inode(struct super_block *sb)", fails="NULL")
def new_inode(k, sb):
    return (yield from alloc_inode(k, sb))


@export("struct inode *iget_locked(struct super_block *sb, unsigned long ino)", fails="NULL")
def iget_locked(k, sb, ino):
    st = k.model(Inodes)
    inode = st.hashed.get((sb, ino))
    if inode and not st.custom.get(inode):
        wr(k, inode, "inode.i_count", rd(k, inode, "inode.i_count", 4) + 1, 4)
        return inode
    inode = yield from alloc_inode(k, sb)
    if inode:
        wr(k, inode, "inode.i_ino", ino)
        wr(k, inode, "inode.i_state", k.target.const("I_NEW") | k.target.const("I_CREATING"), 4)
        st.hashed[(sb, ino)] = inode
    return inode


@export("struct inode *iget5_locked(struct super_block *sb, unsigned long hashval, "
        "int (*test)(struct inode *, void *), int (*set)(struct inode *, void *), void *data)",
        fails="NULL")
def iget5_locked(k, sb, hashval, test, set, data):
    st = k.model(Inodes)
    for inode in st.by_sb.get(sb, []):
        if st.custom.get(inode) == hashval and \
                rd(k, inode, "inode.i_state", 4) & k.target.const("I_FREEING") == 0:
            if s32((yield k.call_request(test, inode, data))):
                wr(k, inode, "inode.i_count", rd(k, inode, "inode.i_count", 4) + 1, 4)
                return inode
    inode = yield from alloc_inode(k, sb)
    if not inode:
        return 0
    if set and s32((yield k.call_request(set, inode, data))):
        yield from destroy_inode(k, inode)
        return 0
    wr(k, inode, "inode.i_state", k.target.const("I_NEW") | k.target.const("I_CREATING"), 4)
    st.custom[inode] = hashval
    st.hashed[(sb, ("iget5", inode))] = inode
    return inode


@export("void unlock_new_inode(struct inode *inode)")
def unlock_new_inode(k, inode):
    state = rd(k, inode, "inode.i_state", 4)
    if not state & k.target.const("I_NEW"):
        warn(k, "fs/inode.c:1063", "unlock_new_inode+0x55/0x60")
    wr(k, inode, "inode.i_state",
       state & ~(k.target.const("I_NEW") | k.target.const("I_CREATING")), 4)


@export("void __insert_inode_hash(struct inode *inode, unsigned long hashval)")
def __insert_inode_hash(k, inode, hashval):
    k.model(Inodes).hashed[(rd(k, inode, "inode.i_sb"), hashval)] = inode


@export("void make_bad_inode(struct inode *inode)")
def make_bad_inode(k, inode):
    """remove_inode_hash() and the bad inode's operations, mode S_IFREG, times now."""
    st = k.model(Inodes)
    st.unhash(inode)
    wr(k, inode, "inode.i_mode", k.target.const("S_IFREG"), 2)
    wr(k, inode, "inode.i_op", st.bad_iops)
    wr(k, inode, "inode.i_fop", st.bad_fops)


@export("void iget_failed(struct inode *inode)")
def iget_failed(k, inode):
    make_bad_inode(k, inode)
    unlock_new_inode(k, inode)
    yield from iput_gen(k, inode)


@export("void clear_inode(struct inode *inode)")
def clear_inode(k, inode):
    """I_FREEING|I_CLEAR; the page cache must be empty by now (BUG_ON in 6.1)."""
    state = rd(k, inode, "inode.i_state", 4)
    wr(k, inode, "inode.i_state",
       state | k.target.const("I_FREEING") | k.target.const("I_CLEAR"), 4)


@export("void inode_nohighmem(struct inode *inode)")
def inode_nohighmem(k, inode):
    mapping = rd(k, inode, "inode.i_mapping")
    gfp = rd(k, mapping, "address_space.gfp_mask", 4)
    wr(k, mapping, "address_space.gfp_mask", gfp & ~0x02, 4)         # ~__GFP_HIGHMEM


@export("void init_special_inode(struct inode *inode, umode_t mode, dev_t rdev)")
def init_special_inode(k, inode, mode, rdev):
    """The character, block, FIFO and socket inodes: i_rdev; their file operations
    (def_chr_fops...) are not modelled, so opening one is -ENXIO."""
    import stat as _stat
    wr(k, inode, "inode.i_mode", mode, 2)
    if _stat.S_ISCHR(mode) or _stat.S_ISBLK(mode):
        wr(k, inode, "inode.i_rdev", rdev, 4)
    elif not (_stat.S_ISFIFO(mode) or _stat.S_ISSOCK(mode)):
        k.log.emit(KERN_DEBUG, f"init_special_inode: bogus i_mode ({mode:o}) for inode "
                               f"{_sb_id(k, inode)}:{rd(k, inode, 'inode.i_ino')}")


def _sb_id(k, inode: int) -> str:
    sb = rd(k, inode, "inode.i_sb")
    return k.machine.read_cstr(sb + k.target.offset("super_block.s_id")).decode(errors="replace")


@export("void inode_init_owner(struct user_namespace *mnt_userns, struct inode *inode, "
        "const struct inode *dir, umode_t mode)")
def inode_init_owner(k, mnt_userns, inode, dir, mode):
    """The caller's fsuid; the directory's group when it is setgid."""
    from ..kernel.process import cred_uid, current_cred
    uid, gid = cred_uid(k, current_cred(k))
    wr(k, inode, "inode.i_uid", uid, 4)
    if dir and rd(k, dir, "inode.i_mode", 2) & 0o2000:
        gid = rd(k, dir, "inode.i_gid", 4)
        if mode & 0o40000 == 0o40000:
            mode |= 0o2000
    wr(k, inode, "inode.i_gid", gid, 4)
    wr(k, inode, "inode.i_mode", mode, 2)


def destroy_inode(k, inode: int):
    """destroy_inode(): the superblock's destroy_inode, then free_inode or kfree."""
    sb = rd(k, inode, "inode.i_sb")
    st = k.model(Inodes)
    if inode in st.by_sb.get(sb, []):
        st.by_sb[sb].remove(inode)
    st.custom.pop(inode, None)
    fn = _sop(k, sb, "destroy_inode")
    if fn:
        yield k.call_request(fn, inode)
    fn = _sop(k, sb, "free_inode")
    if fn:
        yield k.call_request(fn, inode)
    elif not _sop(k, sb, "destroy_inode") and not _sop(k, sb, "alloc_inode"):
        k.heap.free(inode)


def evict(k, inode: int):
    """evict(): the filesystem's evict_inode (or the page cache and clear_inode)."""
    st = k.model(Inodes)
    wr(k, inode, "inode.i_state", rd(k, inode, "inode.i_state", 4) | k.target.const("I_FREEING"), 4)
    st.unhash(inode)
    sb = rd(k, inode, "inode.i_sb")
    fn = _sop(k, sb, "evict_inode")
    if fn:
        yield k.call_request(fn, inode)
    else:
        page_cache(k).drop(inode + k.target.offset("inode.i_data"))   # truncate_inode_pages_final
        clear_inode(k, inode)
    yield from destroy_inode(k, inode)


def iput_gen(k, inode: int):
    """iput(): drop a reference; the last one runs iput_final()."""
    if not inode or is_err(inode):
        return
    count = rd(k, inode, "inode.i_count", 4)
    if count == 0:
        warn(k, "fs/inode.c:1792", "iput+0x1d6/0x210")
        return
    wr(k, inode, "inode.i_count", count - 1, 4)
    if count > 1:
        return
    sb = rd(k, inode, "inode.i_sb")
    st = k.model(Inodes)
    state = rd(k, inode, "inode.i_state", 4)
    if state & k.target.const("I_NEW"):
        warn(k, "fs/inode.c:1754", "iput_final+0x13f/0x160")
    fn = _sop(k, sb, "drop_inode")
    if fn:
        drop = s32((yield k.call_request(fn, inode)))
    else:
        drop = not rd(k, inode, "inode.__i_nlink", 4) or not st.is_hashed(inode)
    if not drop and rd(k, sb, "super_block.s_flags", 8) & k.target.const("SB_ACTIVE"):
        return                                   # cached, unused, until umount
    yield from evict(k, inode)


@export("void iput(struct inode *inode)")
def iput(k, inode):
    yield from iput_gen(k, inode)


def evict_inodes(k, sb: int):
    """evict_inodes(): every inode of ``sb`` with no reference left."""
    st = k.model(Inodes)
    for inode in list(st.by_sb.get(sb, [])):
        if rd(k, inode, "inode.i_count", 4) == 0:
            yield from evict(k, inode)


def busy_inodes(k, sb: int) -> list[int]:
    return list(k.model(Inodes).by_sb.get(sb, []))


@export("void __mark_inode_dirty(struct inode *inode, int flags)")
def __mark_inode_dirty(k, inode, flags):
    t = k.target
    sb = rd(k, inode, "inode.i_sb")
    if flags & (t.const("I_DIRTY_INODE")):
        fn = _sop(k, sb, "dirty_inode")
        if fn:
            yield k.call_request(fn, inode, flags & t.const("I_DIRTY_INODE"))
    wr(k, inode, "inode.i_state",
       rd(k, inode, "inode.i_state", 4) | (flags & t.const("I_DIRTY")), 4)


def file_update_time_gen(k, inode: int):
    """file_update_time(): mtime and ctime now, the inode dirty."""
    sec, nsec = current_time(k, inode)
    for name in ("i_mtime", "i_ctime"):
        k.machine.write_u64(inode + k.target.offset(f"inode.{name}"), sec & (2**64 - 1))
        k.machine.write_u64(inode + k.target.offset(f"inode.{name}") + 8, nsec)
    yield from __mark_inode_dirty(k, inode, k.target.const("I_DIRTY_SYNC"))


def write_inode_gen(k, inode: int):
    """__writeback_single_inode()'s write_inode(): the dirty inode to its filesystem."""
    t = k.target
    state = rd(k, inode, "inode.i_state", 4)
    wr(k, inode, "inode.i_state", state & ~t.const("I_DIRTY"), 4)
    if not state & t.const("I_DIRTY_INODE"):
        return 0
    fn = _sop(k, rd(k, inode, "inode.i_sb"), "write_inode")
    if not fn:
        return 0
    wbc = k.heap.alloc(t.sizeof("writeback_control"), kind="writeback_control", zero=True)
    try:
        wr(k, wbc, "writeback_control.sync_mode", t.const("WB_SYNC_ALL"), 4)
        return s32((yield k.call_request(fn, inode, wbc)))
    finally:
        k.heap.free(wbc)


def dirty_inodes(k, sb: int) -> list[int]:
    t = k.target
    return [i for i in k.model(Inodes).by_sb.get(sb, [])
            if rd(k, i, "inode.i_state", 4) & t.const("I_DIRTY")]


members("struct file", "f_inode")


@export("int file_update_time(struct file *file)")
def file_update_time(k, file):
    yield from file_update_time_gen(k, rd(k, file, "file.f_inode"))
    return 0


@export("int file_remove_privs(struct file *file)")
def file_remove_privs(k, file):
    """Nothing to drop: kemu's writers are root, and kemu sets no security.capability."""
    return 0


@export("bool is_bad_inode(struct inode *inode)")
def is_bad_inode(k, inode):
    return 1 if rd(k, inode, "inode.i_op") == k.model(Inodes).bad_iops else 0


@export("void inode_set_flags(struct inode *inode, unsigned int flags, unsigned int mask)")
def inode_set_flags(k, inode, flags, mask):
    old = rd(k, inode, "inode.i_flags", 4)
    wr(k, inode, "inode.i_flags", (old & ~mask) | (flags & mask), 4)
