"""kernel/pid.c, kernel/pid_namespace.c: struct pid for kemu's tasks, in the initial namespace.

Only ``init_pid_ns`` exists (level 0). Each task gets its ``struct pid``
(``task_struct.thread_pid``, holding one reference) before module code runs;
a PID number resolves to the task that has it (insmod is PID 1, kernel
threads and workers from 100). The process group and session of insmod are
its own (PID 1, like init), a kernel thread's are 0 (``init_struct_pid``, as
kthreadd's children). ``put_pid`` of the last reference releases the pid.
"""
from __future__ import annotations

from kemu import data, export
from kemu.abi.exports import kernel_function, members, module_notifier

from kemu.abi.toolkit import init_list_head, rd, wr
from .sched.core import sched

members("struct task_struct", "usage", "thread_pid")
members("struct wait_queue_head", "head")
members("struct ns_common", "inum", "stashed", "ops", "count")
members("struct pid", "count", "level", "wait_pidfd", "lock", "tasks", "inodes", "rcu")
members("struct upid", "nr", "ns")
members("struct pid_namespace", "pid_allocated", "child_reaper", "level", "user_ns", "ns",
        "ns.count|kref", "idr", "parent")

PIDNS_ADDING = 1 << 31
PROC_PID_INIT_INO = 0xEFFFFFFC
INIT_STRUCT_PID_COUNT = 1


def numbers(k) -> int:
    """offsetof(struct pid, numbers): the flexible upid array ends the struct."""
    return k.target.sizeof("pid")


class Pids:
    """The struct pid of each PID number in use (0 is init_struct_pid)."""

    def __init__(self, k):
        self.k = k
        self.by_nr: dict[int, int] = {}
        self.nr_of: dict[int, int] = {}
        self.by_nr[0] = self._new(0)
        wr(k, self.by_nr[0], "pid.count", INIT_STRUCT_PID_COUNT, 4)

    def _new(self, nr: int) -> int:
        """A struct pid in kernel memory (the kernel's pid_cachep; not any module's)."""
        k, t = self.k, self.k.target
        size = t.sizeof("pid") + t.sizeof("upid")       # numbers[1]: level 0
        pid = k.machine.alloc_kdata(size, 8)
        wr(k, pid, "pid.count", 1, 4)
        wr(k, pid, "pid.level", 0, 4)
        init_list_head(k, pid + t.offset("pid.wait_pidfd") + t.offset("wait_queue_head.head"))
        upid = pid + numbers(k)
        wr(k, upid, "upid.nr", nr, 4)
        wr(k, upid, "upid.ns", k.export_addr("init_pid_ns"))
        self.nr_of[pid] = nr
        return pid

    def of_task(self, task) -> int:
        """The task's struct pid (attached on first use, one reference held by the task)."""
        pid = self.by_nr.get(task.pid)
        if pid is None:
            pid = self.by_nr[task.pid] = self._new(task.pid)
            wr(self.k, task.ts, "task_struct.thread_pid", pid)
        return pid

    def nr(self, pid: int) -> int:
        return rd(self.k, pid + numbers(self.k), "upid.nr", 4)

    def get(self, pid: int) -> int:
        if pid:
            wr(self.k, pid, "pid.count", rd(self.k, pid, "pid.count", 4) + 1, 4)
        return pid

    def put(self, pid: int) -> None:
        k = self.k
        if not pid:
            return
        count = rd(k, pid, "pid.count", 4) - 1
        wr(k, pid, "pid.count", count & 0xFFFFFFFF, 4)
        if count == 0:
            nr = self.nr_of.pop(pid, None)
            if nr is not None and self.by_nr.get(nr) == pid:
                del self.by_nr[nr]          # free_pid(): the number is released


def pids(k) -> Pids:
    return k.model(Pids)


def _attach_all(k) -> None:
    P, s = pids(k), sched(k)
    for task in s.tasks:
        pid = P.by_nr.get(task.pid)
        if pid is None or rd(k, task.ts, "task_struct.thread_pid") != pid:
            wr(k, task.ts, "task_struct.thread_pid", P.of_task(task))


@module_notifier
def _pids_before_module_code(k, mod) -> None:
    _attach_all(k)


@data("struct pid_namespace init_pid_ns")
def init_pid_ns(k, addr):
    t = k.target
    wr(k, addr, "pid_namespace.pid_allocated", PIDNS_ADDING, 4)
    wr(k, addr, "pid_namespace.level", 0, 4)
    wr(k, addr, "pid_namespace.user_ns", k.export_addr("init_user_ns"))
    wr(k, addr, "pid_namespace.child_reaper", sched(k).main.ts)
    ns = addr + t.offset("pid_namespace.ns")
    wr(k, ns, "ns_common.inum", PROC_PID_INIT_INO, 4)
    wr(k, addr, "pid_namespace.ns.count", 2, 4)


def _task(k, ts: int):
    return sched(k).task_of(ts)


def _pid_of_type(k, ts: int, ptype: int) -> int:
    """task_pid_ptr(): the task's pid (PID, TGID) or its group/session's."""
    t = k.target
    task = _task(k, ts)
    P = pids(k)
    if task is None:
        return 0
    if ptype in (t.const("PIDTYPE_PID"), t.const("PIDTYPE_TGID")):
        return P.of_task(task)
    return P.of_task(task) if task is sched(k).main else P.by_nr[0]


@export("struct pid *find_pid_ns(int nr, struct pid_namespace *ns)")
def find_pid_ns(k, nr, ns):
    """The pid numbered ``nr``, or NULL (no reference taken)."""
    if ns != k.export_addr("init_pid_ns") or nr <= 0:
        return 0
    for task in sched(k).tasks:
        if task.pid == nr and task.state != "dead":
            return pids(k).of_task(task)
    return 0


@export("struct pid *find_vpid(int nr)")
def find_vpid(k, nr):
    return find_pid_ns(k, nr, k.export_addr("init_pid_ns"))


@export("struct pid *find_get_pid(pid_t nr)")
def find_get_pid(k, nr):
    return pids(k).get(find_vpid(k, nr))


@export("void put_pid(struct pid *pid)")
def put_pid(k, pid):
    pids(k).put(pid)


@export("pid_t pid_nr_ns(struct pid *pid, struct pid_namespace *ns)")
def pid_nr_ns(k, pid, ns):
    if not pid or rd(k, ns, "pid_namespace.level", 4) > rd(k, pid, "pid.level", 4):
        return 0
    upid = pid + numbers(k) + \
        rd(k, ns, "pid_namespace.level", 4) * k.target.sizeof("upid")
    return rd(k, upid, "upid.nr", 4) if rd(k, upid, "upid.ns") == ns else 0


@export("pid_t pid_vnr(struct pid *pid)")
def pid_vnr(k, pid):
    return pid_nr_ns(k, pid, k.export_addr("init_pid_ns"))


@export("pid_t __task_pid_nr_ns(struct task_struct *task, enum pid_type type, "
        "struct pid_namespace *ns)")
def __task_pid_nr_ns(k, task, ptype, ns):
    if not ns:
        ns = k.export_addr("init_pid_ns")
    return pid_nr_ns(k, _pid_of_type(k, task, ptype), ns)


@export("struct pid *get_task_pid(struct task_struct *task, enum pid_type type)")
def get_task_pid(k, task, ptype):
    return pids(k).get(_pid_of_type(k, task, ptype))


@export("struct task_struct *pid_task(struct pid *pid, enum pid_type type)")
def pid_task(k, pid, ptype):
    """The task using ``pid`` (as its PID or thread group), or NULL."""
    if not pid or ptype not in (k.target.const("PIDTYPE_PID"), k.target.const("PIDTYPE_TGID")):
        return 0
    nr = pids(k).nr_of.get(pid)
    task = next((t for t in sched(k).tasks if t.pid == nr and t.state != "dead"), None)
    return task.ts if task else 0


@kernel_function("struct task_struct *find_task_by_pid_ns(pid_t nr, struct pid_namespace *ns)")
def find_task_by_pid_ns(k, nr, ns):
    """The task numbered ``nr`` in ``ns`` (not exported: reached through kallsyms)."""
    return pid_task(k, find_pid_ns(k, nr, ns), k.target.const("PIDTYPE_PID"))


@kernel_function("struct task_struct *find_task_by_vpid(pid_t vnr)")
def find_task_by_vpid(k, vnr):
    return find_task_by_pid_ns(k, vnr, k.export_addr("init_pid_ns"))


@export("struct task_struct *get_pid_task(struct pid *pid, enum pid_type type)")
def get_pid_task(k, pid, ptype):
    ts = pid_task(k, pid, ptype)
    if ts:
        off = k.target.offset("task_struct.usage")
        k.machine.write_u32(ts + off, k.machine.read_u32(ts + off) + 1)
    return ts


@export("struct pid_namespace *task_active_pid_ns(struct task_struct *tsk)")
def task_active_pid_ns(k, tsk):
    return k.export_addr("init_pid_ns")


@export("void put_pid_ns(struct pid_namespace *ns)")
def put_pid_ns(k, ns):
    """The initial namespace is never freed (put_pid_ns() skips it)."""
