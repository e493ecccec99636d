"""kernel/sched/idle.c's part that kemu needs: what the CPU does once a syscall has
returned to a waiting shell (do_idle()).

Runnable tasks, softirqs and work due now run until nothing is runnable; the
clock does not move for them (timers and delayed work wait for
:meth:`kemu.kernel.facade.Kernel.advance`). The schedulers' models say what is runnable
through ``k.runnable_checks``. Left out: cpuidle states, the tick's stop.
"""
from __future__ import annotations

IDLE_ROUNDS = 64               # a task that never sleeps ends an idle period here


def do_idle(k) -> None:
    """Run what is runnable now, at most IDLE_ROUNDS times."""
    for _ in range(IDLE_ROUNDS):
        if not any(check() for check in k.runnable_checks):
            return
        k.advance(0)
