"""kernel/locking: spinlocks and rwlocks, mutexes, rw semaphores, semaphores.

:func:`held_locks` says what the task running an entry still holds when the
entry returns (the lead checks it after init and exit).
"""
from .state import held_locks, report_held_locks

__all__ = ["held_locks", "report_held_locks"]


from kemu.abi.exports import entry_check  # noqa: E402


@entry_check
def _locks_held_at_entry_end(k, entry: str, module) -> None:
    """An init, exit or callback must not return with a lock held (or RCU read-locked)."""
    report_held_locks(k, module=module, entry=entry)
