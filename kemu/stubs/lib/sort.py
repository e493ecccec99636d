"""lib/sort.c: the kernel's bottom-up heapsort, calling the module's cmp/swap."""
from kemu import export


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def _parent(i, lsbit, size):
    i -= size
    i -= size & -(i & lsbit)
    return i // 2


def sort_r(k, base, num, size, cmp, swap, priv, wrapper=False):
    """sort_r() as a generator; ``wrapper``: sort()'s cmp(a, b) and swap(a, b, size)."""
    m = k.machine
    n, a = num * size, (num // 2) * size
    lsbit = size & -size
    if not a:
        return

    def do_swap(x, y):
        if swap:
            if wrapper:
                yield k.call_request(swap, x, y, size)
            else:
                yield k.call_request(swap, x, y, size, priv)
            return
        bx, by = m.read(x, size), m.read(y, size)
        m.write(x, by)
        m.write(y, bx)

    def do_cmp(x, y):
        if wrapper:
            return _s32((yield k.call_request(cmp, x, y)))
        return _s32((yield k.call_request(cmp, x, y, priv)))

    while True:
        if a:
            a -= size
        else:
            n -= size
            if n:
                yield from do_swap(base, base + n)
            else:
                break
        b = a
        while True:
            c = 2 * b + size
            d = c + size
            if d >= n:
                break
            b = c if (yield from do_cmp(base + c, base + d)) >= 0 else d
        if d == n:
            b = c
        while b != a and (yield from do_cmp(base + a, base + b)) >= 0:
            b = _parent(b, lsbit, size)
        c = b
        while b != a:
            b = _parent(b, lsbit, size)
            yield from do_swap(base + b, base + c)


@export("void sort_r(void *base, size_t num, size_t size, "
        "int (*cmp_func)(const void *, const void *, const void *), "
        "void (*swap_func)(void *, void *, int, const void *), const void *priv)")
def sort_r_export(k, base, num, size, cmp_func, swap_func, priv):
    yield from sort_r(k, base, num, size, cmp_func, swap_func, priv)


@export("void sort(void *base, size_t num, size_t size, "
        "int (*cmp_func)(const void *, const void *), void (*swap_func)(void *, void *, int))")
def sort(k, base, num, size, cmp_func, swap_func):
    yield from sort_r(k, base, num, size, cmp_func, swap_func, 0, wrapper=True)
