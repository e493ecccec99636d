"""lib/hweight.c: software population counts."""
from kemu import export


@export("unsigned int __sw_hweight32(unsigned int w)")
def __sw_hweight32(k, w):
    return bin(w & 0xFFFFFFFF).count("1")


@export("unsigned long __sw_hweight64(__u64 w)")
def __sw_hweight64(k, w):
    return bin(w).count("1")
