"""lib/list_sort.c: the kernel's bottom-up merge sort of a list_head list, ported.

The merges compare in the kernel's order (the module's ``cmp`` sees the
same calls), the sort is stable, and ``prev`` links are rebuilt at the end.
"""
from kemu import export

from kemu.abi.toolkit import rd, s32, wr


class _Nodes:
    """next/prev of list_head nodes; slot None stands for the local ``pending``."""

    def __init__(self, k):
        self.k = k
        self.pending = 0

    def next(self, n):
        return rd(self.k, n, "list_head.next")

    def prev(self, n):
        return rd(self.k, n, "list_head.prev")

    def set_next(self, n, v):
        wr(self.k, n, "list_head.next", v)

    def set_prev(self, n, v):
        wr(self.k, n, "list_head.prev", v)


def _merge(k, L, priv, cmp, a, b):
    """merge(): a NULL-terminated merge of a and b, linked by ``next`` only."""
    head, tail = 0, None                 # tail None: &head
    while True:
        r = s32((yield k.call_request(cmp, priv, a, b)))
        if r <= 0:
            if tail is None:
                head = a
            else:
                L.set_next(tail, a)
            tail, a = a, L.next(a)
            if not a:
                L.set_next(tail, b)
                break
        else:
            if tail is None:
                head = b
            else:
                L.set_next(tail, b)
            tail, b = b, L.next(b)
            if not b:
                L.set_next(tail, a)
                break
    return head


def _merge_final(k, L, priv, cmp, head, a, b):
    """merge_final(): the last merge, restoring ``prev`` and the circular links."""
    tail = head
    count = 0
    while True:
        r = s32((yield k.call_request(cmp, priv, a, b)))
        if r <= 0:
            L.set_next(tail, a)
            L.set_prev(a, tail)
            tail, a = a, L.next(a)
            if not a:
                break
        else:
            L.set_next(tail, b)
            L.set_prev(b, tail)
            tail, b = b, L.next(b)
            if not b:
                b = a
                break
    L.set_next(tail, b)
    while True:
        count = (count + 1) & 0xFF
        if not count:                    # a very long unbalanced tail: let cmp cond_resched
            yield k.call_request(cmp, priv, b, b)
        L.set_prev(b, tail)
        tail, b = b, L.next(b)
        if not b:
            break
    L.set_next(tail, head)
    L.set_prev(head, tail)


@export("void list_sort(void *priv, struct list_head *head, "
        "int (*cmp)(void *priv, const struct list_head *a, const struct list_head *b))")
def list_sort(k, priv, head, cmp):
    L = _Nodes(k)
    lst = L.next(head)
    pending = 0
    count = 0
    if lst == L.prev(head):
        return
    L.set_next(L.prev(head), 0)
    while True:
        bits = count
        tail = None                      # &pending
        while bits & 1:
            tail = pending if tail is None else L.prev(tail)    # tail = &(*tail)->prev
            bits >>= 1
        if bits:
            a = pending if tail is None else L.prev(tail)
            b = L.prev(a)
            merged = yield from _merge(k, L, priv, cmp, b, a)
            L.set_prev(merged, L.prev(b))
            if tail is None:
                pending = merged
            else:
                L.set_prev(tail, merged)
        L.set_prev(lst, pending)
        pending = lst
        lst = L.next(lst)
        L.set_next(pending, 0)
        count += 1
        if not lst:
            break
    lst = pending
    pending = L.prev(pending)
    while True:
        nxt = L.prev(pending)
        if not nxt:
            break
        lst = yield from _merge(k, L, priv, cmp, pending, lst)
        pending = nxt
    yield from _merge_final(k, L, priv, cmp, head, pending, lst)
