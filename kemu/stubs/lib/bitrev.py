"""lib/bitrev.c: ``byte_rev_table``, each byte with its bits reversed (bitrev8())."""
from __future__ import annotations

from kemu import data


@data("const u8 byte_rev_table[256]", size=256)
def byte_rev_table(k, addr):
    k.machine.write(addr, bytes(int(f"{b:08b}"[::-1], 2) for b in range(256)))
