"""lib/dec_and_lock.c: decrement an atomic_t, taking a spinlock only for the last reference."""
from kemu import export

from ..kernel.locking.spinlock import (_raw_spin_lock, _raw_spin_lock_irqsave, _raw_spin_unlock,
                                       _raw_spin_unlock_irqrestore)


def _read(k, atomic: int) -> int:
    v = k.machine.read_u32(atomic)
    return v - (1 << 32) if v >> 31 else v


def _add_unless_one(k, atomic: int) -> bool:
    """atomic_add_unless(atomic, -1, 1)."""
    v = _read(k, atomic)
    if v == 1:
        return False
    k.machine.write_u32(atomic, (v - 1) & 0xFFFFFFFF)
    return True


def _dec_and_test(k, atomic: int) -> bool:
    v = _read(k, atomic) - 1
    k.machine.write_u32(atomic, v & 0xFFFFFFFF)
    return v == 0


@export("int _atomic_dec_and_lock(atomic_t *atomic, spinlock_t *lock)")
def _atomic_dec_and_lock(k, atomic, lock):
    """1 with ``lock`` held when the count dropped to 0, else 0."""
    if _add_unless_one(k, atomic):
        return 0
    _raw_spin_lock(k, lock)
    if _dec_and_test(k, atomic):
        return 1
    _raw_spin_unlock(k, lock)
    return 0


@export("int _atomic_dec_and_lock_irqsave(atomic_t *atomic, spinlock_t *lock, "
        "unsigned long *flags)")
def _atomic_dec_and_lock_irqsave(k, atomic, lock, flags):
    if _add_unless_one(k, atomic):
        return 0
    saved = _raw_spin_lock_irqsave(k, lock)
    k.machine.write_u64(flags, saved)
    if _dec_and_test(k, atomic):
        return 1
    _raw_spin_unlock_irqrestore(k, lock, saved)
    return 0
