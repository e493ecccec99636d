"""lib/refcount.c: the out-of-line refcount_t helpers."""
from kemu import export

from .kemu_warn import warn_once

UINT_MAX = 0xFFFFFFFF
# enum refcount_saturation_type (include/linux/refcount.h, the same on 5.10 to 6.12)
(REFCOUNT_ADD_NOT_ZERO_OVF, REFCOUNT_ADD_OVF, REFCOUNT_ADD_UAF, REFCOUNT_SUB_UAF,
 REFCOUNT_DEC_LEAK) = range(5)
# (line, offset in refcount_warn_saturate, text) per enum refcount_saturation_type, as
# Debian's 6.1.0-56 reports them (recorded by tests/expected/stubs_crypto_lib)
_EVENTS = {0: (19, 0x74, "saturated; leaking memory"), 1: (22, 0x51, "saturated; leaking memory"),
           2: (25, 0x97, "addition on 0; use-after-free"), 3: (28, 0xBA, "underflow; use-after-free"),
           4: (31, 0xFB, "decrement hit 0; leaking memory")}
_UNKNOWN = (34, 0xDD, "unknown saturation event!?")         # offset not recorded


def _refs(k, r):
    return k.machine.read_u32(r)


@export("void refcount_warn_saturate(refcount_t *r, enum refcount_saturation_type t)")
def refcount_warn_saturate(k, r, t):
    k.machine.write_u32(r, k.target.const("REFCOUNT_SATURATED"))
    line, where, text = _EVENTS.get(t, _UNKNOWN)
    warn_once(k, f"lib/refcount.c:{line}", f"refcount_warn_saturate+{where:#x}/0x110",
              f"refcount_t: {text}.")


@export("bool refcount_dec_if_one(refcount_t *r)")
def refcount_dec_if_one(k, r):
    if _refs(k, r) == 1:
        k.machine.write_u32(r, 0)
        return True
    return False


@export("bool refcount_dec_not_one(refcount_t *r)")
def refcount_dec_not_one(k, r):
    val = _refs(k, r)
    if val == UINT_MAX:
        return True
    if val == 1:
        return False
    new = (val - 1) & UINT_MAX
    if new > val:
        warn_once(k, "lib/refcount.c:87", "refcount_dec_not_one+0x48/0x50",
                  "refcount_t: underflow; use-after-free.")
        return True
    k.machine.write_u32(r, new)
    return True


def _dec_and_test(k, r) -> bool:
    """refcount_dec_and_test() (__refcount_sub_and_test(1, r)), as inlined in lib/refcount.c."""
    old = k.machine.read_s32(r)
    k.machine.write_u32(r, (old - 1) & UINT_MAX)
    if old == 1:
        return True
    if old <= 0 or old - 1 < 0:
        refcount_warn_saturate(k, r, REFCOUNT_SUB_UAF)
    return False


@export("bool refcount_dec_and_mutex_lock(refcount_t *r, struct mutex *lock)")
def refcount_dec_and_mutex_lock(k, r, lock):
    from ..kernel.locking.mutex import mutex_lock_common, mutex_unlock_
    from ..kernel.sched.core import caller, sched
    if refcount_dec_not_one(k, r):
        return False
    yield from mutex_lock_common(k, lock, sched(k).TASK_UNINTERRUPTIBLE,
                                 "refcount_dec_and_mutex_lock", caller(k))
    if not _dec_and_test(k, r):
        mutex_unlock_(k, lock)
        return False
    return True


def _dec_and_spin(k, r, lock, irqsave: bool):
    from ..kernel.locking.spinlock import _irq_save, spin_acquire, spin_release
    from ..kernel.sched.core import caller, sched
    if refcount_dec_not_one(k, r):
        return False, None
    s = sched(k)
    flags = _irq_save(s) if irqsave else None
    s.add_preempt(1)
    spin_acquire(k, lock, s.current(), caller(k))
    if not _dec_and_test(k, r):
        spin_release(k, lock, s.current())
        s.add_preempt(-1)
        if irqsave:
            s.cpu.irq_flags = flags
        return False, None
    return True, flags


@export("bool refcount_dec_and_lock(refcount_t *r, spinlock_t *lock)")
def refcount_dec_and_lock(k, r, lock):
    return _dec_and_spin(k, r, lock, False)[0]


@export("bool refcount_dec_and_lock_irqsave(refcount_t *r, spinlock_t *lock, "
        "unsigned long *flags)")
def refcount_dec_and_lock_irqsave(k, r, lock, flags):
    ok, saved = _dec_and_spin(k, r, lock, True)
    if ok:
        k.machine.write_u64(flags, saved)
    return ok
