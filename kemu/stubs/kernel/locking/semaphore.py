"""kernel/locking/semaphore.c: counting semaphores (sema_init() is inline).

``count`` is the real field; waiters queue FIFO and up() hands the semaphore
straight to the first of them, as __up() does.
"""
import errno

from kemu import export
from kemu.abi.exports import members

from ..sched.core import caller, sched
from .state import locks

members("struct semaphore", "count", "lock", "wait_list")


class SemWaiter:
    __slots__ = ("task", "up")

    def __init__(self, task):
        self.task, self.up = task, False


def _count(k, sem):
    return k.target.offset("semaphore.count") + sem


def down_common(k, sem: int, state: int, timeout: int, label: str, where: int):
    """down()/__down_common() (a generator): 0, -EINTR or -ETIME."""
    s, m = sched(k), k.machine
    count = m.read_u32(_count(k, sem))
    waiters = locks(k).sem_waiters.setdefault(sem, [])
    if count > 0 and not waiters:
        m.write_u32(_count(k, sem), count - 1)
        return 0
    task = s.current()
    waiter = SemWaiter(task)
    waiters.append(waiter)
    while True:
        if s.signal_pending_state(state, task):
            waiters.remove(waiter)
            s.set_state(task, s.TASK_RUNNING)
            return -errno.EINTR
        if timeout <= 0:
            waiters.remove(waiter)
            s.set_state(task, s.TASK_RUNNING)
            return -errno.ETIME
        s.set_state(task, state)
        timeout = yield from s.schedule_timeout(timeout, label, where)
        if waiter.up:
            return 0


def _make_down(name, state_name, ret):
    @export(f"{'int' if ret else 'void'} {name}(struct semaphore *sem)")
    def fn(k, sem):
        s = sched(k)
        result = yield from down_common(k, sem, k.target.const(state_name),
                                        s.MAX_SCHEDULE_TIMEOUT, name, caller(k))
        return result if ret else None
    fn.__name__ = name


_make_down("down", "TASK_UNINTERRUPTIBLE", False)
_make_down("down_interruptible", "TASK_INTERRUPTIBLE", True)
_make_down("down_killable", "TASK_KILLABLE", True)


@export("int down_timeout(struct semaphore *sem, long timeout)")
def down_timeout(k, sem, timeout):
    return (yield from down_common(k, sem, sched(k).TASK_UNINTERRUPTIBLE, timeout,
                                   "down_timeout", caller(k)))


@export("int down_trylock(struct semaphore *sem)")
def down_trylock(k, sem):
    m = k.machine
    count = m.read_u32(_count(k, sem))
    if count > 0 and not locks(k).sem_waiters.get(sem):
        m.write_u32(_count(k, sem), count - 1)
        return 0
    return 1


@export("void up(struct semaphore *sem)")
def up(k, sem):
    waiters = locks(k).sem_waiters.get(sem)
    if not waiters:
        m = k.machine
        m.write_u32(_count(k, sem), m.read_u32(_count(k, sem)) + 1)
        return
    waiter = waiters.pop(0)
    waiter.up = True
    sched(k).wake_up_process(waiter.task)
