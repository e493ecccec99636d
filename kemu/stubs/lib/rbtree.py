"""lib/rbtree.c (and include/linux/rbtree_augmented.h): red-black trees in kernel memory.

A line-by-line port operating on the modules' own ``struct rb_node``
(``__rb_parent_color`` holds the parent pointer with the colour in bit 0,
RB_RED 0, RB_BLACK 1) and ``struct rb_root``, so the trees stay readable by
the inline helpers modules carry (rb_link_node, rb_entry, RB_EMPTY_NODE...).

The augmented entry points (``__rb_insert_augmented``, ``__rb_erase_color``)
call the module's ``augment_rotate`` callback where the kernel does: the
algorithms are written as generators that yield ``(old, new)`` at each
rotation; the plain ones drop those, the augmented ones turn them into calls
of module code.

Python API: ``rb_insert(k, node, root)``, ``rb_erase_node(k, node, root)``,
``inorder(k, root) -> [node, ...]``.
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members

members("struct rb_node", "__rb_parent_color", "rb_right", "rb_left")
members("struct rb_root", "rb_node")

RB_RED, RB_BLACK = 0, 1


class _T:
    """Memory accessors for struct rb_node / rb_root in kernel ``k``."""

    def __init__(self, k):
        t, m = k.target, k.machine
        self.m = m
        self.pc = t.offset("rb_node.__rb_parent_color")
        self.r = t.offset("rb_node.rb_right")
        self.l = t.offset("rb_node.rb_left")
        self.root = t.offset("rb_root.rb_node")

    def get_pc(self, n):
        return self.m.read_u64(n + self.pc)

    def set_pc(self, n, v):
        self.m.write_u64(n + self.pc, v)

    def left(self, n):
        return self.m.read_u64(n + self.l)

    def right(self, n):
        return self.m.read_u64(n + self.r)

    def set_left(self, n, v):
        self.m.write_u64(n + self.l, v)

    def set_right(self, n, v):
        self.m.write_u64(n + self.r, v)

    def parent(self, n):
        return self.get_pc(n) & ~3

    def is_black(self, n):
        return self.get_pc(n) & 1

    def is_red(self, n):
        return not self.is_black(n)

    def set_parent(self, n, p):
        """rb_set_parent()."""
        self.set_pc(n, (self.get_pc(n) & 1) + p)

    def set_parent_color(self, n, p, color):
        self.set_pc(n, p + color)

    def change_child(self, old, new, parent, root):
        """__rb_change_child()."""
        if parent:
            if self.left(parent) == old:
                self.set_left(parent, new)
            else:
                self.set_right(parent, new)
        else:
            self.m.write_u64(root + self.root, new)

    def rotate_set_parents(self, old, new, root, color):
        """__rb_rotate_set_parents()."""
        parent = self.parent(old)
        self.set_pc(new, self.get_pc(old))
        self.set_parent_color(old, new, color)
        self.change_child(old, new, parent, root)


def _t(k) -> _T:
    return k.model(_T)


def _drain(gen):
    """Run an algorithm generator without augmentation (dummy_rotate/dummy_callbacks)."""
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


# ------------------------------------------------------------ the algorithms
def _insert(t: _T, node, root):
    """__rb_insert(): yields (old, new) where it calls augment_rotate."""
    parent = t.get_pc(node)                       # rb_red_parent(node)
    while True:
        if not parent:
            t.set_parent_color(node, 0, RB_BLACK)
            break
        if t.is_black(parent):
            break
        gparent = t.get_pc(parent)                # rb_red_parent(parent)
        tmp = t.right(gparent)
        if parent != tmp:                         # parent == gparent->rb_left
            if tmp and t.is_red(tmp):
                t.set_parent_color(tmp, gparent, RB_BLACK)
                t.set_parent_color(parent, gparent, RB_BLACK)
                node = gparent
                parent = t.parent(node)
                t.set_parent_color(node, parent, RB_RED)
                continue
            tmp = t.right(parent)
            if node == tmp:                       # Case 2 - left rotate at parent
                tmp = t.left(node)
                t.set_right(parent, tmp)
                t.set_left(node, parent)
                if tmp:
                    t.set_parent_color(tmp, parent, RB_BLACK)
                t.set_parent_color(parent, node, RB_RED)
                yield parent, node
                parent = node
                tmp = t.right(node)
            # Case 3 - right rotate at gparent
            t.set_left(gparent, tmp)
            t.set_right(parent, gparent)
            if tmp:
                t.set_parent_color(tmp, gparent, RB_BLACK)
            t.rotate_set_parents(gparent, parent, root, RB_RED)
            yield gparent, parent
            break
        tmp = t.left(gparent)
        if tmp and t.is_red(tmp):                 # Case 1 - color flips
            t.set_parent_color(tmp, gparent, RB_BLACK)
            t.set_parent_color(parent, gparent, RB_BLACK)
            node = gparent
            parent = t.parent(node)
            t.set_parent_color(node, parent, RB_RED)
            continue
        tmp = t.left(parent)
        if node == tmp:                           # Case 2 - right rotate at parent
            tmp = t.right(node)
            t.set_left(parent, tmp)
            t.set_right(node, parent)
            if tmp:
                t.set_parent_color(tmp, parent, RB_BLACK)
            t.set_parent_color(parent, node, RB_RED)
            yield parent, node
            parent = node
            tmp = t.left(node)
        # Case 3 - left rotate at gparent
        t.set_right(gparent, tmp)
        t.set_left(parent, gparent)
        if tmp:
            t.set_parent_color(tmp, gparent, RB_BLACK)
        t.rotate_set_parents(gparent, parent, root, RB_RED)
        yield gparent, parent
        break


def _erase_color(t: _T, parent, root):
    """____rb_erase_color(): yields (old, new) where it calls augment_rotate."""
    node = 0
    while True:
        sibling = t.right(parent)
        if node != sibling:                       # node == parent->rb_left
            if t.is_red(sibling):                 # Case 1 - left rotate at parent
                tmp1 = t.left(sibling)
                t.set_right(parent, tmp1)
                t.set_left(sibling, parent)
                t.set_parent_color(tmp1, parent, RB_BLACK)
                t.rotate_set_parents(parent, sibling, root, RB_RED)
                yield parent, sibling
                sibling = tmp1
            tmp1 = t.right(sibling)
            if not tmp1 or t.is_black(tmp1):
                tmp2 = t.left(sibling)
                if not tmp2 or t.is_black(tmp2):  # Case 2 - sibling color flip
                    t.set_parent_color(sibling, parent, RB_RED)
                    if t.is_red(parent):
                        t.set_pc(parent, t.get_pc(parent) + RB_BLACK)     # rb_set_black
                    else:
                        node = parent
                        parent = t.parent(node)
                        if parent:
                            continue
                    break
                # Case 3 - right rotate at sibling
                tmp1 = t.right(tmp2)
                t.set_left(sibling, tmp1)
                t.set_right(tmp2, sibling)
                t.set_right(parent, tmp2)
                if tmp1:
                    t.set_parent_color(tmp1, sibling, RB_BLACK)
                yield sibling, tmp2
                tmp1 = sibling
                sibling = tmp2
            # Case 4 - left rotate at parent + color flips
            tmp2 = t.left(sibling)
            t.set_right(parent, tmp2)
            t.set_left(sibling, parent)
            t.set_parent_color(tmp1, sibling, RB_BLACK)
            if tmp2:
                t.set_parent(tmp2, parent)
            t.rotate_set_parents(parent, sibling, root, RB_BLACK)
            yield parent, sibling
            break
        sibling = t.left(parent)
        if t.is_red(sibling):                     # Case 1 - right rotate at parent
            tmp1 = t.right(sibling)
            t.set_left(parent, tmp1)
            t.set_right(sibling, parent)
            t.set_parent_color(tmp1, parent, RB_BLACK)
            t.rotate_set_parents(parent, sibling, root, RB_RED)
            yield parent, sibling
            sibling = tmp1
        tmp1 = t.left(sibling)
        if not tmp1 or t.is_black(tmp1):
            tmp2 = t.right(sibling)
            if not tmp2 or t.is_black(tmp2):      # Case 2 - sibling color flip
                t.set_parent_color(sibling, parent, RB_RED)
                if t.is_red(parent):
                    t.set_pc(parent, t.get_pc(parent) + RB_BLACK)
                else:
                    node = parent
                    parent = t.parent(node)
                    if parent:
                        continue
                break
            # Case 3 - left rotate at sibling
            tmp1 = t.left(tmp2)
            t.set_right(sibling, tmp1)
            t.set_left(tmp2, sibling)
            t.set_left(parent, tmp2)
            if tmp1:
                t.set_parent_color(tmp1, sibling, RB_BLACK)
            yield sibling, tmp2
            tmp1 = sibling
            sibling = tmp2
        # Case 4 - right rotate at parent + color flips
        tmp2 = t.right(sibling)
        t.set_left(parent, tmp2)
        t.set_right(sibling, parent)
        t.set_parent_color(tmp1, sibling, RB_BLACK)
        if tmp2:
            t.set_parent(tmp2, parent)
        t.rotate_set_parents(parent, sibling, root, RB_BLACK)
        yield parent, sibling
        break


def _erase_augmented(t: _T, node, root) -> int:
    """__rb_erase_augmented() with dummy_callbacks: the node to rebalance from, or 0."""
    child = t.right(node)
    tmp = t.left(node)
    if not tmp:
        # Case 1: node to erase has no more than 1 child (easy!)
        pc = t.get_pc(node)
        parent = pc & ~3
        t.change_child(node, child, parent, root)
        if child:
            t.set_pc(child, pc)
            rebalance = 0
        else:
            rebalance = parent if pc & 1 else 0
    elif not child:
        # Still case 1, but this time the child is node->rb_left
        pc = t.get_pc(node)
        t.set_pc(tmp, pc)
        parent = pc & ~3
        t.change_child(node, tmp, parent, root)
        rebalance = 0
    else:
        successor = child
        tmp = t.left(child)
        if not tmp:
            # Case 2: node's successor is its right child
            parent = successor
            child2 = t.right(successor)
        else:
            # Case 3: node's successor is leftmost under node's right child subtree
            while True:
                parent = successor
                successor = tmp
                tmp = t.left(tmp)
                if not tmp:
                    break
            child2 = t.right(successor)
            t.set_left(parent, child2)
            t.set_right(successor, child)
            t.set_parent(child, successor)
        tmp = t.left(node)
        t.set_left(successor, tmp)
        t.set_parent(tmp, successor)
        pc = t.get_pc(node)
        tmp = pc & ~3
        t.change_child(node, successor, tmp, root)
        if child2:
            t.set_pc(successor, pc)
            t.set_parent_color(child2, parent, RB_BLACK)
            rebalance = 0
        else:
            pc2 = t.get_pc(successor)
            t.set_pc(successor, pc)
            rebalance = parent if pc2 & 1 else 0
    return rebalance


def _rotate_calls(k, fn):
    """Turn the algorithms' (old, new) into calls of the module's augment_rotate."""
    def run(gen):
        try:
            pair = next(gen)
            while True:
                yield k.call_request(fn, *pair)
                pair = next(gen)
        except StopIteration as stop:
            return stop.value
    return run


# ------------------------------------------------------------ Python API
def rb_insert(k, node, root) -> None:
    """rb_insert_color() (the node already linked by rb_link_node)."""
    _drain(_insert(_t(k), node, root))


def rb_erase_node(k, node, root) -> None:
    """rb_erase()."""
    t = _t(k)
    rebalance = _erase_augmented(t, node, root)
    if rebalance:
        _drain(_erase_color(t, rebalance, root))


def inorder(k, root) -> list[int]:
    """The nodes of the tree in order (rb_first, rb_next...)."""
    out, n = [], rb_first(k, root)
    while n:
        out.append(n)
        n = rb_next(k, n)
    return out


# ------------------------------------------------------------ exports
@export("void rb_insert_color(struct rb_node *node, struct rb_root *root)")
def rb_insert_color(k, node, root):
    rb_insert(k, node, root)


@export("void rb_erase(struct rb_node *node, struct rb_root *root)")
def rb_erase(k, node, root):
    rb_erase_node(k, node, root)


@export("void __rb_insert_augmented(struct rb_node *node, struct rb_root *root, "
        "void (*augment_rotate)(struct rb_node *old, struct rb_node *new))")
def __rb_insert_augmented(k, node, root, augment_rotate):
    return (yield from _rotate_calls(k, augment_rotate)(_insert(_t(k), node, root)))


@export("void __rb_erase_color(struct rb_node *parent, struct rb_root *root, "
        "void (*augment_rotate)(struct rb_node *old, struct rb_node *new))")
def __rb_erase_color(k, parent, root, augment_rotate):
    return (yield from _rotate_calls(k, augment_rotate)(_erase_color(_t(k), parent, root)))


@export("struct rb_node *rb_first(const struct rb_root *root)")
def rb_first(k, root):
    t = _t(k)
    n = k.machine.read_u64(root + t.root)
    if not n:
        return 0
    while t.left(n):
        n = t.left(n)
    return n


@export("struct rb_node *rb_last(const struct rb_root *root)")
def rb_last(k, root):
    t = _t(k)
    n = k.machine.read_u64(root + t.root)
    if not n:
        return 0
    while t.right(n):
        n = t.right(n)
    return n


@export("struct rb_node *rb_next(const struct rb_node *node)")
def rb_next(k, node):
    t = _t(k)
    if t.get_pc(node) == node:                    # RB_EMPTY_NODE
        return 0
    if t.right(node):
        node = t.right(node)
        while t.left(node):
            node = t.left(node)
        return node
    parent = t.parent(node)
    while parent and node == t.right(parent):
        node = parent
        parent = t.parent(node)
    return parent


@export("struct rb_node *rb_prev(const struct rb_node *node)")
def rb_prev(k, node):
    t = _t(k)
    if t.get_pc(node) == node:
        return 0
    if t.left(node):
        node = t.left(node)
        while t.right(node):
            node = t.right(node)
        return node
    parent = t.parent(node)
    while parent and node == t.left(parent):
        node = parent
        parent = t.parent(node)
    return parent


def _replace(k, victim, new, root):
    t = _t(k)
    parent = t.parent(victim)
    size = k.target.sizeof("rb_node")
    k.machine.write(new, k.machine.read(victim, size))        # *new = *victim
    if t.left(victim):
        t.set_parent(t.left(victim), new)
    if t.right(victim):
        t.set_parent(t.right(victim), new)
    t.change_child(victim, new, parent, root)


@export("void rb_replace_node(struct rb_node *victim, struct rb_node *new, struct rb_root *root)")
def rb_replace_node(k, victim, new, root):
    _replace(k, victim, new, root)


@export("void rb_replace_node_rcu(struct rb_node *victim, struct rb_node *new, "
        "struct rb_root *root)")
def rb_replace_node_rcu(k, victim, new, root):
    _replace(k, victim, new, root)


def _left_deepest(t: _T, node):
    while True:
        if t.left(node):
            node = t.left(node)
        elif t.right(node):
            node = t.right(node)
        else:
            return node


@export("struct rb_node *rb_next_postorder(const struct rb_node *node)")
def rb_next_postorder(k, node):
    t = _t(k)
    if not node:
        return 0
    parent = t.parent(node)
    if parent and node == t.left(parent) and t.right(parent):
        return _left_deepest(t, t.right(parent))
    return parent


@export("struct rb_node *rb_first_postorder(const struct rb_root *root)")
def rb_first_postorder(k, root):
    t = _t(k)
    n = k.machine.read_u64(root + t.root)
    return _left_deepest(t, n) if n else 0
