"""lib/bsearch.c: binary search over a sorted array, calling the module's cmp."""
from kemu import export


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


@export("void *bsearch(const void *key, const void *base, size_t num, size_t size, "
        "int (*cmp)(const void *key, const void *elt))")
def bsearch(k, key, base, num, size, cmp):
    """__inline_bsearch(): the element cmp() says equals ``key``, or NULL."""
    while num > 0:
        pivot = base + (num >> 1) * size
        result = _s32((yield k.call_request(cmp, key, pivot)))
        if result == 0:
            return pivot
        if result > 0:
            base = pivot + size
            num -= 1
        num >>= 1
    return 0
