"""block/*.c (bio.c, blk-core.c, bdev.c, blk-lib.c, blk-zoned.c...): block I/O, for linking.

kemu's machine has no block device, so bios are never submitted and devices
never opened: these exports are link-only (a call is a ``not-modelled``
finding and fails -EIO / NULL / ERR_PTR(-EOPNOTSUPP)).
"""
from __future__ import annotations

import errno

from kemu import data

from ..fs.internal import link_only_table
from kemu.abi.toolkit import err_ptr

_EIO = -errno.EIO
_ERRPTR = err_ptr(-errno.EOPNOTSUPP)
_NO_DEVICE = "kemu's machine has no block device"

link_only_table((
    # linux/bio.h
    ('void __bio_release_pages(struct bio *bio, bool mark_dirty)', None),
    ('int bio_add_page(struct bio *bio, struct page *page, unsigned len, unsigned off)', _EIO),
    ('struct bio *bio_alloc_bioset(struct block_device *bdev, unsigned short nr_vecs, '
     'unsigned int opf, gfp_t gfp_mask, struct bio_set *bs)',
     0),
    ('void bio_associate_blkg_from_css(struct bio *bio, struct cgroup_subsys_state *css)', None),
    ('void bio_free_pages(struct bio *bio)', None),
    ('void bio_init(struct bio *bio, struct block_device *bdev, struct bio_vec *table, '
     'unsigned short max_vecs, unsigned int opf)',
     None),
    ('int bio_iov_iter_get_pages(struct bio *bio, struct iov_iter *iter)', _EIO),
    ('struct bio *bio_kmalloc(unsigned short nr_vecs, gfp_t gfp_mask)', 0),
    ('void bio_put(struct bio *bio)', None),
    ('void bio_uninit(struct bio *bio)', None),
    ('void submit_bio(struct bio *bio)', None),
    ('int submit_bio_wait(struct bio *bio)', _EIO),
    # linux/blkdev.h
    ('unsigned int bdev_nr_zones(struct block_device *bdev)', 0),
    ('const char *blk_op_str(enum req_op op)', 0),
    ('int blk_status_to_errno(unsigned char status)', _EIO),
    ('struct block_device *blkdev_get_by_dev(dev_t dev, fmode_t mode, void *holder)', _ERRPTR),
    ('int blkdev_issue_discard(struct block_device *bdev, sector_t sector, sector_t '
     'nr_sects, gfp_t gfp_mask)',
     _EIO),
    ('int blkdev_issue_flush(struct block_device *bdev)', _EIO),
    ('int blkdev_issue_zeroout(struct block_device *bdev, sector_t sector, sector_t '
     'nr_sects, gfp_t gfp_mask, unsigned flags)',
     _EIO),
    ('int blkdev_report_zones(struct block_device *bdev, sector_t sector, unsigned int '
     'nr_zones, void *cb, void *data)',
     _EIO),
    ('int blkdev_zone_mgmt(struct block_device *bdev, enum req_op op, sector_t '
     'sectors, sector_t nr_sectors, gfp_t gfp_mask)',
     _EIO),
    ('int freeze_bdev(struct block_device *bdev)', _EIO),
    ('int iocb_bio_iopoll(struct kiocb *kiocb, struct io_comp_batch *iob, unsigned int '
     'flags)',
     _EIO),
    ('int sync_blockdev_nowait(struct block_device *bdev)', _EIO),
    ('int sync_blockdev_range(struct block_device *bdev, loff_t lstart, loff_t lend)', _EIO),
    ('int thaw_bdev(struct block_device *bdev)', _EIO),
), _NO_DEVICE)


@data("struct bio_set fs_bio_set")
def fs_bio_set(k, addr):
    pass                       # never used to allocate: no bio is ever submitted


# block/ioprio.c: a filesystem sets its journal thread's I/O priority at mount time.
link_only_table((
    ("int set_task_ioprio(struct task_struct *task, int ioprio)", -errno.ESRCH),
), "kemu mounts no filesystem")
