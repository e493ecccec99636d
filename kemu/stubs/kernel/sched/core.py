"""kernel/sched/core.c: one CPU, cooperative tasks, each on its own kernel stack.

The task that runs an entry (init, exit, a parameter's ``set``) is ``insmod``
(PID 1) on the machine's stack. Kernel threads, workqueue workers and the
softirq context ``ksoftirqd/0`` (timer, hrtimer, tasklet and RCU callbacks)
are further tasks with a 16 KiB stack of their own. Nothing is preempted: a
task runs until it sleeps (schedule() in a sleeping state, msleep(), a
contended mutex...), yields, or its function returns.

How a task sleeps inside a hook: a blocking export is a generator that
yields ``k.call_request(sched.block_addr)``. The machine "calls" the block
slot with its resume slot as the return address; the block slot's hook saves
the task's registers (the resume address stays on the task's stack, the
generator in the task's own ``machine.pending`` list) and loads another
task's. When the sleeper is woken and picked again its registers come back,
``ret`` reaches the resume slot and the generator continues after its
``yield`` - so the models are written as the kernel's own loops
(``while (timeout) timeout = schedule_timeout_uninterruptible(timeout);``).

When no task can run the virtual clock jumps to the next event (a timer,
hrtimer or timeout). Timers fire at the jiffy the timer wheel would expire
them (``calc_wheel_index()``: one jiffy after ``expires``, rounded up to the
level's granularity for long timeouts). When nothing left can wake the
entry's task the wait is a deadlock: an interruptible or killable sleeper is
sent SIGKILL (as if insmod were killed; its wait returns -ERESTARTSYS/-EINTR),
an uninterruptible one ends the entry with :class:`Deadlock` after the
kernel's hung-task report. A sleep without timeout that outlasts the hung
task timeout (120 virtual seconds) is treated the same way.

``k.advance(ms)`` runs the CPU idle until the clock reaches the new time:
due timers fire, woken tasks, work items, tasklets and RCU callbacks run.
"""
from __future__ import annotations

import collections
import errno
import heapq

from kemu import export, static_call
from kemu.errors import EmulationError, Lockup
from kemu.kernel.log import KERN_ERR, KERN_INFO, KERN_WARNING
from kemu.machine.emulator import THREAD_SIZE
from kemu.machine.memory import PAGE_SIZE
from kemu.module.module import Entry, ModuleState
from kemu.abi.exports import members

members("struct task_struct", "thread_info", "__state|state", "stack", "usage", "flags", "pid",
        "tgid", "comm", "rcu_read_lock_nesting")
members("struct thread_info", "flags")

static_call("might_resched", "__cond_resched")
static_call("cond_resched", "__cond_resched")
static_call("preempt_schedule", "preempt_schedule")
static_call("preempt_schedule_notrace", "preempt_schedule_notrace")

NSEC_PER_SEC = 1_000_000_000
HUNG_TASK_TIMEOUT_S = 120                  # CONFIG_DEFAULT_HUNG_TASK_TIMEOUT
MASK64 = (1 << 64) - 1

# states of the model's tasks (the kernel's __state lives in task_struct)
NEW, RUNNING, RUNNABLE, BLOCKED, BUSY, IDLE, DEAD = "new", "running", "runnable", \
    "blocked", "busy", "idle", "dead"

# softirq vectors in the order __do_softirq() runs them; hard interrupts first
PRIO_HARDIRQ, PRIO_HI, PRIO_TIMER, PRIO_TASKLET, PRIO_HRTIMER, PRIO_RCU = -1, 0, 1, 6, 8, 9
PRIO_IDLE = 99                             # the end of an idle period, after everything due

# the timer wheel (kernel/time/timer.c)
LVL_CLK_SHIFT, LVL_BITS = 3, 6
LVL_SIZE = 1 << LVL_BITS


class Deadlock(EmulationError):
    """A task waits for something that nothing left in the system will do."""
    errno = errno.EDEADLK


def signed64(value: int) -> int:
    value &= MASK64
    return value - (1 << 64) if value >> 63 else value


def wheel_bucket(expires: int, clk: int, hz: int) -> tuple[int, int]:
    """calc_wheel_index(): (the jiffy the wheel expires a timer at, its level)."""
    depth = 9 if hz > 100 else 8

    def lvl_start(n):
        return (LVL_SIZE - 1) << ((n - 1) * LVL_CLK_SHIFT)
    delta = (expires - clk) & MASK64
    for lvl in range(depth - 1):
        if delta < lvl_start(lvl + 1):
            shift = lvl * LVL_CLK_SHIFT
            return (((expires >> shift) + 1) << shift) & MASK64, lvl
    if delta >> 63:
        return clk, 0
    cutoff = lvl_start(depth)
    if delta >= cutoff:
        expires = clk + cutoff - (1 << ((depth - 1) * LVL_CLK_SHIFT))
    shift = (depth - 1) * LVL_CLK_SHIFT
    return (((expires >> shift) + 1) << shift) & MASK64, depth - 1


class Task:
    """One task: its task_struct, its stack and what the scheduler knows of it."""

    def __init__(self, comm, kind, ts, lo, hi, pid, owner=None):
        self.comm, self.kind, self.ts, self.lo, self.hi, self.pid = comm, kind, ts, lo, hi, pid
        self.owner = owner               # the module whose code the task runs
        self.state = NEW
        self.regs = None                 # saved registers while not running
        self.start = None                # (fn, args): a fresh call on the task's stack
        self.pending = []                # the task's machine.pending (waiting generators)
        self.entry = None                # what k.current_entry is while it runs
        self.preempt = 0
        self.irq_flags = 0
        self.label = ""                  # what it sleeps in
        self.caller = 0                  # the module's return address of that call
        self.has_timeout = False
        self.blocked_since = 0
        self.busy_until = 0
        self.locks = []                  # LockRecords, in acquisition order
        self.rcu_nesting = 0
        self.sigkill = False
        self.item = None                 # softirq: the running SoftItem
        self.on_return = None            # fn(task, rax) when the task's function returns
        self.on_abort = None             # fn(task) when an emulation ended while it ran
        self.can_start = None            # fn(task) -> bool, to fill ``start`` when picked
        self.swait = 0                   # a struct swait_queue for completions
        self.data = {}                   # per-subsystem state (kthread, worker)

    def __repr__(self):
        return f"<Task {self.comm}/{self.pid} {self.state}>"


class Event:
    """Something due at a virtual time: a timer, a timeout, the end of an idle period."""
    __slots__ = ("key", "fire_ns", "order", "action")

    def __init__(self, key, fire_ns, order, action):
        self.key, self.fire_ns, self.order, self.action = key, fire_ns, order, action


class SoftItem:
    """A callback for the softirq context; ``prepare()`` returns (fn, args) or None."""
    __slots__ = ("prio", "seq", "kind", "prepare", "done", "entry", "owner", "offset",
                 "irqs_on", "obj")

    def __init__(self, prio, kind, prepare, done=None, entry="", owner=None, offset=None,
                 irqs_on=True, obj=None):
        self.prio, self.kind, self.prepare, self.done = prio, kind, prepare, done
        self.entry, self.owner, self.offset, self.irqs_on, self.obj = entry, owner, offset, \
            irqs_on, obj
        self.seq = 0

    def __lt__(self, other):
        return (self.prio, self.seq) < (other.prio, other.seq)


class Scheduler:
    """The run queue, the clock's events and the task switching of one CPU."""

    def __init__(self, k):
        from kemu.stubs.arch.x86.kernel.paravirt import CpuState
        from kemu.stubs.arch.x86.kernel.percpu import CurrentTask
        self.k = k
        m = self.m = k.machine
        t = k.target
        c = t.const
        self.TASK_RUNNING = c("TASK_RUNNING")
        self.TASK_INTERRUPTIBLE = c("TASK_INTERRUPTIBLE")
        self.TASK_UNINTERRUPTIBLE = c("TASK_UNINTERRUPTIBLE")
        self.TASK_WAKEKILL = c("TASK_WAKEKILL")
        self.TASK_KILLABLE = c("TASK_KILLABLE")
        self.TASK_NORMAL = c("TASK_NORMAL")
        self.TASK_IDLE = c("TASK_IDLE")
        self.TASK_PARKED = c("TASK_PARKED")
        self.TASK_DEAD = c("TASK_DEAD")
        self.MAX_SCHEDULE_TIMEOUT = c("MAX_SCHEDULE_TIMEOUT")
        self.INITIAL_JIFFIES = c("INITIAL_JIFFIES")
        self.NEED_RESCHED = c("PREEMPT_NEED_RESCHED")
        self.SOFTIRQ_OFFSET = c("SOFTIRQ_OFFSET")
        self.HARDIRQ_OFFSET = c("HARDIRQ_OFFSET")
        self.SOFTIRQ_DISABLE_OFFSET = c("SOFTIRQ_DISABLE_OFFSET")
        self.SOFTIRQ_MASK = c("SOFTIRQ_MASK")
        self.HARDIRQ_MASK = c("HARDIRQ_MASK")
        self.PREEMPT_MASK = c("PREEMPT_MASK")
        self.INTERRUPT_MASK = c("SOFTIRQ_MASK") | c("HARDIRQ_MASK") | c("NMI_MASK")
        self.SIGPENDING_BITS = (1 << c("TIF_SIGPENDING")) | (1 << c("TIF_NOTIFY_SIGNAL"))
        self.TIF_SIGPENDING = 1 << c("TIF_SIGPENDING")
        self.TIF_NOTIFY_SIGNAL = 1 << c("TIF_NOTIFY_SIGNAL")
        self.IF = c("X86_EFLAGS_IF")
        self.off_state = t.offset("task_struct.__state")
        self.off_tif = t.offset("task_struct.thread_info") + t.offset("thread_info.flags")
        self.tick_ns = NSEC_PER_SEC // k.HZ
        self.cpu = k.model(CpuState)
        self.block_addr = m.add_slot("__kemu_block", self._on_block)
        self.return_addr = m.add_slot("__kemu_task_return", self._on_task_return)
        self.idle_addr = m.add_slot("__kemu_idle", self._on_idle)
        self.current_task_addr = m.percpu_addr + k.export_addr("current_task")
        self.preempt_addr = m.percpu_addr + k.export_addr("__preempt_count")
        self.top_of_stack_addr = m.percpu_addr + k.export_addr("cpu_current_top_of_stack")
        self.preempt_base = m.read_u32(self.preempt_addr) & self.NEED_RESCHED
        main = self.main = Task("insmod", "main", k.model(CurrentTask).addr, m.stack_addr,
                                m.stack_addr + THREAD_SIZE, 1)
        main.state = RUNNING
        main.irq_flags = self.IF
        main.preempt = self.preempt_base
        main.pending = m.pending
        self.cur = main
        self.tasks = [main]
        self.by_ts = {main.ts: main}
        self.runq = collections.deque()
        self.events: dict = {}
        self.soft_ready: list = []
        self.busy = None
        self.seq = 0
        self.next_pid = 100
        self.clock_seen = k.clock_ns
        self.jiffies_addrs: list[tuple[int, int]] = []   # (addr, size) of jiffies data
        self.last_read_ns = -1            # the clock at module code's last read of it
        self.idle_hooks: list = []        # (pending() -> bool, run() -> bool)
        self.sleep_hooks: list = []       # fn(task) when a task goes to sleep
        self.gone_hooks: list = []        # fn(module) when a module is going away
        self.task_hooks: list = []        # fn(task, alive) when a task is created or dies
        self.warned: set = set()
        self._req = None
        self._idle_target = 0
        self.softirq = self.new_task("ksoftirqd/0", "softirq")
        self.softirq.state = IDLE
        k.clock_listeners.append(self._on_clock)
        k.state_listeners.append(self._on_module_state)
        k.runnable_checks.append(self.runnable_now)

    # ------------------------------------------------------------ tasks
    def new_task(self, comm: str, kind: str, owner=None, state: int | None = None) -> Task:
        """A task with its own task_struct (a copy of insmod's) and kernel stack."""
        m, t = self.m, self.k.target
        size = t.sizeof("task_struct")
        ts = m.alloc_kdata(size, 64)
        m.write(ts, m.read(self.main.ts, size))
        lo = m.vmalloc.map(THREAD_SIZE, guard=PAGE_SIZE)
        pid = self.next_pid
        self.next_pid += 1
        comm_len = t.const("TASK_COMM_LEN")
        m.write(ts + t.offset("task_struct.comm"),
                comm.encode()[:comm_len - 1].ljust(comm_len, b"\0"))
        m.write_u32(ts + t.offset("task_struct.pid"), pid)
        m.write_u32(ts + t.offset("task_struct.tgid"), pid)
        m.write_u64(ts + t.offset("task_struct.stack"), lo)
        m.write_u32(ts + t.offset("task_struct.flags"), t.const("PF_KTHREAD"))
        m.write_u32(ts + t.offset("task_struct.usage"), 1)
        if t.has_offset("task_struct.rcu_read_lock_nesting"):          # PREEMPT_RCU
            m.write_u32(ts + t.offset("task_struct.rcu_read_lock_nesting"), 0)
        m.write_u64(ts + self.off_tif, 0)
        for member in ("mm", "active_mm"):
            m.write_u64(ts + t.offset(f"task_struct.{member}"), 0)
        m.write_u32(ts + self.off_state,
                    self.TASK_UNINTERRUPTIBLE if state is None else state)
        task = Task(comm[:comm_len - 1], kind, ts, lo, lo + THREAD_SIZE, pid, owner)
        task.preempt = self.preempt_base
        task.irq_flags = self.IF
        task.entry = Entry(comm, owner)
        self.tasks.append(task)
        self.by_ts[ts] = task
        for hook in list(self.task_hooks):
            hook(task, True)
        return task

    def task_of(self, ts: int) -> Task | None:
        """The task whose task_struct is at ``ts``."""
        return self.by_ts.get(ts)

    def current(self) -> Task:
        """The task running now (found by the stack pointer); call from hooks only."""
        rsp = self.m.reg("rsp")
        main = self.main
        if main.lo <= rsp < main.hi:
            if self.cur is not main or self.k.current_entry is not main.entry:
                self._new_entry()
            return main
        cur = self.cur
        if cur.lo <= rsp < cur.hi:
            return cur
        for task in self.tasks:
            if task.lo <= rsp < task.hi:
                self.cur = task
                return task
        return main

    def _new_entry(self) -> None:
        """A new entry runs on insmod's stack: forget what an aborted emulation left."""
        main, old = self.main, self.cur
        m = self.m
        if old is not main and old.state == RUNNING:
            self._abort(old)
        if self.busy is main:
            self.busy = None
        self.runq = collections.deque(t for t in self.runq if t is not main)
        for key in [key for key in self.events if key[-1] is main]:
            del self.events[key]
        self.events.pop(("idle",), None)
        main.state = RUNNING
        main.regs = None
        main.pending = m.pending
        main.entry = self.k.current_entry
        main.sigkill = False
        main.label = ""
        m.write_u32(main.ts + self.off_state, self.TASK_RUNNING)
        tif = m.read_u64(main.ts + self.off_tif)
        m.write_u64(main.ts + self.off_tif, tif & ~self.SIGPENDING_BITS)
        if old is not main:
            m.write_u32(self.preempt_addr, main.preempt)
            self.cpu.irq_flags = main.irq_flags
        self.cur = main
        m.write_u64(self.current_task_addr, main.ts)
        m.write_u64(self.top_of_stack_addr, main.hi)

    def _abort(self, task: Task) -> None:
        """An emulation ended (a fault) while ``task`` ran: it does not come back."""
        if task.on_abort:
            task.on_abort(task)
        if task.kind == "softirq":
            task.state, task.item, task.regs, task.start = IDLE, None, None, None
            task.pending = []
            return
        if task.state != DEAD:
            self.kill(task)

    def kill(self, task: Task) -> None:
        """Take a task off the CPU for good."""
        task.state = DEAD
        task.regs = task.start = None
        task.pending = []
        self.runq = collections.deque(t for t in self.runq if t is not task)
        for key in [key for key in self.events if key[-1] is task]:
            del self.events[key]
        if self.busy is task:
            self.busy = None
        self.m.write_u32(task.ts + self.off_state, self.TASK_DEAD)
        for hook in list(self.task_hooks):
            hook(task, False)

    def _save(self, task: Task) -> None:
        m = self.m
        task.regs = m.registers()
        task.pending = m.pending
        task.entry = self.k.current_entry
        task.preempt = m.read_u32(self.preempt_addr)
        task.irq_flags = self.cpu.irq_flags

    def _load(self, task: Task) -> None:
        """Make ``task`` the running one: its registers, stack, current and preempt count."""
        m = self.m
        self.cur = task
        task.state = RUNNING
        m.pending = task.pending
        m.write_u64(self.current_task_addr, task.ts)
        m.write_u64(self.top_of_stack_addr, task.hi)
        m.write_u32(self.preempt_addr, task.preempt)
        self.cpu.irq_flags = task.irq_flags
        self.k.current_entry = task.entry
        regs = task.regs
        if regs is not None:
            task.regs = None
            for name, value in regs.items():
                if name not in ("rip", "rsp", "rax"):
                    m.set_reg(name, value)
            rsp = regs["rsp"]
            m.set_reg("rax", 0)
            m.set_reg("rip", m.read_u64(rsp))
            m.set_reg("rsp", rsp + 8)
            return
        fn, args = task.start
        task.start = None
        rsp = task.hi - 64 - 8
        m.write_u64(rsp, self.return_addr)
        m.set_reg("rsp", rsp)
        m.set_reg("rbp", 0)
        for reg, value in zip(("rdi", "rsi", "rdx", "rcx", "r8", "r9"), args):
            m.set_reg(reg, value)
        m.set_reg("rip", fn)

    # ------------------------------------------------------- task state
    def get_state(self, task: Task) -> int:
        return self.m.read_u32(task.ts + self.off_state)

    def set_state(self, task: Task, state: int) -> None:
        self.m.write_u32(task.ts + self.off_state, state)

    def signal_pending(self, task: Task) -> bool:
        return bool(self.m.read_u64(task.ts + self.off_tif) & self.SIGPENDING_BITS)

    def signal_pending_state(self, state: int, task: Task) -> bool:
        """signal_pending_state(): would a sleep in ``state`` be interrupted now?"""
        if not state & (self.TASK_INTERRUPTIBLE | self.TASK_WAKEKILL):
            return False
        if not self.signal_pending(task):
            return False
        return bool(state & self.TASK_INTERRUPTIBLE) or task.sigkill

    def set_tif(self, task: Task, bits: int, on: bool = True) -> None:
        addr = task.ts + self.off_tif
        value = self.m.read_u64(addr)
        self.m.write_u64(addr, value | bits if on else value & ~bits)

    def send_sigkill(self, task: Task) -> None:
        """What a fatal signal does to a sleeper: pending, and woken if it can be."""
        task.sigkill = True
        self.set_tif(task, self.TIF_SIGPENDING)
        self.ttwu(task, self.TASK_INTERRUPTIBLE | self.TASK_WAKEKILL)

    def preempt_count(self) -> int:
        return self.m.read_u32(self.preempt_addr) & ~self.NEED_RESCHED

    def add_preempt(self, delta: int) -> None:
        value = self.m.read_u32(self.preempt_addr)
        self.m.write_u32(self.preempt_addr, (value + delta) & 0xFFFFFFFF)

    def irqs_disabled(self) -> bool:
        return not self.cpu.irq_flags & self.IF

    def in_interrupt(self) -> bool:
        return bool(self.preempt_count() & self.INTERRUPT_MASK)

    def in_atomic(self) -> bool:
        return bool(self.preempt_count()) or self.irqs_disabled()

    def ttwu(self, task: Task | None, mode: int) -> int:
        """try_to_wake_up(): RUNNING if its state matches ``mode``; onto the run queue."""
        if task is None or task.state == DEAD:
            return 0
        if not self.get_state(task) & mode:
            return 0
        self.set_state(task, self.TASK_RUNNING)
        if task.state in (BLOCKED, NEW) and task.label != "idle":
            task.state = RUNNABLE
            self.runq.append(task)
        return 1

    def wake_up_process(self, task: Task | None) -> int:
        return self.ttwu(task, self.TASK_NORMAL)

    # ------------------------------------------------------ sleeping
    def block_request(self, kind: str, *args):
        """What a generator yields to leave the CPU: ("sleep",), ("yield",), ("busy", until)."""
        self._req = (kind, *args)
        return self.k.call_request(self.block_addr)

    def schedule(self, label: str = "schedule", has_timeout: bool = False, caller: int = 0):
        """schedule() (a generator): sleep unless the current state is TASK_RUNNING."""
        self.m.check_deadline()          # a model's sleep loop ends at the entry's budget
        task = self.current()
        state = self.get_state(task)
        if state == self.TASK_RUNNING:
            if self.runq or self.soft_ready:
                yield self.block_request("yield")
            else:                       # spinning on schedule(): time passes until something
                nxt = self.next_event_ns()
                if nxt is not None and nxt > self.k.clock_ns and not self.in_atomic():
                    yield self.block_request("busy", nxt)
            return
        if self.signal_pending_state(state, task):
            self.set_state(task, self.TASK_RUNNING)
            return
        self._check_sleep(task, label)
        task.label, task.caller, task.has_timeout = label, caller, has_timeout
        task.blocked_since = self.k.clock_ns
        yield self.block_request("sleep")

    def schedule_timeout(self, timeout: int, label: str = "schedule_timeout", caller: int = 0):
        """schedule_timeout() (a generator): returns the jiffies left."""
        k = self.k
        if timeout == self.MAX_SCHEDULE_TIMEOUT:
            yield from self.schedule(label, caller=caller)
            return timeout
        task = self.current()
        if timeout < 0:
            k.log.emit(KERN_ERR, f"schedule_timeout: wrong timeout value {timeout & MASK64:x}")
            self.set_state(task, self.TASK_RUNNING)
            return 0
        expire = (timeout + k.jiffies()) & MASK64
        key = ("timeout", task)
        self.arm_wheel(key, expire, lambda: self.wake_up_process(task))
        yield from self.schedule(label, has_timeout=True, caller=caller)
        self.events.pop(key, None)
        return max(signed64(expire - k.jiffies()), 0)

    def schedule_hrtimeout(self, expires_ns: int, label: str, caller: int = 0):
        """An hrtimer sleeper until ``expires_ns`` (CLOCK_MONOTONIC): 0 if it expired, -EINTR."""
        task = self.current()
        key = ("hrsleep", task)
        fired = []

        def wake():
            fired.append(True)
            self.wake_up_process(task)
        self.arm_hr(key, expires_ns, wake)
        yield from self.schedule(label, has_timeout=True, caller=caller)
        self.events.pop(key, None)
        return 0 if fired else -errno.EINTR

    def yield_cpu(self):
        """yield(): let every other runnable task run first (a generator)."""
        self.current()
        if self.runq or self.soft_ready:
            yield self.block_request("yield")

    def delay(self, ns: int):
        """A busy wait of ``ns`` (a generator): only interrupts (softirqs) may run meanwhile."""
        k = self.k
        task = self.current()
        target = k.clock_ns + max(0, ns)
        if self.in_atomic() or task.kind == "softirq" or \
                not (self.soft_ready or self._due_by(target)):
            self.set_clock(target)
            return
        yield self.block_request("busy", target)

    def run_softirqs(self):
        """do_softirq() from process context (local_bh_enable): a generator."""
        if self.soft_ready and not self.in_interrupt() and not self.irqs_disabled() \
                and self.current().kind != "softirq":
            yield self.block_request("busy", self.k.clock_ns)

    def _check_sleep(self, task: Task, label: str) -> None:
        k = self.k
        count = self.preempt_count()
        module = task.entry.module if task.entry else None
        if count:
            from kemu.stubs.kernel.module import print_modules
            k.log.emit(KERN_ERR, f"BUG: scheduling while atomic: {task.comm}/{task.pid}/"
                          f"0x{(count + 1) & 0xFFFFFFFF:08x}")
            k.log.emit(KERN_WARNING, print_modules(k))
            k.add_taint("W", lockdep_unreliable=False)
            k.finding("sleep-in-atomic", f"{task.comm}/{task.pid} sleeps in {label} in atomic "
                      f"context (preempt_count {count:#x}{self._held_text(task)})", module)
        elif self.irqs_disabled():
            k.finding("sleep-in-atomic", f"{task.comm}/{task.pid} sleeps in {label} with "
                      "interrupts disabled", module)
        if task.rcu_nesting > 0 and "rcu-switch" not in self.warned:
            self.warned.add("rcu-switch")
            k.log.emit(KERN_WARNING, "------------[ cut here ]------------")
            k.log.emit(KERN_WARNING, "Voluntary context switch within RCU read-side critical section!")
            k.add_taint("W", lockdep_unreliable=False)
            k.finding("rcu", f"{task.comm}/{task.pid} sleeps in {label} inside an RCU "
                      "read-side critical section", module)

    @staticmethod
    def _held_text(task: Task) -> str:
        if not task.locks:
            return ""
        return ", holding " + ", ".join(str(r) for r in task.locks)

    # ------------------------------------------------------- switching
    def _on_block(self) -> None:
        task = self.current()
        req, self._req = self._req, None
        self._save(task)
        kind = req[0]
        if kind == "sleep":
            task.state = BLOCKED
            for hook in self.sleep_hooks:
                hook(task)
        elif kind == "yield":
            task.state = RUNNABLE
            self.runq.append(task)
        elif kind == "busy":
            task.state = BUSY
            task.busy_until = req[1]
            self.busy = task
        elif kind == "exit":
            self.kill(task)
            task.regs = None
        else:
            raise RuntimeError(f"unknown block request {req!r}")
        self._load(self._pick())

    def _on_task_return(self) -> None:
        """A task's function returned (a kthread's threadfn, a work item, a softirq callback)."""
        task = self.current()
        rax = self.m.reg("rax")
        if task.kind == "softirq":
            item, task.item = task.item, None
            task.state = IDLE
            if item is not None and item.done:
                item.done(rax, self.preempt_count())
            task.preempt = self.preempt_base
        elif task.on_return:
            task.on_return(task, rax)
        else:
            self.kill(task)
        if task.state == RUNNABLE and task.start is not None:
            if not self.soft_ready:
                self._load(task)           # a worker goes on with its next item
                return
            self.runq.appendleft(task)
        self._load(self._pick())

    def _on_idle(self) -> None:
        """The CPU is idle until ``_idle_target`` (entered from k.advance())."""
        task = self.current()
        self._save(task)
        task.state, task.label = BLOCKED, "idle"
        self.arm_event(("idle",), self._idle_target, PRIO_IDLE, self._end_idle)
        self._load(self._pick())

    def _end_idle(self) -> None:
        main = self.main
        main.label = ""
        main.state = RUNNABLE
        self.runq.append(main)

    def _pick(self) -> Task:
        """The next task to run; moves the clock and fires events while nothing can run."""
        k = self.k
        while True:
            k.machine.check_deadline()
            now = k.clock_ns
            if now != self.clock_seen:
                self.set_clock(now)
            self._fire_due(now)
            soft = self.softirq
            if self.soft_ready and soft.state == IDLE and self._start_soft_item():
                return soft
            busy = self.busy
            if busy is not None:
                if now >= busy.busy_until:
                    self.busy = None
                    return busy
                nxt = self.next_event_ns()
                self.set_clock(busy.busy_until if nxt is None else min(nxt, busy.busy_until))
                continue
            picked = None
            while self.runq:
                task = self.runq.popleft()
                if task.state != RUNNABLE:
                    continue
                if task.regs is None and task.start is None and \
                        not (task.can_start and task.can_start(task)):
                    continue
                picked = task
                break
            if picked is not None:
                return picked
            progress = False
            for pending, run in self.idle_hooks:
                if pending():
                    progress = run() or progress
            if progress:
                continue
            nxt = self.next_event_ns()
            main = self.main
            if main.state == BLOCKED and main.label != "idle" and not main.has_timeout:
                limit = main.blocked_since + HUNG_TASK_TIMEOUT_S * NSEC_PER_SEC
                if nxt is None or nxt > limit:
                    self._stuck(main, forever=nxt is None)
                    continue
            if nxt is None:
                raise Deadlock("kemu: no task can run and nothing is pending")
            self.set_clock(nxt)

    def _stuck(self, task: Task, forever: bool) -> None:
        """Nothing will wake ``task``: SIGKILL for an interruptible sleep, else Deadlock."""
        k = self.k
        module = task.entry.module if task.entry else None
        where = f" (called from {k.format_addr(task.caller)})" if task.caller else ""
        state = self.get_state(task)
        what = "nothing left can wake it" if forever else \
            f"nothing woke it for {HUNG_TASK_TIMEOUT_S} seconds"
        if state & (self.TASK_INTERRUPTIBLE | self.TASK_WAKEKILL):
            k.finding("deadlock", f"{task.comm}/{task.pid} sleeps in {task.label}{where} and "
                      f"{what}; kemu kills it (SIGKILL)", module)
            self.send_sigkill(task)
            if task.state == BLOCKED:        # the state did not match: it cannot be woken
                raise Deadlock(f"task {task.comm}:{task.pid} blocked forever in {task.label}")
            return
        if forever:
            self.set_clock(max(k.clock_ns,
                               task.blocked_since + HUNG_TASK_TIMEOUT_S * NSEC_PER_SEC))
        self.hung_task_report(task)
        k.finding("deadlock", f"{task.comm}/{task.pid} blocked in {task.label}{where}: {what}",
                  module)
        raise Deadlock(f"task {task.comm}:{task.pid} blocked forever in {task.label}{where}")

    def hung_task_report(self, task: Task) -> None:
        """check_hung_task()'s report."""
        k = self.k
        secs = max(HUNG_TASK_TIMEOUT_S, (k.clock_ns - task.blocked_since) // NSEC_PER_SEC)
        k.log.emit(KERN_ERR, f"INFO: task {task.comm}:{task.pid} blocked for more than {secs} seconds.")
        k.log.emit(KERN_ERR, f"      {k.taint_string()} {k.target.release} #1")
        k.log.emit(KERN_ERR, '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.')
        k.log.emit(KERN_INFO, f"task:{task.comm:<15.15} state:D stack:0     pid:{task.pid:<5d} "
                      "ppid:2      flags:0x00004000")

    def deadlock_now(self, task: Task, label: str, message: str, interruptible: bool) -> bool:
        """A wait that can never end (a lock the task holds itself).

        Interruptible: a finding, and True (the caller returns -EINTR as if killed).
        Otherwise the hung-task report and :class:`Deadlock`.
        """
        k = self.k
        module = task.entry.module if task.entry else None
        k.finding("self-deadlock", message, module)
        if interruptible:
            return True
        task.blocked_since = k.clock_ns
        self.set_clock(k.clock_ns + HUNG_TASK_TIMEOUT_S * NSEC_PER_SEC)
        self.hung_task_report(task)
        raise Deadlock(f"{message}: task {task.comm}:{task.pid} blocked forever in {label}")

    def soft_lockup(self, task: Task, message: str) -> None:
        """A spin that can never end on one CPU: a finding and :class:`Lockup` (whose
        report is the soft-lockup watchdog's)."""
        module = task.entry.module if task.entry else None
        self.k.finding("self-deadlock", message, module)
        raise Lockup(message)

    # ------------------------------------------------------------ softirq
    def raise_softirq(self, item: SoftItem) -> None:
        self.seq += 1
        item.seq = self.seq
        heapq.heappush(self.soft_ready, item)

    def _start_soft_item(self) -> bool:
        soft = self.softirq
        while self.soft_ready:
            item = heapq.heappop(self.soft_ready)
            call = item.prepare()
            if call is None:
                continue
            offset = item.offset if item.offset is not None else self.SOFTIRQ_OFFSET
            soft.item = item
            soft.preempt = self.preempt_base | offset
            soft.irq_flags = self.IF if item.irqs_on else 0
            soft.entry = Entry(item.entry, item.owner)
            soft.start = call
            soft.state = RUNNABLE
            return True
        return False

    def in_timer_callback(self) -> bool:
        cur = self.cur
        return cur.kind == "softirq" and cur.item is not None and cur.item.kind == "timer"

    # -------------------------------------------------------------- clock
    def set_clock(self, ns: int) -> None:
        """Move the clock forward (never back) and update jiffies."""
        k = self.k
        if ns > k.clock_ns:
            k.clock_ns = ns
        self.clock_seen = k.clock_ns
        if self.jiffies_addrs:
            j = k.jiffies()
            for addr, size in self.jiffies_addrs:
                self.m.write(addr, (j & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))

    def poll_clock(self) -> None:
        """Module code reads a clock (ktime_get() and friends, or a load of
        ``jiffies``). kemu cannot see the time pure computation takes, so a
        clock that has not moved since the previous read moves on by 1/16 of
        a tick first: a polling loop (``while (jiffies == j0) cpu_relax();``,
        a benchmark timing its own computation) ends, and runs stay
        deterministic."""
        if self.k.clock_ns == self.last_read_ns:
            self.set_clock(self.k.clock_ns + self.tick_ns // 16)
        self.last_read_ns = self.k.clock_ns

    def jiffy_ns(self, j: int) -> int:
        """The clock time at which jiffies becomes ``j``."""
        return signed64(j - self.INITIAL_JIFFIES) * self.tick_ns

    def arm_event(self, key, fire_ns: int, prio: int, action, sub=(0, 0)) -> None:
        self.seq += 1
        self.events[key] = Event(key, fire_ns, (fire_ns, prio, *sub, self.seq), action)

    def arm_wheel(self, key, expires: int, action, prio: int = PRIO_TIMER) -> int:
        """Arm a timer-wheel event for ``expires`` (jiffies); returns when it fires (ns)."""
        k = self.k
        now_j = k.jiffies()
        clk = now_j + 1 if self.in_timer_callback() else now_j
        bucket, level = wheel_bucket(expires & MASK64, clk, k.HZ)
        fire_j = bucket if signed64(bucket - now_j) > 0 else now_j + 1
        fire_ns = self.jiffy_ns(fire_j)
        self.seq += 1
        # one bucket expires from the most recently added timer; higher levels first
        self.events[key] = Event(key, fire_ns, (fire_ns, prio, -level, -self.seq), action)
        return fire_ns

    def arm_hr(self, key, fire_ns: int, action, prio: int = PRIO_HARDIRQ) -> None:
        self.arm_event(key, max(fire_ns, self.k.clock_ns), prio, action)

    def disarm(self, key):
        return self.events.pop(key, None)

    def next_event_ns(self):
        return min((e.fire_ns for e in self.events.values()), default=None)

    def _due_by(self, ns: int) -> bool:
        return any(e.fire_ns <= ns for e in self.events.values())

    def _fire_due(self, now: int) -> None:
        for _ in range(8):
            due = [e for e in self.events.values() if e.fire_ns <= now]
            if not due:
                return
            due.sort(key=lambda e: e.order)
            for event in due:
                if self.events.get(event.key) is event:
                    del self.events[event.key]
                    event.action()

    def has_work(self, until: int) -> bool:
        """Whether running idle until ``until`` would do anything."""
        return bool(self.runq or self.soft_ready or self.busy or self._due_by(until)
                    or any(pending() for pending, _ in self.idle_hooks))

    def runnable_now(self) -> bool:
        """Whether a task, a softirq or work can run without the clock moving."""
        now = self.k.clock_ns
        return bool(self.soft_ready or self._due_by(now)
                    or any(t.state == RUNNABLE for t in self.runq)
                    or any(pending() for pending, _ in self.idle_hooks))

    def _on_clock(self, k) -> None:
        """k.advance(): run the CPU idle until the new time."""
        target = k.clock_ns
        if self.m.running:              # moved from inside a hook: caught up at the next switch
            self.set_clock(target)
            return
        k.clock_ns = min(self.clock_seen, target)
        if not self.has_work(target):
            self.set_clock(target)
            return
        self._idle_target = target
        try:
            k.call(self.idle_addr, entry="idle")
        finally:
            self.events.pop(("idle",), None)
            if k.clock_ns < target:
                self.set_clock(target)

    def _on_module_state(self, mod) -> None:
        if mod.state != ModuleState.GOING:
            return
        for hook in list(self.gone_hooks):
            hook(mod)
        for task in self.tasks:
            if task.owner is mod and task.state != DEAD:
                self.kill(task)

    def owner_of(self, addr: int):
        """The module whose memory holds ``addr`` (a callback), or None."""
        return self.k.module_containing(addr) if addr else None

    def symbol(self, addr: int) -> str:
        """A callback's name as %ps prints it."""
        hit = self.k.symbolize(addr)
        return hit[0] if hit else f"{addr:#x}"


def sched(k) -> Scheduler:
    """The kernel's scheduler model."""
    return k.model(Scheduler)


def caller(k) -> int:
    """The return address of the export being run (for reports)."""
    return k.machine.read_u64(k.machine.reg("rsp"))


# ---------------------------------------------------------------- exports
@export("int _cond_resched(void)", until="6.1")      # 5.10's name
@export("int __cond_resched(void)")
def __cond_resched(k):
    return 0


@export("void preempt_schedule(void)")
def preempt_schedule(k):
    pass


@export("void preempt_schedule_notrace(void)")
def preempt_schedule_notrace(k):
    pass


@export("void __might_sleep(const char *file, int line)")
def __might_sleep(k, file, line):
    pass


@export("void __might_fault(const char *file, int line)")
def __might_fault(k, file, line):
    pass


@export("int __cond_resched_lock(spinlock_t *lock)")
def __cond_resched_lock(k, lock):
    return 0


@export("int __cond_resched_rwlock_read(rwlock_t *lock)")
def __cond_resched_rwlock_read(k, lock):
    return 0


@export("int __cond_resched_rwlock_write(rwlock_t *lock)")
def __cond_resched_rwlock_write(k, lock):
    return 0


@export("void schedule(void)")
def schedule(k):
    yield from sched(k).schedule("schedule", caller=caller(k))


@export("void io_schedule(void)")
def io_schedule(k):
    yield from sched(k).schedule("io_schedule", caller=caller(k))


@export("void schedule_preempt_disabled(void)")
def schedule_preempt_disabled(k):
    s = sched(k)
    s.add_preempt(-1)
    yield from s.schedule("schedule_preempt_disabled", caller=caller(k))
    s.add_preempt(1)


@export("long schedule_timeout(long timeout)")
def schedule_timeout(k, timeout):
    return (yield from sched(k).schedule_timeout(timeout, caller=caller(k)))


@export("long io_schedule_timeout(long timeout)")
def io_schedule_timeout(k, timeout):
    return (yield from sched(k).schedule_timeout(timeout, "io_schedule_timeout", caller(k)))


def _schedule_timeout_state(name, state_name):
    @export(f"long {name}(long timeout)")
    def fn(k, timeout):
        s = sched(k)
        s.set_state(s.current(), k.target.const(state_name))
        return (yield from s.schedule_timeout(timeout, name, caller(k)))
    fn.__name__ = name
    return fn


for _name, _state in (("schedule_timeout_interruptible", "TASK_INTERRUPTIBLE"),
                      ("schedule_timeout_killable", "TASK_KILLABLE"),
                      ("schedule_timeout_uninterruptible", "TASK_UNINTERRUPTIBLE"),
                      ("schedule_timeout_idle", "TASK_IDLE")):
    _schedule_timeout_state(_name, _state)


@export("int wake_up_process(struct task_struct *p)")
def wake_up_process(k, p):
    s = sched(k)
    return s.wake_up_process(s.task_of(p))


@export("void yield(void)")
def yield_(k):
    yield from sched(k).yield_cpu()


@export("void __put_task_struct(struct task_struct *t)")
def __put_task_struct(k, t):
    pass


@export("void set_user_nice(struct task_struct *p, long nice)")
def set_user_nice(k, p, nice):
    pass


@export("void sched_set_fifo(struct task_struct *p)")
def sched_set_fifo(k, p):
    pass


@export("void sched_set_fifo_low(struct task_struct *p)")
def sched_set_fifo_low(k, p):
    pass


@export("void sched_set_normal(struct task_struct *p, int nice)")
def sched_set_normal(k, p, nice):
    pass


@export("bool preempt_model_none(void)")
def preempt_model_none(k):
    return False


@export("bool preempt_model_voluntary(void)")
def preempt_model_voluntary(k):
    return True


@export("bool preempt_model_full(void)")
def preempt_model_full(k):
    return False
