"""block/bsg.c, block/bsg-lib.c, block/blk-pm.c: SCSI generic v4 nodes and queues' runtime PM, for linking.

A bsg node (/dev/bsg/H:C:T:L) and a queue's runtime PM belong to a SCSI
device found by a host scan, which kemu's machine never has: link-only
(``not-modelled`` finding, the failure Linux gives without the device).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only_table
from kemu.abi.toolkit import err_ptr

link_only_table((
    ("struct bsg_device *bsg_register_queue(struct request_queue *q, struct device *parent, "
     "const char *name, bsg_sg_io_fn *sg_io_fn)", err_ptr(-errno.ENODEV)),
    ("void bsg_unregister_queue(struct bsg_device *bset)", None),
    ("int blk_pre_runtime_suspend(struct request_queue *q)", -errno.EBUSY),
    ("void blk_post_runtime_suspend(struct request_queue *q, int err)", None),
    ("void blk_pre_runtime_resume(struct request_queue *q)", None),
    ("void blk_post_runtime_resume(struct request_queue *q)", None),
    ("int blk_set_pm_only(struct request_queue *q)", 0),
    ("void blk_clear_pm_only(struct request_queue *q)", None),
    # block/bsg-lib.c: a transport's bsg queue, set up when a host is added
    ("struct request_queue *bsg_setup_queue(struct device *dev, const char *name, "
     "bsg_job_fn *job_fn, bsg_timeout_fn *timeout, int dd_job_size)", err_ptr(-errno.ENODEV)),
    ("void bsg_remove_queue(struct request_queue *q)", None),
    ("void bsg_job_done(struct bsg_job *job, int result, unsigned int reply_payload_rcv_len)",
     None),
    ("int bsg_job_get(struct bsg_job *job)", 0),
    ("void bsg_job_put(struct bsg_job *job)", None),
), "no SCSI device is ever found (no host adapter to scan)")
