"""arch/x86/mm/init.c: page cache modes as PTE bits (cachemode2protval).

The table is the one pat_init() leaves on a CPU with PAT (every x86_64 CPU
Debian's kernel boots on, qemu's included): Linux's PAT MSR layout
"WB WC UC- UC WB WP UC- WT", each mode mapped to the PWT/PCD/PAT bits of
its first slot. Nothing else of init.c is modelled.
"""
from __future__ import annotations

from kemu import export

# pat_init(): PAT slot of each cache mode (slots 0-7 = WB WC UC- UC WB WP UC- WT)
_PAT_SLOT = {"WB": 0, "WC": 1, "UC_MINUS": 2, "UC": 3, "WP": 5, "WT": 7}


def _slot_bits(t, slot: int) -> int:
    """A PAT slot as the PTE bits selecting it: PWT (bit 0), PCD (bit 1), PAT (bit 2)."""
    return ((t.const("_PAGE_PWT") if slot & 1 else 0) | (t.const("_PAGE_PCD") if slot & 2 else 0)
            | (t.const("_PAGE_PAT") if slot & 4 else 0))


@export("unsigned long cachemode2protval(enum page_cache_mode pcm)")
def cachemode2protval(k, pcm):
    t = k.target
    for mode, slot in _PAT_SLOT.items():
        if pcm == t.const(f"_PAGE_CACHE_MODE_{mode}"):
            return _slot_bits(t, slot)
    return 0
