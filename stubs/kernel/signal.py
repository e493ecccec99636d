"""kernel/signal.c: recalc_sigpending().

kemu's only signal is the SIGKILL its scheduler sends to a task stuck in an
interruptible or killable wait (``Task.sigkill``), so a task's
TIF_SIGPENDING stays set while that is pending and is cleared otherwise.
"""
from kemu import export

from .freezer import freezing
from .sched.core import sched


@export("void recalc_sigpending(void)")
def recalc_sigpending(k):
    s = sched(k)
    task = s.current()
    if task.sigkill:                      # recalc_sigpending_tsk(): a signal is pending
        s.set_tif(task, s.TIF_SIGPENDING)
    elif not freezing(k, task.ts):
        s.set_tif(task, s.TIF_SIGPENDING, on=False)
