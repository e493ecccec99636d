"""lib/sg_pool.c: chained scatterlists for I/O requests, for linking.

A SCSI command's scatterlist is allocated when a request is prepared; kemu
issues no block request, so these are link-only (``not-modelled`` finding).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only_table

link_only_table((
    ("int sg_alloc_table_chained(struct sg_table *table, int nents, "
     "struct scatterlist *first_chunk, unsigned nents_first_chunk)", -errno.ENOMEM),
    ("void sg_free_table_chained(struct sg_table *table, unsigned nents_first_chunk)", None),
), "kemu issues no block request")
