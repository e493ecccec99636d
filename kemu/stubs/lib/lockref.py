"""lib/lockref.c: a reference count and its spinlock in one 64-bit word.

With CONFIG_ARCH_USE_CMPXCHG_LOCKREF the kernel updates ``count`` with a
cmpxchg of the whole word while the spinlock is free, and falls back to
taking the spinlock otherwise. On kemu's one CPU a lockref whose lock is
held can only be held by a task that cannot run now, so the fallback goes
through the spinlock model (which reports the soft lockup the kernel would
show when the current task holds it itself). ``lockref_put_or_lock`` returns
with the lock held when it would drop the last reference, as the kernel's.
"""
from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, wr
from ..kernel.locking.spinlock import _raw_spin_lock, _raw_spin_unlock

# lib and kernel helpers of the filesystems (stubs/lib/{lockref,xarray,iov_iter,
# decompress,interval_tree}.py, stubs/kernel/{pid,cred,freezer}.py,
# stubs/kernel/locking/percpu_rwsem.py)
members("struct lockref", "lock", "count")

LOCKREF_DEAD = -128                         # lockref_mark_dead()


def _count(k, ref: int) -> int:
    v = rd(k, ref, "lockref.count", 4)
    return v - (1 << 32) if v >> 31 else v


def _set(k, ref: int, value: int) -> None:
    wr(k, ref, "lockref.count", value & 0xFFFFFFFF, 4)


def _unlocked(k, ref: int) -> bool:
    """arch_spin_value_unlocked() on the word's spinlock (the cmpxchg fast path)."""
    return k.machine.read_u32(ref + k.target.offset("lockref.lock")) == 0


def _lock(k, ref: int) -> int:
    lock = ref + k.target.offset("lockref.lock")
    _raw_spin_lock(k, lock)
    return lock


def _update(k, ref: int, change):
    """CMPXCHG_LOOP then the locked fallback: ``change(count)`` gives (new or None, result)."""
    if _unlocked(k, ref):
        new, result = change(_count(k, ref))
        if new is not None:
            _set(k, ref, new)
        return result
    lock = _lock(k, ref)
    new, result = change(_count(k, ref))
    if new is not None:
        _set(k, ref, new)
    _raw_spin_unlock(k, lock)
    return result


@export("void lockref_get(struct lockref *lockref)")
def lockref_get(k, lockref):
    _update(k, lockref, lambda c: (c + 1, None))


@export("int lockref_get_not_zero(struct lockref *lockref)")
def lockref_get_not_zero(k, lockref):
    return _update(k, lockref, lambda c: (None, 0) if c <= 0 else (c + 1, 1))


@export("int lockref_put_not_zero(struct lockref *lockref)")
def lockref_put_not_zero(k, lockref):
    return _update(k, lockref, lambda c: (None, 0) if c <= 1 else (c - 1, 1))


@export("int lockref_put_return(struct lockref *lockref)")
def lockref_put_return(k, lockref):
    """Only the cmpxchg path: -1 when the lock is held or the count is not positive."""
    if not _unlocked(k, lockref):
        return -1
    c = _count(k, lockref)
    if c <= 0:
        return -1
    _set(k, lockref, c - 1)
    return c - 1


@export("bool lockref_put_or_lock(struct lockref *lockref)")
def lockref_put_or_lock(k, lockref):
    """Drop a reference unless it is the last one; then return false with the lock held."""
    if _unlocked(k, lockref):
        c = _count(k, lockref)
        if c > 1:
            _set(k, lockref, c - 1)
            return True
    lock = _lock(k, lockref)
    c = _count(k, lockref)
    if c <= 1:
        return False
    _set(k, lockref, c - 1)
    _raw_spin_unlock(k, lock)
    return True


@export("void lockref_mark_dead(struct lockref *lockref)")
def lockref_mark_dead(k, lockref):
    """Called with the lock held."""
    _set(k, lockref, LOCKREF_DEAD)


@export("int lockref_get_not_dead(struct lockref *lockref)")
def lockref_get_not_dead(k, lockref):
    return _update(k, lockref, lambda c: (None, 0) if c < 0 else (c + 1, 1))
