"""lib/sbitmap.c: scalable bitmaps, for linking.

The SCSI mid-layer keeps a device's budget in an sbitmap, made when a device
is found by a host scan; kemu's machine has no SCSI host to scan, so these are
link-only (a call is a ``not-modelled`` finding and fails as an empty map would).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only_table

link_only_table((
    ("int sbitmap_init_node(struct sbitmap *sb, unsigned int depth, int shift, gfp_t flags, "
     "int node, bool round_robin, bool alloc_hint)", -errno.ENOMEM),
    ("void sbitmap_resize(struct sbitmap *sb, unsigned int depth)", None),
    ("int sbitmap_get(struct sbitmap *sb)", -1),
    ("unsigned int sbitmap_weight(const struct sbitmap *sb)", 0),
), "no SCSI device is ever found, so no budget map exists")
