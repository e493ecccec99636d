"""mm/filemap.c, mm/truncate.c, mm/page-writeback.c, mm/backing-dev.c, mm/readahead.c,
mm/swap.c and the page-cache parts of mm/: the page cache of mounted files.

A page cache page is a page of the direct map with its ``struct page`` in
vmemmap (stubs/mm/page_alloc.py): ``mapping``, ``index``, ``flags``
(``PG_locked``, ``PG_uptodate``, ``PG_error``) and ``_refcount`` (one for the
cache, one per user). The cache itself is kept by (mapping, index).
``read_cache_page`` (and ``read_mapping_page``, inline) fills a page with the
filler or the mapping's ``read_folio`` as do_read_cache_folio() does;
``generic_file_read_iter`` is filemap_read(): page by page up to ``i_size``,
each read with ``read_folio`` when not up to date, copied to the iov_iter;
``truncate_inode_pages``/``_final`` drop a mapping's pages.

Writes: ``generic_file_write_iter`` is generic_perform_write(): the
mapping's ``write_begin``, the bytes copied from the iov_iter into the locked
page, ``write_end``, then ``i_mtime``/``i_ctime`` updated (file_update_time);
``grab_cache_page_write_begin``/``pagecache_get_page`` find or make a locked
page; ``set_page_dirty``/``folio_mark_dirty`` mark it. :func:`write_pages`
is the writeback of a mapping: each dirty page locked and passed to the
mapping's ``writepage`` with a WB_SYNC_ALL ``writeback_control``.

Left out: readahead (one page is read at a time), large folios, the page
cache's xarray (``mapping->i_pages`` stays empty: modules that walk it see no
pages), writeback: the write-side exports stay link-only (a call is a
``not-modelled`` finding and fails -EIO / NULL / VM_FAULT_SIGBUS).
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members
from kemu.abi.toolkit import err_ptr, rd, s32, s64, wr

from ..fs.internal import link_only_table
from ..lib.usercopy import iter_copy_from, iter_copy_to, iter_count
from .internal import page_cache
from ..drivers.block.loop import LoopDevices
from .page_alloc import PAGE_SHIFT, PAGE_SIZE, pages
from ..fs.inode import file_update_time_gen

members("struct page", "flags", "mapping", "index", "_refcount")
members("struct address_space", "host", "a_ops", "nrpages")
members("struct address_space_operations", "read_folio")
members("struct inode", "i_size", "i_mapping")
members("struct file", "f_mapping", "f_inode")
members("struct super_block", "s_bdi")
members("struct kiocb", "ki_filp", "ki_pos", "ki_flags")
members("struct address_space_operations", "write_begin", "write_end", "writepage")
members("struct writeback_control", "sync_mode", "nr_to_write")

_EIO = -errno.EIO
_SIGBUS = 0x0002                 # VM_FAULT_SIGBUS

link_only_table((
    # mm/filemap.c, mm/readahead.c, mm/hugetlb.c, kernel/sched/psi.c (read paths)
    ('int add_to_page_cache_lru(struct page *page, struct address_space *mapping, '
     'unsigned long index, gfp_t gfp)', _EIO),
    ('ssize_t filemap_read(struct kiocb *iocb, struct iov_iter *to, ssize_t already_read)',
     _EIO),
    ('int generic_file_readonly_mmap(struct file *file, struct vm_area_struct *vma)', _EIO),
    ('bool PageHeadHuge(struct page *page)', 0),
    ('void psi_memstall_enter(unsigned long *flags)', None),
    ('void psi_memstall_leave(unsigned long *flags)', None),
    # linux/backing-dev.h
    ('void wb_writeout_inc(struct bdi_writeback *wb)', None),
    # linux/mm.h
    ('pgoff_t __page_file_index(struct page *page)', 0),
    ('int __page_mapcount(struct page *page)', _EIO),
    ('unsigned int filemap_fault(struct vm_fault *vmf)', _SIGBUS),
    ('unsigned int filemap_map_pages(struct vm_fault *vmf, pgoff_t start_pgoff, '
     'pgoff_t end_pgoff)',
     _SIGBUS),
    ('bool folio_mapped(struct folio *folio)', 0),
    ('int generic_error_remove_page(struct address_space *mapping, struct page *page)', _EIO),
    ('bool page_mapped(struct page *page)', 0),
    ('void pagecache_isize_extended(struct inode *inode, loff_t from, loff_t to)', None),
    ('void release_pages(struct page **pages, int nr)', None),
    ('int set_page_dirty_lock(struct page *page)', _EIO),
    ('void truncate_inode_pages_range(struct address_space *address_space, loff_t '
     'lstart, loff_t lend)',
     None),
    ('void truncate_pagecache_range(struct inode *inode, loff_t offset, loff_t end)', None),
    ('void unmap_mapping_range(struct address_space *mapping, loff_t const holebegin, '
     'loff_t const holelen, int even_cows)',
     None),
    ('void vma_set_file(struct vm_area_struct *vma, struct file *file)', None),
    # linux/page-flags.h
    ('bool __folio_start_writeback(struct folio *folio, bool keep_write)', 0),
    ('bool set_page_writeback(struct page *page)', 0),
    # linux/pagemap.h
    ('struct folio *__filemap_get_folio(struct address_space *mapping, pgoff_t index, '
     'int fgp_flags, gfp_t gfp)',
     0),
    ('void __filemap_set_wb_err(struct address_space *mapping, int err)', None),
    ('void __folio_cancel_dirty(struct folio *folio)', None),
    ('int __set_page_dirty_nobuffers(struct page *page)', _EIO),
    ('bool clear_page_dirty_for_io(struct page *page)', 0),
    ('void end_page_writeback(struct page *page)', None),
    ('int filemap_check_errors(struct address_space *mapping)', _EIO),
    ('int filemap_fdatawait_range(struct address_space *address_space, loff_t lstart, '
     'loff_t lend)',
     _EIO),
    ('int filemap_fdatawait_range_keep_errors(struct address_space *mapping, loff_t '
     'start_byte, loff_t end_byte)',
     _EIO),
    ('int filemap_fdatawrite(struct address_space *address_space)', _EIO),
    ('int filemap_fdatawrite_range(struct address_space *mapping, loff_t start, loff_t end)', _EIO),
    ('int filemap_flush(struct address_space *address_space)', _EIO),
    ('unsigned filemap_get_folios(struct address_space *mapping, pgoff_t *start, '
     'pgoff_t end, struct folio_batch *fbatch)',
     0),
    ('unsigned filemap_get_folios_contig(struct address_space *mapping, pgoff_t '
     '*start, pgoff_t end, struct folio_batch *fbatch)',
     0),
    ('int filemap_migrate_folio(struct address_space *mapping, struct folio *dst, '
     'struct folio *src, enum migrate_mode mode)',
     _EIO),
    ('bool filemap_release_folio(struct folio *folio, gfp_t gfp)', 0),
    ('int filemap_write_and_wait_range(struct address_space *mapping, loff_t lstart, '
     'loff_t lend)',
     _EIO),
    ('bool folio_clear_dirty_for_io(struct folio *folio)', 0),
    ('void folio_end_writeback(struct folio *folio)', None),
    ('void folio_invalidate(struct folio *folio, size_t offset, size_t length)', None),
    ('void folio_wait_stable(struct folio *folio)', None),
    ('void folio_wait_writeback(struct folio *folio)', None),
    ('int folio_write_one(struct folio *folio)', _EIO),
    ('void folio_end_private_2(struct folio *folio)', None),
    ('void folio_wait_private_2(struct folio *folio)', None),
    ('int folio_wait_private_2_killable(struct folio *folio)', _EIO),
    ('int invalidate_inode_pages2(struct address_space *mapping)', _EIO),
    ('int invalidate_inode_pages2_range(struct address_space *mapping, pgoff_t start, '
     'pgoff_t end)',
     _EIO),
    ('unsigned long invalidate_mapping_pages(struct address_space *mapping, pgoff_t '
     'start, pgoff_t end)',
     0),
    ('bool noop_dirty_folio(struct address_space *mapping, struct folio *folio)', 0),
    ('void page_cache_ra_unbounded(struct readahead_control *readahead_control, '
     'unsigned long nr_to_read, unsigned long lookahead_count)',
     None),
    ('void page_cache_sync_ra(struct readahead_control *readahead_control, unsigned '
     'long req_count)',
     None),
    ('void page_endio(struct page *page, bool is_write, int err)', None),
    ('void readahead_expand(struct readahead_control *ractl, loff_t new_start, size_t '
     'new_len)',
     None),
    ('void replace_page_cache_page(struct page *old, struct page *new)', None),
    ('void wait_for_stable_page(struct page *page)', None),
    ('void wait_on_page_writeback(struct page *page)', None),
    ('int write_inode_now(struct inode *inode, int sync)', _EIO),
    # linux/pagevec.h
    ('void __pagevec_release(struct pagevec *pvec)', None),
    ('unsigned pagevec_lookup_range_tag(struct pagevec *pvec, struct address_space '
     '*mapping, pgoff_t *index, pgoff_t end, unsigned int tag)',
     0),
    # linux/huge_mm.h (mm/huge_memory.c): a file's get_unmapped_area, at mmap()
    ('unsigned long thp_get_unmapped_area(struct file *filp, unsigned long addr, '
     'unsigned long len, unsigned long pgoff, unsigned long flags)', -errno.ENOMEM),
    # linux/swap.h
    ('struct address_space *swapcache_mapping(struct folio *folio)', 0),
    ('void lru_cache_add(struct page *page)', None),
    ('void mark_page_accessed(struct page *page)', None),
    # linux/writeback.h
    ('void __inode_attach_wb(struct inode *inode, struct page *page)', None),
    ('bool filemap_dirty_folio(struct address_space *mapping, struct folio *folio)', 0),
    ('int generic_writepages(struct address_space *mapping, struct writeback_control *wbc)', _EIO),
    ('void inode_io_list_del(struct inode *inode)', None),
    ('bool redirty_page_for_writepage(struct writeback_control *writeback_control, '
     'struct page *page)',
     0),
    ('void tag_pages_for_writeback(struct address_space *mapping, pgoff_t start, '
     'pgoff_t end)',
     None),
    ('void try_to_writeback_inodes_sb(struct super_block *sb, enum wb_reason reason)', None),
    ('void wbc_account_cgroup_owner(struct writeback_control *wbc, struct page *page, '
     'size_t bytes)',
     None),
    ('int write_cache_pages(struct address_space *mapping, struct writeback_control '
     '*wbc, void *writepage, void *data)',
     _EIO),
))


def _zeroed(k, addr):
    pass


@data("unsigned int dirty_writeback_interval")
def dirty_writeback_interval(k, addr):
    k.machine.write_u32(addr, 5 * 100)        # centiseconds (mm/page-writeback.c)


data("struct backing_dev_info noop_backing_dev_info")(_zeroed)


def read_page(k, mapping: int, index: int, filler: int = 0, file: int = 0):
    """do_read_cache_folio(): a generator returning the up-to-date page (with a
    reference for the caller) or a negative errno."""
    c = page_cache(k)
    t = k.target
    page = c.find_or_create(mapping, index)
    if not page:
        return -errno.ENOMEM
    if c.flag(page, t.const("PG_uptodate")):
        return page
    if not filler:
        filler = rd(k, rd(k, mapping, "address_space.a_ops"), "address_space_operations.read_folio")
    c.set_flag(page, t.const("PG_locked"))
    c.set_flag(page, t.const("PG_error"), False)
    err = s32((yield k.call_request(filler, file, page)))
    if err == 0 and not c.flag(page, t.const("PG_uptodate")):
        err = -errno.EIO
    if err:
        c.set_flag(page, t.const("PG_locked"), False)
        c.ref(page, -1)
        return err
    return page


@export("struct page *read_cache_page(struct address_space *mapping, unsigned long index, "
        "int (*filler)(struct file *file, struct folio *folio), struct file *file)")
def read_cache_page(k, mapping, index, filler, file):
    page = yield from read_page(k, mapping, index, filler, file)
    return err_ptr(page) if page < 0 else page


@export("struct folio *read_cache_folio(struct address_space *mapping, pgoff_t index, "
        "int (*filler)(struct file *file, struct folio *folio), struct file *file)")
def read_cache_folio(k, mapping, index, filler, file):
    return (yield from read_cache_page(k, mapping, index, filler, file))


@export("ssize_t generic_file_read_iter(struct kiocb *iocb, struct iov_iter *iter)")
def generic_file_read_iter(k, iocb, iter):
    """filemap_read(): copy up to i_size from up-to-date page cache pages."""
    if not iter_count(k, iter):
        return 0
    file = rd(k, iocb, "kiocb.ki_filp")
    mapping = rd(k, file, "file.f_mapping")
    inode = rd(k, mapping, "address_space.host")
    pos = s64(rd(k, iocb, "kiocb.ki_pos"))
    if pos < 0:
        return -errno.EINVAL
    copied = 0
    c = page_cache(k)
    while iter_count(k, iter):
        size = s64(rd(k, inode, "inode.i_size"))
        if pos >= size:
            break
        index, offset = pos >> PAGE_SHIFT, pos & (PAGE_SIZE - 1)
        page = yield from read_page(k, mapping, index, 0, file)
        if page < 0:
            if not copied:
                copied = page
            break
        n = min(PAGE_SIZE - offset, size - pos, iter_count(k, iter))
        data = k.machine.read(pages(k).addr_of(page) + offset, n)
        c.ref(page, -1)
        done = iter_copy_to(k, iter, data)
        pos += done
        copied += done
        if done < n:
            if not copied:
                copied = -errno.EFAULT
            break
    wr(k, iocb, "kiocb.ki_pos", pos & 0xFFFFFFFFFFFFFFFF)
    return copied


@export("void folio_unlock(struct folio *folio)")
def folio_unlock(k, folio):
    page_cache(k).set_flag(folio, k.target.const("PG_locked"), False)


@export("void unlock_page(struct page *page)")
def unlock_page(k, page):
    folio_unlock(k, page)


@export("void __folio_lock(struct folio *folio)")
def __folio_lock(k, folio):
    page_cache(k).set_flag(folio, k.target.const("PG_locked"))


@export("void __folio_put(struct folio *folio)")
def __folio_put(k, folio):
    """The last reference went: a page no longer in the cache is freed."""
    c = page_cache(k)
    if folio in c.pages.values():
        return
    p = pages(k)
    p.put(p.addr_of(folio), 0, "__folio_put")


@export("void truncate_inode_pages(struct address_space *mapping, loff_t lstart)")
def truncate_inode_pages(k, mapping, lstart):
    page_cache(k).drop(mapping, (lstart + PAGE_SIZE - 1) >> PAGE_SHIFT)


@export("void truncate_inode_pages_final(struct address_space *mapping)")
def truncate_inode_pages_final(k, mapping):
    page_cache(k).drop(mapping)


@export("struct page *pagecache_get_page(struct address_space *mapping, pgoff_t index, "
        "int fgp_flags, gfp_t gfp)")
def pagecache_get_page(k, mapping, index, fgp_flags, gfp):
    c, t = page_cache(k), k.target
    if not fgp_flags & t.const("FGP_CREAT") and (mapping, index) not in c.pages:
        return 0
    fresh = (mapping, index) not in c.pages
    page = c.find_or_create(mapping, index)
    if not fresh and fgp_flags & t.const("FGP_LOCK"):
        c.set_flag(page, t.const("PG_locked"))
    if fresh and not fgp_flags & t.const("FGP_LOCK"):
        c.set_flag(page, t.const("PG_locked"), False)
    return page


@export("struct page *grab_cache_page_write_begin(struct address_space *mapping, pgoff_t index)")
def grab_cache_page_write_begin(k, mapping, index):
    t = k.target
    return pagecache_get_page(k, mapping, index, t.const("FGP_LOCK") | t.const("FGP_CREAT"), 0)


@export("bool folio_mark_dirty(struct folio *folio)")
def folio_mark_dirty(k, folio):
    c = page_cache(k)
    was = c.flag(folio, k.target.const("PG_dirty"))
    c.set_flag(folio, k.target.const("PG_dirty"))
    mapping = rd(k, folio, "page.mapping")
    if mapping and not was:                   # __mark_inode_dirty(inode, I_DIRTY_PAGES)
        inode = rd(k, mapping, "address_space.host")
        wr(k, inode, "inode.i_state",
           rd(k, inode, "inode.i_state", 4) | k.target.const("I_DIRTY_PAGES"), 4)
    return 0 if was else 1


@export("bool set_page_dirty(struct page *page)")
def set_page_dirty(k, page):
    return folio_mark_dirty(k, page)


def write_pages(k, mapping: int):
    """do_writepages() with WB_SYNC_ALL through ->writepage: a generator, 0 or -errno."""
    c, t = page_cache(k), k.target
    aops = rd(k, mapping, "address_space.a_ops")
    writepage = rd(k, aops, "address_space_operations.writepage") if aops else 0
    err = 0
    for (m, index), page in sorted(c.pages.items()):
        if m != mapping or not c.flag(page, t.const("PG_dirty")):
            continue
        if not writepage:
            c.set_flag(page, t.const("PG_dirty"), False)
            continue
        wbc = k.heap.alloc(t.sizeof("writeback_control"), kind="writeback_control", zero=True)
        try:
            wr(k, wbc, "writeback_control.sync_mode", t.const("WB_SYNC_ALL"), 4)
            wr(k, wbc, "writeback_control.nr_to_write", 1)
            c.set_flag(page, t.const("PG_locked"))
            c.set_flag(page, t.const("PG_dirty"), False)       # folio_clear_dirty_for_io()
            ret = s32((yield k.call_request(writepage, page, wbc)))
            c.set_flag(page, t.const("PG_locked"), False)
            err = err or ret
        finally:
            k.heap.free(wbc)
    return err


@export("ssize_t generic_file_write_iter(struct kiocb *iocb, struct iov_iter *from)")
def generic_file_write_iter(k, iocb, from_):
    """generic_write_checks(), file_update_time(), generic_perform_write()."""
    t = k.target
    file = rd(k, iocb, "kiocb.ki_filp")
    mapping = rd(k, file, "file.f_mapping")
    inode = rd(k, mapping, "address_space.host")
    if rd(k, iocb, "kiocb.ki_flags", 4) & t.const("IOCB_APPEND"):
        wr(k, iocb, "kiocb.ki_pos", rd(k, inode, "inode.i_size"))
    pos = s64(rd(k, iocb, "kiocb.ki_pos"))
    if not iter_count(k, from_):
        return 0
    yield from file_update_time_gen(k, inode)
    aops = rd(k, mapping, "address_space.a_ops")
    write_begin = rd(k, aops, "address_space_operations.write_begin")
    write_end = rd(k, aops, "address_space_operations.write_end")
    if not write_begin or not write_end:
        return -errno.EINVAL
    written = 0
    slot = k.heap.alloc(16, kind="write_begin out", zero=True)      # struct page *, void *
    try:
        while iter_count(k, from_):
            offset = pos & (PAGE_SIZE - 1)
            n = min(PAGE_SIZE - offset, iter_count(k, from_))
            k.machine.write(slot, bytes(16))
            err = s32((yield k.call_request(write_begin, file, mapping, pos, n, slot, slot + 8)))
            if err:
                written = written or err
                break
            page = k.machine.read_u64(slot)
            data = iter_copy_from(k, from_, n)
            k.machine.write(pages(k).addr_of(page) + offset, data)
            copied = s64((yield k.call_request(write_end, file, mapping, pos, n, len(data),
                                               page, k.machine.read_u64(slot + 8))))
            if copied < 0:
                written = written or copied
                break
            pos += copied
            written += copied
            if copied < n:
                break
    finally:
        k.heap.free(slot)
    wr(k, iocb, "kiocb.ki_pos", pos & 0xFFFFFFFFFFFFFFFF)
    return written


@export("void truncate_pagecache(struct inode *inode, loff_t newsize)")
def truncate_pagecache(k, inode, newsize):
    mapping = rd(k, inode, "inode.i_mapping")
    page_cache(k).drop(mapping, (s64(newsize) + PAGE_SIZE - 1) >> PAGE_SHIFT)
    c = page_cache(k)
    page = c.pages.get((mapping, s64(newsize) >> PAGE_SHIFT))
    if page and s64(newsize) & (PAGE_SIZE - 1):          # the tail of the last page
        off = s64(newsize) & (PAGE_SIZE - 1)
        k.machine.write(pages(k).addr_of(page) + off, bytes(PAGE_SIZE - off))


@export("void truncate_setsize(struct inode *inode, loff_t newsize)")
def truncate_setsize(k, inode, newsize):
    wr(k, inode, "inode.i_size", newsize)
    truncate_pagecache(k, inode, newsize)


@export("struct backing_dev_info *inode_to_bdi(struct inode *inode)")
def inode_to_bdi(k, inode):
    """The disk's backing_dev_info for a block device's inode, else the superblock's."""
    dev = k.model(LoopDevices).by_inode(inode)
    if dev is not None:
        return dev.bdi
    sb = rd(k, inode, "inode.i_sb") if inode else 0
    bdi = rd(k, sb, "super_block.s_bdi") if sb else 0
    return bdi or k.export_addr("noop_backing_dev_info")
