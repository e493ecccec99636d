"""Who holds which lock: the bookkeeping shared by the lock models.

Each lock keeps its real state in the emulated lock word (qspinlock value,
qrwlock counts, mutex owner, rwsem count/owner, semaphore count), so inline
helpers such as spin_is_locked() or mutex_is_locked() see the truth; the
holder tasks and waiters are kept here, keyed by the lock's address.
"""
from __future__ import annotations

from ..sched.core import sched


class LockRecord:
    """One lock held by a task."""
    __slots__ = ("kind", "addr", "text", "caller", "where")

    def __init__(self, kind, addr, text, caller, where=""):
        self.kind, self.addr, self.text, self.caller = kind, addr, text, caller
        self.where = where                  # the caller as %pS prints it, when taken

    def __str__(self):
        return self.text


class Locks:
    """Holders, waiters and usage contexts of every lock seen so far."""

    def __init__(self, k):
        self.k = k
        self.s = sched(k)
        self.spin: dict = {}             # addr -> (task, LockRecord)
        self.rw: dict = {}               # addr -> RwLockState
        self.usage: dict = {}            # addr -> set of lockdep-like usage bits
        self.reported: set = set()
        self.mutex_waiters: dict = {}    # addr -> [task]
        self.rwsems: dict = {}           # addr -> RwsemState
        self.sem_waiters: dict = {}      # addr -> [SemWaiter]
        self._names: dict = {}
        self.s.gone_hooks.append(lambda mod: self._names.clear())

    def describe(self, kind: str, addr: int) -> str:
        """``spinlock foo_lock [mod]`` (or the address when it has no symbol)."""
        key = (kind, addr)
        text = self._names.get(key)
        if text is None:
            text = self._names[key] = self._describe(kind, addr)
        return text

    def _describe(self, kind: str, addr: int) -> str:
        hit = self.k.symbolize(addr)
        if hit:
            name, off, _size, mod = hit
            where = name if not off else f"{name}+{off:#x}"
            return f"{kind} {where}" + (f" [{mod}]" if mod else "")
        return f"{kind} at {addr:#x}"

    def hold(self, task, kind: str, addr: int, caller: int) -> LockRecord:
        rec = LockRecord(kind, addr, self.describe(kind, addr), caller,
                         self.k.format_addr(caller) if caller else "")
        task.locks.append(rec)
        return rec

    def release(self, task, kind: str, addr: int) -> bool:
        """Drop the newest record of ``addr`` from ``task``; False if it held none."""
        for i in range(len(task.locks) - 1, -1, -1):
            rec = task.locks[i]
            if rec.addr == addr and rec.kind == kind:
                del task.locks[i]
                return True
        return False

    def holder(self, kind: str, addr: int):
        """The task holding ``addr`` (of ``kind``), or None."""
        for task in self.s.tasks:
            for rec in task.locks:
                if rec.addr == addr and rec.kind == kind:
                    return task
        return None

    def bad_unlock(self, task, message: str) -> None:
        module = task.entry.module if task.entry else None
        self.k.finding("bad-unlock", message, module)

    def note_usage(self, task, kind: str, addr: int) -> None:
        """Lockdep's irq-safety check: a lock taken in softirq (or hard irq) context
        and with softirqs (irqs) enabled in process context can deadlock."""
        s = self.s
        count = s.preempt_count()
        if task.kind == "softirq":
            bits = {"IN-HARDIRQ"} if count & s.HARDIRQ_MASK else {"IN-SOFTIRQ"}
        else:
            bits = set()
            if not s.irqs_disabled():
                bits.add("HARDIRQ-ON")
                if not count & s.SOFTIRQ_MASK:
                    bits.add("SOFTIRQ-ON")
        seen = self.usage.setdefault(addr, set())
        new = bits - seen
        if not new:
            return
        seen |= bits
        for a, b in (("SOFTIRQ-ON", "IN-SOFTIRQ"), ("HARDIRQ-ON", "IN-HARDIRQ")):
            if a in seen and b in seen and (addr, b) not in self.reported:
                self.reported.add((addr, b))
                module = task.entry.module if task.entry else None
                first, then = (a, b) if b in new else (b, a)
                self.k.finding("inconsistent-lock-state",
                               f"inconsistent {{{first}-W}} -> {{{then}-W}} usage of "
                               f"{self.describe(kind, addr)}: taken in "
                               f"{b.split('-')[1].lower()} context and with "
                               f"{a.split('-')[0].lower()}s enabled in process context "
                               f"({task.comm}/{task.pid})", module)


def locks(k) -> Locks:
    return k.model(Locks)


def held_locks(k, task=None) -> list[str]:
    """What ``task`` (default: the task that runs entries, insmod) still holds.

    Locks (spinlocks, rwlocks, mutexes, rw semaphores), an open RCU read-side
    critical section, disabled bottom halves or interrupts. Call it when an
    entry has returned: anything listed is a lock leaked by the entry.
    """
    s = sched(k)
    task = task or s.main
    out = [str(r) + (f" (taken at {r.where})" if r.where else "") for r in task.locks]
    if task.rcu_nesting:
        out.append(f"rcu_read_lock (nesting {task.rcu_nesting})")
    if task is s.cur:
        count, irqs_off = s.preempt_count(), s.irqs_disabled()
    else:
        count, irqs_off = task.preempt & ~s.NEED_RESCHED, not task.irq_flags & s.IF
    spins = sum(1 for r in task.locks if r.kind in ("spinlock", "rwlock"))
    if count & s.SOFTIRQ_MASK & ~s.SOFTIRQ_OFFSET and task.kind != "softirq":
        out.append("bottom halves disabled")
    elif count & s.PREEMPT_MASK > spins:
        out.append(f"preemption disabled (preempt_count {count:#x})")
    if irqs_off:
        out.append("interrupts disabled")
    return out


def report_held_locks(k, task=None, module=None, entry: str = "") -> list[str]:
    """held_locks() as a finding ("lock-leak") when the list is not empty."""
    held = held_locks(k, task)
    if held:
        what = f"{entry} returned" if entry else "the entry returned"
        k.finding("lock-leak", f"{what} holding {', '.join(held)}", module)
    return held
