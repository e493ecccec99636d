"""fs/inode.c, fs/dcache.c, fs/buffer.c and friends: the rest of what filesystems call
at mount time.

The inode cache is in stubs/fs/inode.py, dentries in stubs/fs/dcache.py, the
buffer cache in stubs/fs/buffer.py and the page cache in stubs/mm/filemap.py;
what is below is modelled for linking only: should one be called, the call is
reported as a "not-modelled" finding and fails (NULL or ERR_PTR(-ENOMEM) as
the prototype demands, a negative errno for an int).

Modelled for real, because they are called outside mounts or are trivial:

* ``inode_init_once`` - kmem_cache constructors of filesystem inode caches
  call it at init time: it zeroes ``sizeof(struct inode)`` of the target and
  makes the list heads empty (``i_devices``, ``i_io_list``, ``i_wb_list``,
  ``i_lru``, ``i_sb_list``, the mapping's ``private_list``), as the kernel
  does; the xarray, rwsem and spinlocks are valid zeroed;
* ``generic_read_dir`` - always -EISDIR, as in the kernel;
* ``get_next_ino`` - a per-kernel counter;
* ``memweight`` (lib/memweight.c) - the number of set bits in a buffer.

The nlink helpers, ``ihold`` and ``current_time`` are in stubs/fs/inode.py.
"""
from __future__ import annotations

import errno

from kemu import data, export

from .internal import link_only as _link_only
from kemu.abi.exports import members
from kemu.abi.toolkit import err_ptr, init_list_head

members("struct inode", "i_devices", "i_io_list", "i_wb_list", "i_lru", "i_sb_list", "i_data")
members("struct address_space", "private_list")
members("struct list_head", "next", "prev")


_NOMEM = err_ptr(-errno.ENOMEM)
_GET_BLOCK = ("int (*get_block)(struct inode *inode, sector_t iblock, "
              "struct buffer_head *bh_result, int create)")

for _proto, _result in (
        # fs/dcache.c
        ("struct dentry *d_obtain_alias(struct inode *inode)", _NOMEM),
        # fs/libfs.c
        ("int generic_file_fsync(struct file *file, loff_t start, loff_t end, int datasync)",
         -errno.EINVAL),
        ("struct dentry *generic_fh_to_dentry(struct super_block *sb, struct fid *fid, "
         "int fh_len, int fh_type, "
         "struct inode *(*get_inode)(struct super_block *sb, u64 ino, u32 gen))", 0),
        ("struct dentry *generic_fh_to_parent(struct super_block *sb, struct fid *fid, "
         "int fh_len, int fh_type, "
         "struct inode *(*get_inode)(struct super_block *sb, u64 ino, u32 gen))", 0),
        # fs/buffer.c, fs/mpage.c
        ("sector_t generic_block_bmap(struct address_space *mapping, sector_t block, "
         + _GET_BLOCK + ")", 0),
        ("int mpage_read_folio(struct folio *folio, " + _GET_BLOCK + ")", -errno.EIO),
        ("void mpage_readahead(struct readahead_control *rac, " + _GET_BLOCK + ")", None)):
    _link_only(_proto, _result)


@export("void inode_init_once(struct inode *inode)")
def inode_init_once(k, inode):
    k.machine.write(inode, bytes(k.target.sizeof("inode")))
    for head in ("i_devices", "i_io_list", "i_wb_list", "i_lru", "i_sb_list"):
        init_list_head(k, inode + k.target.offset(f"inode.{head}"))
    init_list_head(k, inode + k.target.offset("inode.i_data")
                   + k.target.offset("address_space.private_list"))


@export("ssize_t generic_read_dir(struct file *filp, char *buf, size_t siz, loff_t *ppos)")
def generic_read_dir(k, filp, buf, siz, ppos):
    return -errno.EISDIR


class _NextIno:
    def __init__(self, k):
        self.last = 0


@export("unsigned int get_next_ino(void)")
def get_next_ino(k):
    st = k.model(_NextIno)
    st.last = (st.last + 1) & 0xFFFFFFFF
    if st.last == 0:                 # the kernel skips inode number 0
        st.last = 1
    return st.last


@export("size_t memweight(const void *ptr, size_t bytes)")
def memweight(k, ptr, nbytes):
    if not nbytes:
        return 0
    return int.from_bytes(k.machine.read(ptr, nbytes), "little").bit_count()


def _zeroed(k, addr):
    pass


data("const struct inode_operations page_symlink_inode_operations")(_zeroed)
