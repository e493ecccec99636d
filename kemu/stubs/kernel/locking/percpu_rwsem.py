"""kernel/locking/percpu-rwsem.c: per-CPU reader/writer semaphores.

Readers count themselves in ``*read_count`` (a per-CPU int) inline while the
semaphore's ``rcu_sync`` is idle; a writer makes it non-idle
(``rcu_sync_enter``), sets ``block`` so new readers take the slow path
(``__percpu_down_read``, which waits for the writer to leave), then sleeps in
``sem->writer`` (an rcuwait) until the readers are gone; their inline
``percpu_up_read`` wakes it. On one CPU a writer that waits for readers which
cannot run (or for its own read hold) is the hung task the kernel would show.
The grace period ``rcu_sync_exit`` waits for before readers may use the fast
path again is not modelled: the semaphore is idle at once.
"""
import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import init_list_head, rd, wr
from ..sched.core import caller, sched
from .state import locks

members("struct wait_queue_head", "lock", "head")
members("struct rcuwait", "task")
members("struct percpu_rw_semaphore", "rss", "read_count", "writer", "waiters", "block")
members("struct rcu_sync", "gp_state", "gp_count", "gp_wait", "cb_head")

GP_IDLE, GP_PASSED = 0, 2                 # kernel/rcu/sync.c


class PercpuRwsems:
    """Tasks sleeping for each semaphore: readers waiting for the writer, queued writers."""

    def __init__(self, k):
        self.waiters: dict[int, list] = {}     # sem -> [(task, reader)]


def _read_count_addr(k, sem: int) -> int:
    return k.machine.percpu_addr + rd(k, sem, "percpu_rw_semaphore.read_count")


def _readers(k, sem: int) -> int:
    v = k.machine.read_u32(_read_count_addr(k, sem))
    return v - (1 << 32) if v >> 31 else v


def _add_reader(k, sem: int, delta: int) -> None:
    addr = _read_count_addr(k, sem)
    k.machine.write_u32(addr, (k.machine.read_u32(addr) + delta) & 0xFFFFFFFF)


def _block(k, sem: int) -> int:
    return rd(k, sem, "percpu_rw_semaphore.block", 4)


def _rss(k, sem: int, member: str) -> int:
    return sem + k.target.offset("percpu_rw_semaphore.rss") + k.target.offset(f"rcu_sync.{member}")


def _init_wq(k, wq: int) -> None:
    k.machine.write_u32(wq + k.target.offset("wait_queue_head.lock"), 0)
    init_list_head(k, wq + k.target.offset("wait_queue_head.head"))


@export("int __percpu_init_rwsem(struct percpu_rw_semaphore *sem, const char *name, "
        "struct lock_class_key *key)")
def __percpu_init_rwsem(k, sem, name, key):
    from ...mm.percpu import _alloc
    counter = _alloc(k, 4, 4)
    if not counter:
        return -errno.ENOMEM
    wr(k, sem, "percpu_rw_semaphore.read_count", counter)
    m = k.machine
    m.write_u32(_rss(k, sem, "gp_state"), GP_IDLE)
    m.write_u32(_rss(k, sem, "gp_count"), 0)
    _init_wq(k, _rss(k, sem, "gp_wait"))
    wr(k, sem + k.target.offset("percpu_rw_semaphore.writer"), "rcuwait.task", 0)
    _init_wq(k, sem + k.target.offset("percpu_rw_semaphore.waiters"))
    wr(k, sem, "percpu_rw_semaphore.block", 0, 4)
    k.model(PercpuRwsems).waiters.pop(sem, None)
    return 0


@export("void percpu_free_rwsem(struct percpu_rw_semaphore *sem)")
def percpu_free_rwsem(k, sem):
    from ...mm.percpu import free_percpu
    counter = rd(k, sem, "percpu_rw_semaphore.read_count")
    if not counter:
        return
    free_percpu(k, counter)
    wr(k, sem, "percpu_rw_semaphore.read_count", 0)


def _trylock(k, sem: int, reader: bool) -> bool:
    """__percpu_rwsem_trylock()."""
    if reader:
        _add_reader(k, sem, 1)
        if not _block(k, sem):
            return True
        _add_reader(k, sem, -1)
        rcuwait_wake(k, sem)
        return False
    if _block(k, sem):
        return False
    wr(k, sem, "percpu_rw_semaphore.block", 1, 4)
    return True


def rcuwait_wake(k, sem: int) -> None:
    s = sched(k)
    ts = rd(k, sem + k.target.offset("percpu_rw_semaphore.writer"), "rcuwait.task")
    if ts:
        s.wake_up_process(s.task_of(ts))


def _wait(k, sem: int, reader: bool, label: str, where: int):
    """percpu_rwsem_wait(): sleep (uninterruptibly) until the semaphore is ours."""
    s = sched(k)
    task = s.current()
    queue = k.model(PercpuRwsems).waiters.setdefault(sem, [])
    entry = [task, reader, False]
    queue.append(entry)
    while not entry[2]:
        s.set_state(task, s.TASK_UNINTERRUPTIBLE)
        yield from s.schedule(label, caller=where)
    s.set_state(task, s.TASK_RUNNING)


def _wake_waiters(k, sem: int) -> None:
    """percpu_rwsem_wake_function() over the queue: readers up to the first writer that
    cannot get it, or one writer."""
    s = sched(k)
    queue = k.model(PercpuRwsems).waiters.get(sem, [])
    while queue:
        task, reader, _ = queue[0]
        if not _trylock(k, sem, reader):
            break
        queue.pop(0)[2] = True
        s.wake_up_process(task)
        if not reader:
            break


@export("bool __percpu_down_read(struct percpu_rw_semaphore *sem, bool try)")
def __percpu_down_read(k, sem, try_):
    """The reader slow path (a writer is active or was): true once read-held."""
    if _trylock(k, sem, True):
        return True
    if try_:
        return False
    where = caller(k)
    s = sched(k)
    s.add_preempt(-1)                  # preempt_enable() around the sleep
    yield from _wait(k, sem, True, "percpu_rwsem_wait", where)
    s.add_preempt(1)
    return True


@export("void percpu_down_write(struct percpu_rw_semaphore *sem)")
def percpu_down_write(k, sem):
    s, m = sched(k), k.machine
    where = caller(k)
    task = s.current()
    m.write_u32(_rss(k, sem, "gp_count"), m.read_u32(_rss(k, sem, "gp_count")) + 1)
    m.write_u32(_rss(k, sem, "gp_state"), GP_PASSED)          # rcu_sync_enter()
    if not _trylock(k, sem, False):
        yield from _wait(k, sem, False, "percpu_rwsem_wait", where)
    writer = sem + k.target.offset("percpu_rw_semaphore.writer")
    while _readers(k, sem) > 0:                                 # rcuwait_wait_event()
        wr(k, writer, "rcuwait.task", task.ts)
        s.set_state(task, s.TASK_UNINTERRUPTIBLE)
        if _readers(k, sem) <= 0:
            break
        yield from s.schedule("percpu_down_write", caller=where)
    wr(k, writer, "rcuwait.task", 0)
    s.set_state(task, s.TASK_RUNNING)
    locks(k).hold(task, "percpu_rwsem", sem, where).text += " (write)"


@export("void percpu_up_write(struct percpu_rw_semaphore *sem)")
def percpu_up_write(k, sem):
    s, m, L = sched(k), k.machine, locks(k)
    task = s.current()
    if not _block(k, sem):
        L.bad_unlock(task, f"{task.comm}/{task.pid} percpu_up_write()s "
                           f"{L.describe('percpu_rwsem', sem)} which is not held for writing")
        return
    L.release(L.holder("percpu_rwsem", sem) or task, "percpu_rwsem", sem)
    wr(k, sem, "percpu_rw_semaphore.block", 0, 4)
    _wake_waiters(k, sem)
    count = max(m.read_u32(_rss(k, sem, "gp_count")) - 1, 0)  # rcu_sync_exit()
    m.write_u32(_rss(k, sem, "gp_count"), count)
    if not count:
        m.write_u32(_rss(k, sem, "gp_state"), GP_IDLE)
