"""kernel/locking/spinlock.c: every _raw_spin_*, _raw_read_* and _raw_write_* export.

The lock word is the real one (qspinlock ``val``, qrwlock ``cnts``) and the
preempt count, bottom-half count and interrupt flag change as the kernel's
do, so inline spin_is_locked(), in_atomic() or in_softirq() tell the truth.
On one CPU a spinlock that is already held can never be released while its
taker spins: taking one the task itself holds (or one held by a task that went
to sleep with it) is the soft lockup the kernel would show, reported and
ended with :class:`kemu.errors.Lockup`. An unlock of an unheld lock is a
finding (the kernel, without CONFIG_DEBUG_SPINLOCK, says nothing).
"""
from kemu import export
from kemu.abi.exports import members

from ..sched.core import caller, sched
from .state import locks

members("struct qspinlock", "val", "locked")
members("struct qrwlock", "cnts", "wlocked", "wait_lock")
members("struct spinlock", "rlock")


class _C:
    """Lock-word constants and offsets of the target, looked up once per kernel."""

    def __init__(self, k):
        c = k.target.const
        self.LOCKED = c("_Q_LOCKED_VAL")
        self.QW_LOCKED = c("_QW_LOCKED")
        self.QR_BIAS = c("_QR_BIAS")
        self.cnts = k.target.offset("qrwlock.cnts")
        self.val = k.target.offset("qspinlock.val")
        self.LOCK_OFFSET = c("SOFTIRQ_LOCK_OFFSET")


def _c(k) -> _C:
    return k.model(_C)


# --------------------------------------------------------------- spinlocks
def spin_acquire(k, lock: int, task, where: int, trylock: bool = False) -> bool:
    """Take a spinlock for ``task``; a trylock returns False when it is held."""
    m, L, c = k.machine, locks(k), _c(k)
    s = L.s
    held = L.spin.get(lock)
    val = m.read_u32(lock + c.val)
    if held is not None and val == 0:             # re-initialised while "held"
        L.release(held[0], "spinlock", lock)
        L.spin.pop(lock)
        held = None
    if held is not None or val:
        if trylock:
            return False
        desc = L.describe("spinlock", lock)
        if held is None:
            s.soft_lockup(task, f"{task.comm}/{task.pid} spins on {desc}, which is locked "
                                f"(value {val:#x}) though nobody took it: not initialised?")
        holder, rec = held
        taken = f" (taken at {rec.where})" if rec.where else ""
        if holder is task:
            s.soft_lockup(task, f"{task.comm}/{task.pid} takes {desc} which it already "
                                f"holds{taken}: spinlock recursion")
        s.soft_lockup(task, f"{task.comm}/{task.pid} spins on {desc} held by "
                            f"{holder.comm}/{holder.pid}, which cannot run{taken}")
    m.write_u32(lock + c.val, c.LOCKED)
    L.spin[lock] = (task, L.hold(task, "spinlock", lock, where))
    L.note_usage(task, "spinlock", lock)
    return True


def spin_release(k, lock: int, task) -> bool:
    """Release a spinlock; False (and a finding) when it was not held."""
    m, L, c = k.machine, locks(k), _c(k)
    held = L.spin.pop(lock, None)
    if held is None:
        if m.read_u32(lock + c.val) == 0:
            L.bad_unlock(task, f"{task.comm}/{task.pid} unlocks {L.describe('spinlock', lock)}"
                               " which is not locked")
            return False
    else:
        L.release(held[0], "spinlock", lock)
    m.write_u32(lock + c.val, 0)
    return True


def _irq_save(s) -> int:
    flags = s.cpu.irq_flags
    s.cpu.irq_flags = 0
    return flags


@export("void _raw_spin_lock(raw_spinlock_t *lock)")
def _raw_spin_lock(k, lock):
    s = sched(k)
    s.add_preempt(1)
    spin_acquire(k, lock, s.current(), caller(k))


@export("void _raw_spin_lock_bh(raw_spinlock_t *lock)")
def _raw_spin_lock_bh(k, lock):
    s = sched(k)
    s.add_preempt(_c(k).LOCK_OFFSET)
    spin_acquire(k, lock, s.current(), caller(k))


@export("void _raw_spin_lock_irq(raw_spinlock_t *lock)")
def _raw_spin_lock_irq(k, lock):
    s = sched(k)
    s.cpu.irq_flags = 0
    s.add_preempt(1)
    spin_acquire(k, lock, s.current(), caller(k))


@export("unsigned long _raw_spin_lock_irqsave(raw_spinlock_t *lock)")
def _raw_spin_lock_irqsave(k, lock):
    s = sched(k)
    flags = _irq_save(s)
    s.add_preempt(1)
    spin_acquire(k, lock, s.current(), caller(k))
    return flags


@export("int _raw_spin_trylock(raw_spinlock_t *lock)")
def _raw_spin_trylock(k, lock):
    s = sched(k)
    s.add_preempt(1)
    if spin_acquire(k, lock, s.current(), caller(k), trylock=True):
        return 1
    s.add_preempt(-1)
    return 0


@export("int _raw_spin_trylock_bh(raw_spinlock_t *lock)")
def _raw_spin_trylock_bh(k, lock):
    s = sched(k)
    off = _c(k).LOCK_OFFSET
    s.add_preempt(off)
    if spin_acquire(k, lock, s.current(), caller(k), trylock=True):
        return 1
    s.add_preempt(-off)
    yield from s.run_softirqs()
    return 0


@export("void _raw_spin_unlock(raw_spinlock_t *lock)")
def _raw_spin_unlock(k, lock):
    s = sched(k)
    if spin_release(k, lock, s.current()):
        s.add_preempt(-1)


@export("void _raw_spin_unlock_bh(raw_spinlock_t *lock)")
def _raw_spin_unlock_bh(k, lock):
    s = sched(k)
    if spin_release(k, lock, s.current()):
        s.add_preempt(-_c(k).LOCK_OFFSET)
        yield from s.run_softirqs()


@export("void _raw_spin_unlock_irq(raw_spinlock_t *lock)")
def _raw_spin_unlock_irq(k, lock):
    s = sched(k)
    if spin_release(k, lock, s.current()):
        s.cpu.irq_flags = s.IF
        s.add_preempt(-1)


@export("void _raw_spin_unlock_irqrestore(raw_spinlock_t *lock, unsigned long flags)")
def _raw_spin_unlock_irqrestore(k, lock, flags):
    s = sched(k)
    if spin_release(k, lock, s.current()):
        s.cpu.irq_flags = flags & s.IF
        s.add_preempt(-1)


# ------------------------------------------------------------------ rwlocks
class RwLockState:
    __slots__ = ("readers", "writer")

    def __init__(self):
        self.readers: dict = {}          # task -> count
        self.writer = None               # (task, LockRecord)


def _rw_state(k, lock):
    L = locks(k)
    st = L.rw.get(lock)
    cnts = k.machine.read_u32(lock + _c(k).cnts)
    if st is None or cnts == 0 and (st.readers or st.writer):      # (re-)initialised
        if st is not None:
            for task in list(st.readers) + ([st.writer[0]] if st.writer else []):
                while L.release(task, "rwlock", lock):
                    pass
        st = L.rw[lock] = RwLockState()
    return st, cnts


def read_acquire(k, lock: int, task, where: int, trylock: bool = False) -> bool:
    L, c, s = locks(k), _c(k), sched(k)
    st, cnts = _rw_state(k, lock)
    if st.writer is not None or cnts & c.QW_LOCKED:
        if trylock:
            return False
        desc = L.describe("rwlock", lock)
        holder = st.writer[0] if st.writer else None
        if holder is task:
            s.soft_lockup(task, f"{task.comm}/{task.pid} read-locks {desc} which it "
                                "write-holds: rwlock recursion")
        who = f"{holder.comm}/{holder.pid}, which cannot run" if holder else "nobody (not initialised?)"
        s.soft_lockup(task, f"{task.comm}/{task.pid} spins on {desc} write-held by {who}")
    st.readers[task] = st.readers.get(task, 0) + 1
    k.machine.write_u32(lock + c.cnts, cnts + c.QR_BIAS)
    L.hold(task, "rwlock", lock, where).text += " (read)"
    return True


def write_acquire(k, lock: int, task, where: int, trylock: bool = False) -> bool:
    L, c, s = locks(k), _c(k), sched(k)
    st, cnts = _rw_state(k, lock)
    if st.writer is not None or st.readers or cnts:
        if trylock:
            return False
        desc = L.describe("rwlock", lock)
        if (st.writer and st.writer[0] is task) or task in st.readers:
            s.soft_lockup(task, f"{task.comm}/{task.pid} write-locks {desc} which it "
                                "already holds: rwlock recursion")
        others = ([st.writer[0]] if st.writer else []) + list(st.readers)
        who = ", ".join(f"{t.comm}/{t.pid}" for t in others) or "nobody (not initialised?)"
        s.soft_lockup(task, f"{task.comm}/{task.pid} spins on {desc} held by {who}")
    k.machine.write_u32(lock + c.cnts, c.QW_LOCKED)
    rec = L.hold(task, "rwlock", lock, where)
    rec.text += " (write)"
    st.writer = (task, rec)
    L.note_usage(task, "rwlock", lock)
    return True


def read_release(k, lock: int, task) -> bool:
    L, c = locks(k), _c(k)
    st, cnts = _rw_state(k, lock)
    owner = task if task in st.readers else next(iter(st.readers), None)
    if owner is None:
        L.bad_unlock(task, f"{task.comm}/{task.pid} read-unlocks "
                           f"{L.describe('rwlock', lock)} which is not read-locked")
        return False
    st.readers[owner] -= 1
    if not st.readers[owner]:
        del st.readers[owner]
    L.release(owner, "rwlock", lock)
    k.machine.write_u32(lock + c.cnts, max(cnts - c.QR_BIAS, 0))
    return True


def write_release(k, lock: int, task) -> bool:
    L, c = locks(k), _c(k)
    st, _ = _rw_state(k, lock)
    if st.writer is None:
        L.bad_unlock(task, f"{task.comm}/{task.pid} write-unlocks "
                           f"{L.describe('rwlock', lock)} which is not write-locked")
        return False
    L.release(st.writer[0], "rwlock", lock)
    st.writer = None
    k.machine.write_u32(lock + c.cnts, 0)
    return True


def _make_rw(side, acquire, release):
    @export(f"void _raw_{side}_lock(rwlock_t *lock)")
    def lock_(k, lock):
        s = sched(k)
        s.add_preempt(1)
        acquire(k, lock, s.current(), caller(k))

    @export(f"void _raw_{side}_lock_bh(rwlock_t *lock)")
    def lock_bh(k, lock):
        s = sched(k)
        s.add_preempt(_c(k).LOCK_OFFSET)
        acquire(k, lock, s.current(), caller(k))

    @export(f"void _raw_{side}_lock_irq(rwlock_t *lock)")
    def lock_irq(k, lock):
        s = sched(k)
        s.cpu.irq_flags = 0
        s.add_preempt(1)
        acquire(k, lock, s.current(), caller(k))

    @export(f"unsigned long _raw_{side}_lock_irqsave(rwlock_t *lock)")
    def lock_irqsave(k, lock):
        s = sched(k)
        flags = _irq_save(s)
        s.add_preempt(1)
        acquire(k, lock, s.current(), caller(k))
        return flags

    @export(f"int _raw_{side}_trylock(rwlock_t *lock)")
    def trylock(k, lock):
        s = sched(k)
        s.add_preempt(1)
        if acquire(k, lock, s.current(), caller(k), trylock=True):
            return 1
        s.add_preempt(-1)
        return 0

    @export(f"void _raw_{side}_unlock(rwlock_t *lock)")
    def unlock(k, lock):
        s = sched(k)
        if release(k, lock, s.current()):
            s.add_preempt(-1)

    @export(f"void _raw_{side}_unlock_bh(rwlock_t *lock)")
    def unlock_bh(k, lock):
        s = sched(k)
        if release(k, lock, s.current()):
            s.add_preempt(-_c(k).LOCK_OFFSET)
            yield from s.run_softirqs()

    @export(f"void _raw_{side}_unlock_irq(rwlock_t *lock)")
    def unlock_irq(k, lock):
        s = sched(k)
        if release(k, lock, s.current()):
            s.cpu.irq_flags = s.IF
            s.add_preempt(-1)

    @export(f"void _raw_{side}_unlock_irqrestore(rwlock_t *lock, unsigned long flags)")
    def unlock_irqrestore(k, lock, flags):
        s = sched(k)
        if release(k, lock, s.current()):
            s.cpu.irq_flags = flags & s.IF
            s.add_preempt(-1)


_make_rw("read", read_acquire, read_release)
_make_rw("write", write_acquire, write_release)


@export("void _raw_write_lock_nested(rwlock_t *lock, int subclass)")
def _raw_write_lock_nested(k, lock, subclass):
    s = sched(k)
    s.add_preempt(1)
    write_acquire(k, lock, s.current(), caller(k))
