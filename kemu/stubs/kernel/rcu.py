"""kernel/rcu: preemptible RCU and SRCU on one CPU.

rcu_read_lock() counts in ``current->rcu_read_lock_nesting``. A grace period
ends once no task is inside a read-side critical section: when the CPU would
go idle (so at every k.advance()), in synchronize_rcu() and in rcu_barrier().
Callbacks (call_rcu(), call_srcu()) then run in the softirq context, in the
order they were queued, and kvfree_rcu() frees its objects (also when a module
goes away: free_module()'s synchronize_rcu(), before leaks are looked for). synchronize_rcu()
returns once the callbacks queued before it have run (the kernel's own
wakeme_after_rcu callback is queued behind them). A callback still queued
when its module's exit has returned (no rcu_barrier() in exit) is reported.
Sleeping inside a read-side section gets the kernel's warning; a
synchronize_rcu() or synchronize_srcu() inside one can never return.
"""
import itertools

from kemu import export
from kemu.abi.exports import members, module_notifier
from kemu.module.module import ModuleState

from .sched.core import PRIO_RCU, SoftItem, caller, sched

members("struct task_struct", "rcu_read_lock_nesting")


class Rcu:
    def __init__(self, k):
        self.k = k
        self.s = sched(k)
        # only with CONFIG_PREEMPT_RCU (not Debian's 5.10, whose readers
        # disable preemption instead): kemu's count is then its own
        t = k.target
        self.o_nesting = t.offset("task_struct.rcu_read_lock_nesting") \
            if t.has_offset("task_struct.rcu_read_lock_nesting") else None
        self.callbacks: list = []        # (seq, head, func, owner, ssp) waiting for a GP
        self.kfree: list = []            # objects to free after a GP
        self.outstanding: dict = {}      # seq -> ssp of callbacks not yet invoked
        self.seq = itertools.count(1)
        self.gp_seq = 0
        self.gp_requested = False
        self.waiters: list = []          # tasks waiting for readers / callbacks
        self.s.idle_hooks.append((self._gp_pending, self.end_gp))
        self.s.gone_hooks.append(self._module_gone)

    # --------------------------------------------------------- readers
    def readers(self, ssp=None, exclude=None):
        """Tasks inside a read-side section (of SRCU ``ssp``), other than ``exclude``."""
        out = []
        for task in self.s.tasks:
            if task is exclude or task.state == "dead":
                continue
            if ssp is None and task.rcu_nesting > 0:
                out.append(task)
            elif ssp is not None and task.data.get("srcu", {}).get(ssp):
                out.append(task)
        return out

    def set_nesting(self, task, value: int) -> None:
        task.rcu_nesting = value
        if self.o_nesting is not None:
            self.k.machine.write_u32(task.ts + self.o_nesting, value & 0xFFFFFFFF)

    def wake_waiters(self) -> None:
        waiters, self.waiters = self.waiters, []
        for task in waiters:
            self.s.wake_up_process(task)

    # ---------------------------------------------------- grace periods
    def _gp_pending(self) -> bool:
        return bool(self.callbacks or self.kfree or self.gp_requested) and not self.readers()

    def end_gp(self, ssp=None) -> bool:
        """A grace period ends: queued callbacks go to the softirq, kvfree_rcu() frees."""
        if self.readers() if ssp is None else self.readers(ssp):
            return False
        from kemu.stubs.mm.slab import kfree_addr
        k = self.k
        self.gp_seq += 1
        self.gp_requested = False
        todo = [cb for cb in self.callbacks if ssp is None or cb[4] == ssp]
        self.callbacks = [cb for cb in self.callbacks if cb not in todo]
        for seq, head, func, owner, _ in todo:
            self._raise(seq, head, func, owner)
        frees, self.kfree = self.kfree, []
        for ptr in frees:
            kfree_addr(k, ptr, "kvfree")
        return bool(todo or frees)

    def _raise(self, seq, head, func, owner):
        s = self.s

        def prepare():
            return func, (head,)

        def done(rax, count):
            self.outstanding.pop(seq, None)
            self.k.unregister("rcu callback", head)
            self.wake_waiters()

        s.raise_softirq(SoftItem(PRIO_RCU, "rcu", prepare, done,
                                 entry=f"rcu {s.symbol(func)}", owner=owner))

    def queue(self, head: int, func: int, ssp=None) -> None:
        s = self.s
        owner = s.owner_of(func)
        seq = next(self.seq)
        self.callbacks.append((seq, head, func, owner, ssp))
        self.outstanding[seq] = ssp
        self.k.register("rcu callback", head, owner,
                        f"{'srcu' if ssp else 'rcu'} callback {s.symbol(func)}")

    def barrier(self, label: str, where: int, ssp=None):
        """Wait until the callbacks queued so far have run (a generator)."""
        s = self.s
        task = s.current()
        if (task.rcu_nesting if ssp is None else task.data.get("srcu", {}).get(ssp)):
            flavour = "RCU" if ssp is None else "SRCU"
            s._check_sleep(task, label)
            s.deadlock_now(task, label, f"{task.comm}/{task.pid} calls {label}() inside an "
                                        f"{flavour} read-side critical section", False)
        if s.in_atomic() or task.kind == "softirq":
            s._check_sleep(task, label)
        target = {seq for seq, owner_ssp in self.outstanding.items()
                  if ssp is None or owner_ssp == ssp}
        self.gp_requested = True
        while True:
            if not self.readers(ssp, exclude=task):
                self.end_gp(ssp)
            if not target & self.outstanding.keys() and not self.readers(ssp, exclude=task):
                break
            self.waiters.append(task)
            s.set_state(task, s.TASK_UNINTERRUPTIBLE)
            yield from s.schedule(label, caller=where)

    def _module_gone(self, mod) -> None:
        for cb in [cb for cb in self.callbacks if cb[3] is mod or mod.within(cb[1])]:
            self.callbacks.remove(cb)
            self.outstanding.pop(cb[0], None)


def rcu(k) -> Rcu:
    return k.model(Rcu)


@module_notifier
def kfree_rcu_before_free_module(k, mod):
    """A module going away: free_module()'s synchronize_rcu() lets the objects kfree_rcu()
    queued be freed before kemu looks for leaks (kmemleak would not report them)."""
    if mod.state != ModuleState.GOING:
        return
    r = rcu(k)
    if not r.kfree or r.readers():
        return
    from kemu.stubs.mm.slab import kfree_addr
    frees, r.kfree = r.kfree, []
    for ptr in frees:
        kfree_addr(k, ptr, "kvfree")


@export("void __rcu_read_lock(void)")
def __rcu_read_lock(k):
    r = rcu(k)
    task = r.s.current()
    r.set_nesting(task, task.rcu_nesting + 1)


@export("void rcu_read_unlock_strict(void)", until="6.1")
def rcu_read_unlock_strict(k):
    """5.10 without PREEMPT_RCU: rcu_read_unlock() calls this, which does
    nothing unless CONFIG_RCU_STRICT_GRACE_PERIOD (Debian leaves it off)."""


@export("void __rcu_read_unlock(void)")
def __rcu_read_unlock(k):
    r = rcu(k)
    task = r.s.current()
    if task.rcu_nesting <= 0:
        k.finding("rcu", f"{task.comm}/{task.pid} calls rcu_read_unlock() outside an RCU "
                  "read-side critical section", task.entry.module if task.entry else None)
        return
    r.set_nesting(task, task.rcu_nesting - 1)
    if not task.rcu_nesting:
        r.wake_waiters()


@export("void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))")
def call_rcu(k, head, func):
    rcu(k).queue(head, func)


@export("void kvfree_call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))")
def kvfree_call_rcu(k, head, func):
    if not head:
        ptr = func                      # kvfree_rcu(ptr): headless
    elif func < 4096:
        ptr = head - func               # kvfree_rcu(ptr, field): func is offsetof(field)
    else:
        ptr = func
    rcu(k).kfree.append(ptr)


def _sync(k, label):
    return rcu(k).barrier(label, caller(k))


@export("void synchronize_rcu(void)")
def synchronize_rcu(k):
    yield from _sync(k, "synchronize_rcu")


@export("void synchronize_rcu_expedited(void)")
def synchronize_rcu_expedited(k):
    yield from _sync(k, "synchronize_rcu_expedited")


@export("void synchronize_net(void)")
def synchronize_net(k):
    yield from _sync(k, "synchronize_net")


@export("void rcu_barrier(void)")
def rcu_barrier(k):
    yield from _sync(k, "rcu_barrier")


for _name in ("synchronize_rcu_tasks", "synchronize_rcu_tasks_rude",
              "synchronize_rcu_tasks_trace", "rcu_barrier_tasks", "rcu_barrier_tasks_rude",
              "rcu_barrier_tasks_trace"):
    def _make(name):
        @export(f"void {name}(void)")
        def fn(k):
            yield from _sync(k, name)
        fn.__name__ = name
    _make(_name)

for _name in ("call_rcu_tasks", "call_rcu_tasks_rude", "call_rcu_tasks_trace"):
    def _make_call(name):
        @export(f"void {name}(struct rcu_head *rhp, void (*func)(struct rcu_head *head))")
        def fn(k, rhp, func):
            rcu(k).queue(rhp, func)
        fn.__name__ = name
    _make_call(_name)


@export("unsigned long get_state_synchronize_rcu(void)")
def get_state_synchronize_rcu(k):
    return rcu(k).gp_seq + 1


@export("unsigned long start_poll_synchronize_rcu(void)")
def start_poll_synchronize_rcu(k):
    r = rcu(k)
    r.gp_requested = True
    return r.gp_seq + 1


@export("bool poll_state_synchronize_rcu(unsigned long oldstate)")
def poll_state_synchronize_rcu(k, oldstate):
    return rcu(k).gp_seq >= oldstate


@export("void cond_synchronize_rcu(unsigned long oldstate)")
def cond_synchronize_rcu(k, oldstate):
    if rcu(k).gp_seq < oldstate:
        yield from _sync(k, "cond_synchronize_rcu")


@export("bool rcu_is_watching(void)")
def rcu_is_watching(k):
    return True


# -------------------------------------------------------------------- SRCU
@export("int init_srcu_struct(struct srcu_struct *ssp)")
def init_srcu_struct(k, ssp):
    return 0


@export("void cleanup_srcu_struct(struct srcu_struct *ssp)")
def cleanup_srcu_struct(k, ssp):
    r = rcu(k)
    if any(cb[4] == ssp for cb in r.callbacks):
        k.finding("rcu", "cleanup_srcu_struct() with SRCU callbacks still queued "
                  "(no srcu_barrier())", k.current_module())


@export("int __srcu_read_lock(struct srcu_struct *ssp)")
def __srcu_read_lock(k, ssp):
    task = rcu(k).s.current()
    counts = task.data.setdefault("srcu", {})
    counts[ssp] = counts.get(ssp, 0) + 1
    return 0


@export("void __srcu_read_unlock(struct srcu_struct *ssp, int idx)")
def __srcu_read_unlock(k, ssp, idx):
    r = rcu(k)
    task = r.s.current()
    counts = task.data.setdefault("srcu", {})
    if not counts.get(ssp):
        k.finding("rcu", f"{task.comm}/{task.pid} calls srcu_read_unlock() outside an SRCU "
                  "read-side critical section", task.entry.module if task.entry else None)
        return
    counts[ssp] -= 1
    if not counts[ssp]:
        r.wake_waiters()


@export("void synchronize_srcu(struct srcu_struct *ssp)")
def synchronize_srcu(k, ssp):
    yield from rcu(k).barrier("synchronize_srcu", caller(k), ssp)


@export("void synchronize_srcu_expedited(struct srcu_struct *ssp)")
def synchronize_srcu_expedited(k, ssp):
    yield from rcu(k).barrier("synchronize_srcu_expedited", caller(k), ssp)


@export("void srcu_barrier(struct srcu_struct *ssp)")
def srcu_barrier(k, ssp):
    yield from rcu(k).barrier("srcu_barrier", caller(k), ssp)


@export("void call_srcu(struct srcu_struct *ssp, struct rcu_head *rhp, "
        "void (*func)(struct rcu_head *head))")
def call_srcu(k, ssp, rhp, func):
    rcu(k).queue(rhp, func, ssp)
