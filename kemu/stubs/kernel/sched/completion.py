"""kernel/sched/completion.c: completions on their real ``done`` count and swait queue.

init_completion()/reinit_completion() are inline (done = 0 and
__init_swait_queue_head()); waiters queue a struct swait_queue on
``x->wait`` as do_wait_for_common() does, and complete() wakes the first.
"""
from kemu import export
from kemu.abi.exports import members

from .core import caller, sched
from .wait import waitq

members("struct completion", "done", "wait")

UINT_MAX = 0xFFFFFFFF


def _done(k, x):
    return x + k.target.offset("completion.done")


def _wait(k, x):
    return x + k.target.offset("completion.wait")


def do_wait_for_common(k, x: int, timeout: int, state: int, label: str, where: int):
    """The kernel's wait loop (a generator): jiffies left (at least 1), 0, or -ERESTARTSYS."""
    w = waitq(k)
    s, m = w.s, k.machine
    done = _done(k, x)
    if not m.read_u32(done):
        task = s.current()
        entry = w.swait_entry(task)
        while True:
            if s.signal_pending_state(state, task):
                timeout = -k.target.const("ERESTARTSYS")
                break
            if w.list_empty(entry + w.sw_list):
                w.list_add_tail(entry + w.sw_list, _wait(k, x) + w.sq_list)
            s.set_state(task, state)
            timeout = yield from s.schedule_timeout(timeout, label, where)
            if m.read_u32(done) or not timeout:
                break
        if not w.list_empty(entry + w.sw_list):
            w.list_del_init(entry + w.sw_list)
        s.set_state(task, s.TASK_RUNNING)
        if not m.read_u32(done):
            return timeout
    value = m.read_u32(done)
    if value != UINT_MAX:
        m.write_u32(done, value - 1)
    return timeout or 1


def _waiter(name, ret, state_name, timed):
    args = "struct completion *x, unsigned long timeout" if timed else "struct completion *x"

    @export(f"{ret} {name}({args})")
    def fn(k, x, timeout=None):
        s = sched(k)
        t = s.MAX_SCHEDULE_TIMEOUT if timeout is None else timeout
        result = yield from do_wait_for_common(k, x, t, k.target.const(state_name), name,
                                               caller(k))
        if ret == "void":
            return None
        if not timed:
            return result if result < 0 else 0
        return result
    fn.__name__ = name


for _name, _ret, _state, _timed in (
        ("wait_for_completion", "void", "TASK_UNINTERRUPTIBLE", False),
        ("wait_for_completion_io", "void", "TASK_UNINTERRUPTIBLE", False),
        ("wait_for_completion_interruptible", "int", "TASK_INTERRUPTIBLE", False),
        ("wait_for_completion_killable", "int", "TASK_KILLABLE", False),
        ("wait_for_completion_timeout", "unsigned long", "TASK_UNINTERRUPTIBLE", True),
        ("wait_for_completion_io_timeout", "unsigned long", "TASK_UNINTERRUPTIBLE", True),
        ("wait_for_completion_interruptible_timeout", "long", "TASK_INTERRUPTIBLE", True),
        ("wait_for_completion_killable_timeout", "long", "TASK_KILLABLE", True)):
    _waiter(_name, _ret, _state, _timed)


@export("int wait_for_completion_state(struct completion *x, unsigned int state)")
def wait_for_completion_state(k, x, state):
    result = yield from do_wait_for_common(k, x, sched(k).MAX_SCHEDULE_TIMEOUT, state,
                                           "wait_for_completion_state", caller(k))
    return result if result < 0 else 0


@export("void complete(struct completion *x)")
def complete(k, x):
    m = k.machine
    done = _done(k, x)
    value = m.read_u32(done)
    if value != UINT_MAX:
        m.write_u32(done, value + 1)
    waitq(k).swake_one(_wait(k, x))


@export("void complete_all(struct completion *x)")
def complete_all(k, x):
    k.machine.write_u32(_done(k, x), UINT_MAX)
    waitq(k).swake_all(_wait(k, x))


@export("bool try_wait_for_completion(struct completion *x)")
def try_wait_for_completion(k, x):
    m = k.machine
    done = _done(k, x)
    value = m.read_u32(done)
    if not value:
        return False
    if value != UINT_MAX:
        m.write_u32(done, value - 1)
    return True


@export("bool completion_done(struct completion *x)")
def completion_done(k, x):
    return k.machine.read_u32(_done(k, x)) != 0
