"""kernel/locking/rwsem.c: reader/writer semaphores.

``count`` and ``owner`` hold what the kernel keeps there (WRITER_LOCKED, the
reader count << 8, the WAITERS flag; the writer's task_struct, or a reader's
with RWSEM_READER_OWNED), so the inline rwsem_is_locked() works. Waiters
queue FIFO; a released rwsem goes to the first waiting writer, or to every
waiting reader when a reader is first (the kernel's phase-fair wakeup).
Readers take a free or reader-owned rwsem as long as nobody waits (6.1's
reader lock stealing). A down that can only be satisfied by the task itself
(write after read or write, read after write, a read while a writer waits
behind the task's own read) is a self-deadlock.
"""
import errno

from kemu import export

from ..sched.core import caller, sched
from .state import locks

RWSEM_WRITER_LOCKED = 1 << 0              # kernel/locking/rwsem.c
RWSEM_FLAG_WAITERS = 1 << 1
RWSEM_READER_SHIFT = 8
RWSEM_READER_OWNED = 1 << 0


class RwsemWaiter:
    __slots__ = ("task", "write", "granted")

    def __init__(self, task, write):
        self.task, self.write, self.granted = task, write, False


class RwsemState:
    def __init__(self):
        self.readers: dict = {}           # task -> count
        self.writer = None
        self.waiters: list = []


def _off(k, member):
    return k.target.offset(f"rw_semaphore.{member}")


def _state(k, sem) -> RwsemState:
    L = locks(k)
    st = L.rwsems.get(sem)
    if st is None:
        st = L.rwsems[sem] = RwsemState()
    return st


def _sync(k, sem, st) -> None:
    """Write count and owner as the kernel keeps them."""
    m = k.machine
    count = (RWSEM_WRITER_LOCKED if st.writer else 0) | \
        (sum(st.readers.values()) << RWSEM_READER_SHIFT) | \
        (RWSEM_FLAG_WAITERS if st.waiters else 0)
    m.write_u64(sem + _off(k, "count"), count)
    if st.writer:
        owner = st.writer.ts
    elif st.readers:
        owner = next(iter(st.readers)).ts | RWSEM_READER_OWNED
    else:
        owner = m.read_u64(sem + _off(k, "owner")) if count else 0
    m.write_u64(sem + _off(k, "owner"), owner)


def _wake(k, sem, st) -> None:
    s = sched(k)
    if st.writer is not None or not st.waiters:
        return
    first = st.waiters[0]
    if first.write:
        if st.readers:
            return
        st.waiters.pop(0)
        first.granted = True
        st.writer = first.task
        s.wake_up_process(first.task)
        return
    for w in [w for w in st.waiters if not w.write]:
        st.waiters.remove(w)
        w.granted = True
        st.readers[w.task] = st.readers.get(w.task, 0) + 1
        s.wake_up_process(w.task)


def _can_take(st, write: bool) -> bool:
    if st.writer is not None:
        return False
    if write:
        return not st.readers
    return not (st.waiters and st.readers)


def down_common(k, sem: int, write: bool, state: int, label: str, where: int):
    """A down_read()/down_write() (a generator): 0, or -EINTR when a signal ended it."""
    s, L = sched(k), locks(k)
    task = s.current()
    st = _state(k, sem)
    side = "write" if write else "read"
    if _can_take(st, write):
        if write:
            st.writer = task
        else:
            st.readers[task] = st.readers.get(task, 0) + 1
    else:
        if st.writer is task or task in st.readers:
            desc = L.describe("rwsem", sem)
            why = "which it already holds" if st.writer is task or write else \
                "which it holds for reading while a writer waits"
            s.deadlock_now(task, label, f"{task.comm}/{task.pid} takes {desc} for {side} "
                                        f"{why}", state != s.TASK_UNINTERRUPTIBLE)
            return -errno.EINTR
        waiter = RwsemWaiter(task, write)
        st.waiters.append(waiter)
        _sync(k, sem, st)
        while not waiter.granted:
            if s.signal_pending_state(state, task):
                st.waiters.remove(waiter)
                _wake(k, sem, st)
                _sync(k, sem, st)
                s.set_state(task, s.TASK_RUNNING)
                return -errno.EINTR
            s.set_state(task, state)
            yield from s.schedule(label, caller=where)
        s.set_state(task, s.TASK_RUNNING)
    _sync(k, sem, st)
    L.hold(task, "rwsem", sem, where).text += f" ({side})"
    return 0


def _trylock(k, sem, write):
    s = sched(k)
    task = s.current()
    st = _state(k, sem)
    if not _can_take(st, write):
        return 0
    if write:
        st.writer = task
    else:
        st.readers[task] = st.readers.get(task, 0) + 1
    _sync(k, sem, st)
    locks(k).hold(task, "rwsem", sem, caller(k)).text += " (write)" if write else " (read)"
    return 1


def up_read_(k, sem):
    s, L = sched(k), locks(k)
    task = s.current()
    st = _state(k, sem)
    owner = task if task in st.readers else next(iter(st.readers), None)
    if owner is None:
        L.bad_unlock(task, f"{task.comm}/{task.pid} up_read()s {L.describe('rwsem', sem)} "
                           "which is not held for reading")
        return
    st.readers[owner] -= 1
    if not st.readers[owner]:
        del st.readers[owner]
    L.release(owner, "rwsem", sem)
    _wake(k, sem, st)
    _sync(k, sem, st)


def up_write_(k, sem):
    s, L = sched(k), locks(k)
    task = s.current()
    st = _state(k, sem)
    if st.writer is None:
        L.bad_unlock(task, f"{task.comm}/{task.pid} up_write()s {L.describe('rwsem', sem)} "
                           "which is not held for writing")
        return
    if st.writer is not task:
        L.bad_unlock(task, f"{task.comm}/{task.pid} up_write()s {L.describe('rwsem', sem)} "
                           f"held by {st.writer.comm}/{st.writer.pid}")
    L.release(st.writer, "rwsem", sem)
    st.writer = None
    _wake(k, sem, st)
    _sync(k, sem, st)


@export("void __init_rwsem(struct rw_semaphore *sem, const char *name, "
        "struct lock_class_key *key)")
def __init_rwsem(k, sem, name, key):
    m, t = k.machine, k.target
    m.write_u64(sem + _off(k, "count"), 0)
    m.write_u64(sem + _off(k, "owner"), 0)
    m.write_u32(sem + _off(k, "osq"), 0)
    m.write_u32(sem + _off(k, "wait_lock"), 0)
    head = sem + _off(k, "wait_list")
    m.write_u64(head + t.offset("list_head.next"), head)
    m.write_u64(head + t.offset("list_head.prev"), head)
    locks(k).rwsems.pop(sem, None)


def _make_down(name, write, state_name, ret):
    proto = f"{'int' if ret else 'void'} {name}(struct rw_semaphore *sem)"

    @export(proto)
    def fn(k, sem):
        result = yield from down_common(k, sem, write, k.target.const(state_name), name,
                                        caller(k))
        return result if ret else None
    fn.__name__ = name


_make_down("down_read", False, "TASK_UNINTERRUPTIBLE", False)
_make_down("down_read_interruptible", False, "TASK_INTERRUPTIBLE", True)
_make_down("down_read_killable", False, "TASK_KILLABLE", True)
_make_down("down_write", True, "TASK_UNINTERRUPTIBLE", False)
_make_down("down_write_killable", True, "TASK_KILLABLE", True)


@export("int down_read_trylock(struct rw_semaphore *sem)")
def down_read_trylock(k, sem):
    return _trylock(k, sem, False)


@export("int down_write_trylock(struct rw_semaphore *sem)")
def down_write_trylock(k, sem):
    return _trylock(k, sem, True)


@export("void up_read(struct rw_semaphore *sem)")
def up_read(k, sem):
    up_read_(k, sem)


@export("void up_write(struct rw_semaphore *sem)")
def up_write(k, sem):
    up_write_(k, sem)


@export("void downgrade_write(struct rw_semaphore *sem)")
def downgrade_write(k, sem):
    s, L = sched(k), locks(k)
    task = s.current()
    st = _state(k, sem)
    if st.writer is not task:
        L.bad_unlock(task, f"{task.comm}/{task.pid} downgrade_write()s "
                           f"{L.describe('rwsem', sem)} which it does not hold for writing")
        return
    st.writer = None
    st.readers[task] = st.readers.get(task, 0) + 1
    for rec in reversed(task.locks):
        if rec.addr == sem and rec.kind == "rwsem":
            rec.text = rec.text.replace("(write)", "(read)")
            break
    if st.waiters and not st.waiters[0].write:
        _wake(k, sem, st)
    _sync(k, sem, st)
