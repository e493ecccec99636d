"""lib/math/gcd.c: the greatest common divisor (gcd(a, 0) = a, as the kernel's binary gcd)."""
from __future__ import annotations

import math

from kemu import export


@export("unsigned long gcd(unsigned long a, unsigned long b)")
def gcd(k, a, b):
    return math.gcd(a, b)
