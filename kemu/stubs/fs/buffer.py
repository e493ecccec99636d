"""fs/buffer.c and fs/mpage.c: buffer heads and block-mapped page I/O, for linking.

No block device exists in kemu's machine and nothing is mounted, so buffer
heads are never read: these exports are link-only (a call is a
``not-modelled`` finding; reads fail with -EIO or NULL, as on a dead device).
"""
from __future__ import annotations

import errno

from .internal import link_only_table

_EIO = -errno.EIO

link_only_table((
    # linux/buffer_head.h
    ('void __bforget(struct buffer_head *buffer_head)', None),
    ('int __bh_read(struct buffer_head *bh, unsigned int op_flags, bool wait)', _EIO),
    ('void __bh_read_batch(int nr, struct buffer_head *bhs[], unsigned int op_flags, '
     'bool force_lock)',
     None),
    ('int __block_write_begin(struct page *page, loff_t pos, unsigned len, get_block_t '
     '*get_block)',
     _EIO),
    ('void __breadahead(struct block_device *block_device, sector_t block, unsigned '
     'int size)',
     None),
    ('struct buffer_head *__find_get_block(struct block_device *bdev, sector_t block, '
     'unsigned size)',
     0),
    ('struct buffer_head *__getblk_gfp(struct block_device *bdev, sector_t block, '
     'unsigned size, gfp_t gfp)',
     0),
    ('void __lock_buffer(struct buffer_head *bh)', None),
    ('int __sync_dirty_buffer(struct buffer_head *bh, unsigned int op_flags)', _EIO),
    ('void __wait_on_buffer(struct buffer_head *buffer_head)', None),
    ('struct buffer_head *alloc_buffer_head(gfp_t gfp_flags)', 0),
    ('int bh_uptodate_or_lock(struct buffer_head *bh)', _EIO),
    ('int block_commit_write(struct page *page, unsigned from, unsigned to)', _EIO),
    ('bool block_dirty_folio(struct address_space *mapping, struct folio *folio)', 0),
    ('void block_invalidate_folio(struct folio *folio, size_t offset, size_t length)', None),
    ('bool block_is_partially_uptodate(struct folio *folio, size_t from, size_t count)', 0),
    ('int block_page_mkwrite(struct vm_area_struct *vma, struct vm_fault *vmf, void '
     '*get_block)',
     _EIO),
    ('int block_truncate_page(struct address_space *address_space, loff_t pos, '
     'get_block_t *get_block_t)',
     _EIO),
    ('int block_write_begin(struct address_space *mapping, loff_t pos, unsigned len, '
     'struct page **pagep, get_block_t *get_block)',
     _EIO),
    ('int block_write_end(struct file *file, struct address_space *address_space, '
     'loff_t pos, unsigned arg, unsigned arg2, struct page *page, void *void)',
     _EIO),
    ('int block_write_full_page(struct page *page, get_block_t *get_block, struct '
     'writeback_control *wbc)',
     _EIO),
    ('int buffer_migrate_folio(struct address_space *address_space, struct folio *dst, '
     'struct folio *src, enum migrate_mode migrate_mode)',
     _EIO),
    ('void clean_bdev_aliases(struct block_device *bdev, sector_t block, sector_t len)', None),
    ('int cont_write_begin(struct file *file, struct address_space *address_space, '
     'loff_t pos, unsigned arg, struct page **page, void **void, get_block_t '
     '*get_block_t, loff_t *pos2)',
     _EIO),
    ('void create_empty_buffers(struct page *page, unsigned long n, unsigned long b_state)', None),
    ('void end_buffer_read_sync(struct buffer_head *bh, int uptodate)', None),
    ('void end_buffer_write_sync(struct buffer_head *bh, int uptodate)', None),
    ('void free_buffer_head(struct buffer_head *bh)', None),
    ('int generic_cont_expand_simple(struct inode *inode, loff_t size)', _EIO),
    ('int generic_write_end(struct file *file, struct address_space *address_space, '
     'loff_t pos, unsigned arg, unsigned arg2, struct page *page, void *void)',
     _EIO),
    ('void invalidate_bh_lrus(void)', None),
    ('void invalidate_inode_buffers(struct inode *inode)', None),
    ('void mark_buffer_async_write(struct buffer_head *bh)', None),
    ('void mark_buffer_dirty(struct buffer_head *bh)', None),
    ('void mark_buffer_dirty_inode(struct buffer_head *bh, struct inode *inode)', None),
    ('void page_zero_new_buffers(struct page *page, unsigned from, unsigned to)', None),
    ('void set_bh_page(struct buffer_head *bh, struct page *page, unsigned long offset)', None),
    ('void submit_bh(unsigned int opf, struct buffer_head *buffer_head)', None),
    ('int sync_dirty_buffer(struct buffer_head *bh)', _EIO),
    ('int sync_mapping_buffers(struct address_space *mapping)', _EIO),
    ('bool try_to_free_buffers(struct folio *folio)', 0),
    ('void unlock_buffer(struct buffer_head *bh)', None),
    ('void write_dirty_buffer(struct buffer_head *bh, unsigned int op_flags)', None),
    # linux/mpage.h
    ('int mpage_writepages(struct address_space *mapping, struct writeback_control '
     '*wbc, void *get_block)',
     _EIO),
))
