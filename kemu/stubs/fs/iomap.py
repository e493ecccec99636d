"""fs/iomap/*.c and fs/dax.c: extent-mapped I/O and DAX, for linking.

Only reachable through a mounted filesystem's file and address-space
operations: link-only (a call is a ``not-modelled`` finding and fails -EIO,
NULL, or VM_FAULT_SIGBUS for the fault handlers).
"""
from __future__ import annotations

import errno

from .internal import link_only_table

_EIO = -errno.EIO
_SIGBUS = 0x0002                 # VM_FAULT_SIGBUS

link_only_table((
    # linux/dax.h
    ('long dax_direct_access(struct dax_device *dax_dev, pgoff_t pgoff, long nr_pages, '
     'enum dax_access_mode mode, void **kaddr, pfn_t *pfn)',
     _EIO),
    ('unsigned int dax_finish_sync_fault(struct vm_fault *vmf, enum page_entry_size '
     'pe_size, u64 pfn)',
     _SIGBUS),
    ('unsigned int dax_iomap_fault(struct vm_fault *vmf, enum page_entry_size pe_size, '
     'pfn_t *pfnp, int *errp, const struct iomap_ops *ops)',
     _SIGBUS),
    ('ssize_t dax_iomap_rw(struct kiocb *iocb, struct iov_iter *iter, const struct '
     'iomap_ops *ops)',
     _EIO),
    ('struct page *dax_layout_busy_page(struct address_space *mapping)', 0),
    ('struct page *dax_layout_busy_page_range(struct address_space *mapping, loff_t '
     'start, loff_t end)',
     0),
    ('int dax_read_lock(void)', _EIO),
    ('void dax_read_unlock(int id)', None),
    ('bool dax_synchronous(struct dax_device *dax_dev)', 0),
    ('int dax_writeback_mapping_range(struct address_space *mapping, struct dax_device '
     '*dax_dev, struct writeback_control *wbc)',
     _EIO),
    ('int dax_zero_range(struct inode *inode, loff_t pos, loff_t len, bool *did_zero, '
     'const struct iomap_ops *ops)',
     _EIO),
    # linux/iomap.h
    ('sector_t iomap_bmap(struct address_space *mapping, sector_t bno, const struct '
     'iomap_ops *ops)',
     0),
    ('ssize_t iomap_dio_rw(struct kiocb *iocb, struct iov_iter *iter, const struct '
     'iomap_ops *ops, const struct iomap_dio_ops *dops, unsigned int dio_flags, void '
     '*private, size_t done_before)',
     _EIO),
    ('int iomap_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo, u64 '
     'start, u64 len, const struct iomap_ops *ops)',
     _EIO),
    ('ssize_t iomap_file_buffered_write(struct kiocb *iocb, struct iov_iter *from, '
     'const struct iomap_ops *ops)',
     _EIO),
    ('void iomap_invalidate_folio(struct folio *folio, size_t offset, size_t len)', None),
    ('bool iomap_is_partially_uptodate(struct folio *folio, size_t from, size_t count)', 0),
    ('unsigned int iomap_page_mkwrite(struct vm_fault *vmf, const struct iomap_ops *ops)', _SIGBUS),
    ('int iomap_read_folio(struct folio *folio, const struct iomap_ops *ops)', _EIO),
    ('void iomap_readahead(struct readahead_control *readahead_control, const struct '
     'iomap_ops *ops)',
     None),
    ('bool iomap_release_folio(struct folio *folio, gfp_t gfp_flags)', 0),
    ('loff_t iomap_seek_data(struct inode *inode, loff_t offset, const struct '
     'iomap_ops *ops)',
     _EIO),
    ('loff_t iomap_seek_hole(struct inode *inode, loff_t offset, const struct '
     'iomap_ops *ops)',
     _EIO),
    ('int iomap_swapfile_activate(struct swap_info_struct *sis, struct file '
     '*swap_file, sector_t *pagespan, const struct iomap_ops *ops)',
     _EIO),
    ('int iomap_writepages(struct address_space *mapping, struct writeback_control '
     '*wbc, struct iomap_writepage_ctx *wpc, const struct iomap_writeback_ops *ops)',
     _EIO),
))
