"""lib/math/int_pow.c: integer exponentiation, as the kernel's square-and-multiply
(u64 arithmetic: a result past 2^64 wraps)."""
from __future__ import annotations

from kemu import export


@export("u64 int_pow(u64 base, unsigned int exp)")
def int_pow(k, base, exp):
    return pow(base, exp, 1 << 64)
