"""kernel/signal.c: recalc_sigpending(), flush_signals(), and send_sig() for linking.

kemu's only signal is the SIGKILL its scheduler sends to a task stuck in an
interruptible or killable wait (``Task.sigkill``), so a task's
TIF_SIGPENDING stays set while that is pending and is cleared otherwise.
"""
import errno

from kemu import export

from ..fs.internal import link_only

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


@export("void flush_signals(struct task_struct *t)")
def flush_signals(k, t):
    """Drop what is pending (kemu's SIGKILL) and clear TIF_SIGPENDING."""
    s = sched(k)
    task = s.task_of(t)
    if task is not None:
        task.sigkill = False
        s.set_tif(task, s.TIF_SIGPENDING, on=False)


# Sending a signal to another task: only a filesystem's I/O path does (zonefs sends
# SIGXFSZ to a writer past the zone's end), never an init or exit.
link_only("int send_sig(int sig, struct task_struct *p, int priv)", -errno.ESRCH,
          "kemu delivers no signals but its own SIGKILL to stuck tasks")
