"""lib/interval_tree.c: INTERVAL_TREE_DEFINE(struct interval_tree_node, ...) over
the rbtree port in :mod:`kemu.stubs.lib.rbtree`, on nodes in emulated memory.

Nodes are ordered by ``start`` in an rb_root_cached (the leftmost node
cached) and each keeps ``__subtree_last``, the largest ``last`` below it,
which the iterators prune with, exactly as the kernel's generated code does.
Insertion keeps it up to date on the way down and through the rotations;
after an erase the affected values are recomputed.
"""
from kemu import export
from kemu.abi.exports import members

from .rbtree import _erase_augmented, _erase_color, _insert, _t, rb_next

members("struct interval_tree_node", "rb", "start", "last", "__subtree_last")
members("struct rb_root_cached", "rb_root", "rb_leftmost")
members("struct rb_root", "rb_node")


class _Node:
    """Accessors of struct interval_tree_node / rb_root_cached."""

    def __init__(self, k):
        t, self.m = k.target, k.machine
        self.rb = t.offset("interval_tree_node.rb")
        self.start = t.offset("interval_tree_node.start")
        self.last = t.offset("interval_tree_node.last")
        self.sub = t.offset("interval_tree_node.__subtree_last")
        self.root = t.offset("rb_root_cached.rb_root") + t.offset("rb_root.rb_node")
        self.leftmost = t.offset("rb_root_cached.rb_leftmost")

    def node(self, rb):                      # rb_entry()
        return rb - self.rb if rb else 0

    def get(self, n, field):
        return self.m.read_u64(n + field)

    def put(self, n, field, v):
        self.m.write_u64(n + field, v)

    def compute_last(self, t, n):
        """The augmented value from the node and its children."""
        best = self.get(n, self.last)
        for child in (t.left(n + self.rb), t.right(n + self.rb)):
            if child:
                best = max(best, self.get(self.node(child), self.sub))
        return best


def _n(k) -> _Node:
    return k.model(_Node)


@export("void interval_tree_insert(struct interval_tree_node *node, "
        "struct rb_root_cached *root)")
def interval_tree_insert(k, node, root):
    n, t = _n(k), _t(k)
    start, last = n.get(node, n.start), n.get(node, n.last)
    link, parent_rb, leftmost = root + n.root, 0, True
    while k.machine.read_u64(link):
        parent_rb = k.machine.read_u64(link)
        parent = n.node(parent_rb)
        if n.get(parent, n.sub) < last:
            n.put(parent, n.sub, last)
        if start < n.get(parent, n.start):
            link = parent_rb + t.l
        else:
            link = parent_rb + t.r
            leftmost = False
    n.put(node, n.sub, last)
    rb = node + n.rb
    t.set_pc(rb, parent_rb)                  # rb_link_node(): red, parent
    t.set_left(rb, 0)
    t.set_right(rb, 0)
    k.machine.write_u64(link, rb)
    if leftmost:
        n.put(root, n.leftmost, rb)
    gen = _insert(t, rb, root + n.root - t.root)
    try:
        old, new = next(gen)
        while True:                          # augment_rotate(old, new)
            o, nw = n.node(old), n.node(new)
            n.put(nw, n.sub, n.get(o, n.sub))
            n.put(o, n.sub, n.compute_last(t, o))
            old, new = next(gen)
    except StopIteration:
        pass


@export("void interval_tree_remove(struct interval_tree_node *node, "
        "struct rb_root_cached *root)")
def interval_tree_remove(k, node, root):
    n, t = _n(k), _t(k)
    rb = node + n.rb
    if n.get(root, n.leftmost) == rb:
        n.put(root, n.leftmost, rb_next(k, rb))
    rebalance = _erase_augmented(t, rb, root + n.root - t.root)
    if rebalance:
        for _ in _erase_color(t, rebalance, root + n.root - t.root):
            pass
    # augment_propagate(): recompute on the paths the erase changed
    _recompute(k, n, t, k.machine.read_u64(root + n.root))


def _recompute(k, n, t, rb):
    """Post-order recomputation of __subtree_last below ``rb``."""
    if not rb:
        return
    _recompute(k, n, t, t.left(rb))
    _recompute(k, n, t, t.right(rb))
    node = n.node(rb)
    n.put(node, n.sub, n.compute_last(t, node))


def _subtree_search(n, t, node, start, last):
    while True:
        left = t.left(node + n.rb)
        if left:
            lnode = n.node(left)
            if start <= n.get(lnode, n.sub):
                node = lnode
                continue
        if n.get(node, n.start) <= last:
            if start <= n.get(node, n.last):
                return node
            right = t.right(node + n.rb)
            if right:
                node = n.node(right)
                if start <= n.get(node, n.sub):
                    continue
        return 0


@export("struct interval_tree_node *interval_tree_iter_first(struct rb_root_cached *root, "
        "unsigned long start, unsigned long last)")
def interval_tree_iter_first(k, root, start, last):
    n, t = _n(k), _t(k)
    rb = k.machine.read_u64(root + n.root)
    if not rb:
        return 0
    leftmost = n.node(n.get(root, n.leftmost))
    if n.get(leftmost, n.start) > last:
        return 0
    node = n.node(rb)
    if n.get(node, n.sub) < start:
        return 0
    return _subtree_search(n, t, node, start, last)


@export("struct interval_tree_node *interval_tree_iter_next(struct interval_tree_node *node, "
        "unsigned long start, unsigned long last)")
def interval_tree_iter_next(k, node, start, last):
    n, t = _n(k), _t(k)
    rb = t.right(node + n.rb)
    while True:
        if rb:
            right = n.node(rb)
            if start <= n.get(right, n.sub):
                return _subtree_search(n, t, right, start, last)
        while True:
            rb = t.parent(node + n.rb)
            if not rb:
                return 0
            prev = node + n.rb
            node = n.node(rb)
            rb = t.right(node + n.rb)
            if prev != rb:
                break
        if last < n.get(node, n.start):
            return 0
        if start <= n.get(node, n.last):
            return node
