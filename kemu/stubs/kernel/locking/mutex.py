"""kernel/locking/mutex.c: mutexes with the owner in ``mutex.owner``.

``owner`` holds the owning task_struct (mutex_is_locked() and the inline
mutex_is_locked() agree). A contended mutex_lock() sleeps until the owner
unlocks, which hands the mutex to the first waiter (FIFO). Taking a mutex the
task already holds can never succeed: mutex_lock() ends with the hung-task
report and :class:`Deadlock`, the interruptible and killable forms return
-EINTR (as if the stuck insmod were killed), with a finding either way. An
unlock of a mutex that is not locked, or by a task that does not own it, is a
finding (without CONFIG_DEBUG_MUTEXES the kernel says nothing).
"""
import errno

from kemu import export

from ..sched.core import caller, sched
from .state import locks

MUTEX_FLAG_WAITERS = 0x01                 # kernel/locking/mutex.c
MUTEX_FLAGS = 0x07


def _off(k, member):
    return k.target.offset(f"mutex.{member}")


def mutex_owner(k, lock: int) -> int:
    return k.machine.read_u64(lock + _off(k, "owner")) & ~MUTEX_FLAGS


def mutex_lock_common(k, lock: int, state: int, label: str, where: int):
    """__mutex_lock_common() (a generator): 0, or -EINTR when a signal ended the wait."""
    s, L, m = sched(k), locks(k), k.machine
    task = s.current()
    owner_addr = lock + _off(k, "owner")
    owner = m.read_u64(owner_addr) & ~MUTEX_FLAGS
    if owner == 0:
        m.write_u64(owner_addr, task.ts)
        L.hold(task, "mutex", lock, where)
        return 0
    if owner == task.ts:
        desc = L.describe("mutex", lock)
        rec = next((r for r in task.locks if r.addr == lock and r.kind == "mutex"), None)
        taken = f" (taken at {rec.where})" if rec and rec.where else ""
        s.deadlock_now(task, label, f"{task.comm}/{task.pid} takes {desc} which it already "
                                    f"holds{taken}", state != s.TASK_UNINTERRUPTIBLE)
        return -errno.EINTR
    waiters = L.mutex_waiters.setdefault(lock, [])
    waiters.append(task)
    m.write_u64(owner_addr, m.read_u64(owner_addr) | MUTEX_FLAG_WAITERS)
    while m.read_u64(owner_addr) & ~MUTEX_FLAGS != task.ts:
        if s.signal_pending_state(state, task):
            waiters.remove(task)
            if not waiters:
                m.write_u64(owner_addr, m.read_u64(owner_addr) & ~MUTEX_FLAG_WAITERS)
            s.set_state(task, s.TASK_RUNNING)
            return -errno.EINTR
        s.set_state(task, state)
        yield from s.schedule(label, caller=where)
    s.set_state(task, s.TASK_RUNNING)
    L.hold(task, "mutex", lock, where)
    return 0


def mutex_unlock_(k, lock: int) -> None:
    s, L, m = sched(k), locks(k), k.machine
    task = s.current()
    owner_addr = lock + _off(k, "owner")
    owner = m.read_u64(owner_addr) & ~MUTEX_FLAGS
    desc = L.describe("mutex", lock)
    if owner == 0:
        L.bad_unlock(task, f"{task.comm}/{task.pid} unlocks {desc} which is not locked")
        return
    holder = s.task_of(owner)
    if holder is not task:
        who = f"{holder.comm}/{holder.pid}" if holder else f"task_struct {owner:#x}"
        L.bad_unlock(task, f"{task.comm}/{task.pid} unlocks {desc} owned by {who}")
    L.release(holder or task, "mutex", lock)
    waiters = L.mutex_waiters.get(lock)
    if waiters:
        nxt = waiters.pop(0)
        m.write_u64(owner_addr, nxt.ts | (MUTEX_FLAG_WAITERS if waiters else 0))
        s.wake_up_process(nxt)
    else:
        m.write_u64(owner_addr, 0)


@export("void __mutex_init(struct mutex *lock, const char *name, struct lock_class_key *key)")
def __mutex_init(k, lock, name, key):
    m, t = k.machine, k.target
    m.write_u64(lock + _off(k, "owner"), 0)
    m.write_u32(lock + _off(k, "wait_lock"), 0)
    m.write_u32(lock + _off(k, "osq"), 0)
    head = lock + _off(k, "wait_list")
    m.write_u64(head + t.offset("list_head.next"), head)
    m.write_u64(head + t.offset("list_head.prev"), head)
    locks(k).mutex_waiters.pop(lock, None)


@export("void mutex_lock(struct mutex *lock)")
def mutex_lock(k, lock):
    yield from mutex_lock_common(k, lock, sched(k).TASK_UNINTERRUPTIBLE, "mutex_lock",
                                 caller(k))


@export("void mutex_lock_io(struct mutex *lock)")
def mutex_lock_io(k, lock):
    yield from mutex_lock_common(k, lock, sched(k).TASK_UNINTERRUPTIBLE, "mutex_lock_io",
                                 caller(k))


@export("int mutex_lock_interruptible(struct mutex *lock)")
def mutex_lock_interruptible(k, lock):
    return (yield from mutex_lock_common(k, lock, sched(k).TASK_INTERRUPTIBLE,
                                         "mutex_lock_interruptible", caller(k)))


@export("int mutex_lock_killable(struct mutex *lock)")
def mutex_lock_killable(k, lock):
    return (yield from mutex_lock_common(k, lock, sched(k).TASK_KILLABLE,
                                         "mutex_lock_killable", caller(k)))


@export("int mutex_trylock(struct mutex *lock)")
def mutex_trylock(k, lock):
    s = sched(k)
    task = s.current()
    owner_addr = lock + _off(k, "owner")
    if k.machine.read_u64(owner_addr) & ~MUTEX_FLAGS:
        return 0
    k.machine.write_u64(owner_addr, task.ts)
    locks(k).hold(task, "mutex", lock, caller(k))
    return 1


@export("void mutex_unlock(struct mutex *lock)")
def mutex_unlock(k, lock):
    mutex_unlock_(k, lock)


@export("bool mutex_is_locked(struct mutex *lock)")
def mutex_is_locked(k, lock):
    return mutex_owner(k, lock) != 0


@export("int atomic_dec_and_mutex_lock(atomic_t *cnt, struct mutex *lock)")
def atomic_dec_and_mutex_lock(k, cnt, lock):
    m = k.machine
    value = m.read_s32(cnt)
    if value != 1:                                  # atomic_add_unless(cnt, -1, 1)
        m.write_u32(cnt, value - 1)
        return 0
    yield from mutex_lock_common(k, lock, sched(k).TASK_UNINTERRUPTIBLE,
                                 "atomic_dec_and_mutex_lock", caller(k))
    value = m.read_s32(cnt) - 1
    m.write_u32(cnt, value)
    if value != 0:
        mutex_unlock_(k, lock)
        return 0
    return 1
