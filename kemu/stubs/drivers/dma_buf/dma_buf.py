"""drivers/dma-buf/dma-buf.c: sharing buffers between drivers through file descriptors, for linking.

A dma-buf is exported to user space as a file descriptor (VIDIOC_EXPBUF,
DRM PRIME) and imported back from one; kemu's processes never ask for one, so
these are link-only (a call is a ``not-modelled`` finding and the failure
Linux gives: no descriptor, or a bad one).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only_table
from kemu.abi.toolkit import err_ptr

link_only_table((
    ("int dma_buf_fd(struct dma_buf *dmabuf, int flags)", -errno.EINVAL),
    ("struct dma_buf *dma_buf_get(int fd)", err_ptr(-errno.EBADF)),
    ("void dma_buf_put(struct dma_buf *dmabuf)", None),
    ("struct dma_buf *dma_buf_export(const struct dma_buf_export_info *exp_info)",
     err_ptr(-errno.EINVAL)),
    ("int dma_buf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)", -errno.EINVAL),
    ("void dma_buf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)", None),
), "no process exports or imports a dma-buf")
