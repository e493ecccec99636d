"""kernel/freezer.c: the task freezer, with no system suspend or cgroup freeze in progress.

kemu never suspends, so nothing is ever ``freezing()``: ``freezing_slow_path``
is false, a task entering ``__refrigerator`` leaves it at once (TASK_RUNNING,
not frozen) and ``set_freezable`` only clears PF_NOFREEZE, as the kernel's
does when no freeze is under way. ``freezer_active`` is the static key a
freeze would enable.
"""
from kemu import data, export
from kemu.abi.exports import members

from .sched.core import sched

members("struct task_struct", "flags")


@data("struct static_key_false freezer_active")
def freezer_active(k, addr):
    pass                              # zeroed: no freeze in progress


def freezing(k, task_struct: int) -> bool:
    """freezing(): pm_freezing, pm_nosig_freezing and cgroup freezing are all off."""
    return False


@export("bool freezing_slow_path(struct task_struct *p)")
def freezing_slow_path(k, p):
    return freezing(k, p)


@export("bool __refrigerator(bool check_kthr_stop)")
def __refrigerator(k, check_kthr_stop):
    """Nothing to freeze for: back to TASK_RUNNING, returns whether the task was frozen."""
    s = sched(k)
    s.set_state(s.current(), s.TASK_RUNNING)
    return False


@export("bool set_freezable(void)")
def set_freezable(k):
    """Make the current (kernel) task freezable; returns try_to_freeze() (false)."""
    s = sched(k)
    ts = s.current().ts
    off = k.target.offset("task_struct.flags")
    k.machine.write_u32(ts + off, k.machine.read_u32(ts + off) & ~k.target.const("PF_NOFREEZE"))
    return False
