"""init/init_task.c and the task list of kernel/fork.c: ``init_task`` and
``init_task.tasks``, the list ``for_each_process()`` walks.

``init_task`` is the boot CPU's idle task as a running 6.1 kernel has it:
"swapper/0" (init_idle() renames it), PID 0, ``PF_KTHREAD | PF_NO_SETAFFINITY``, its
own parent and group leader, ``init_cred`` as both credentials. Every task
kemu runs (insmod or the command's process, ksoftirqd/0, kernel threads,
workers) is linked on ``init_task.tasks`` when it is created, as
copy_process() does with ``list_add_tail_rcu(&p->tasks, &init_task.tasks)``,
and unlinked when it dies (release_task()); kemu never relinks a task a
module took off the list (a hidden process stays hidden). Each is its own
group leader, a child of init_task.

Left out: the parent/child tree (``children``/``sibling`` are empty),
``signal_struct`` and the thread lists (``for_each_thread``), ``init_mm``,
``init_fs``, ``init_files``, the sched entities.
"""
from __future__ import annotations

from kemu import data
from kemu.abi.exports import members
from kemu.abi.toolkit import init_list_head, list_add_tail, list_del, rd, wr

from ..kernel.cred import init_cred, install_init_cred
from ..kernel.pid import pids
from ..kernel.sched.core import DEAD, sched

members("struct task_struct", "tasks", "group_leader", "real_parent", "parent", "children",
        "sibling", "static_prio", "normal_prio", "prio", "thread_pid", "flags", "usage",
        "cred", "real_cred", "comm", "pid", "tgid")
members("struct list_head", "next", "prev")

INIT_TASK_COMM = "swapper/0"        # init_idle(): "swapper/%d" of the boot CPU
INIT_TASK_USAGE = 2                 # REFCOUNT_INIT(2)
MAX_PRIO = 140                      # MAX_RT_PRIO + NICE_WIDTH


class TaskList:
    """``init_task`` and which task_structs kemu linked on its ``tasks`` list."""

    def __init__(self, k):
        self.k = k
        self.head = k.export_addr("init_task")
        self.linked: set[int] = set()
        s = sched(k)
        for task in s.tasks:
            if task.state != DEAD:
                self.fork(task, True)
        s.task_hooks.append(self.fork)

    def fork(self, task, alive: bool) -> None:
        """copy_process()'s linking of a new task; release_task()'s unlinking."""
        k = self.k
        node = task.ts + k.target.offset("task_struct.tasks")
        if alive and task.ts not in self.linked:
            wr(k, task.ts, "task_struct.group_leader", task.ts)
            for member in ("real_parent", "parent"):
                wr(k, task.ts, f"task_struct.{member}", self.head)
            for member in ("children", "sibling"):
                init_list_head(k, task.ts + k.target.offset(f"task_struct.{member}"))
            list_add_tail(k, node, self.head + k.target.offset("task_struct.tasks"))
            self.linked.add(task.ts)
        elif not alive and task.ts in self.linked:
            self.linked.discard(task.ts)
            if self._on_list(node):
                list_del(k, node)

    def _on_list(self, node: int) -> bool:
        """Is ``node`` still linked (a module may have taken it off to hide the task)?"""
        m = self.k.machine
        nxt, prev = m.read_u64(node), m.read_u64(node + 8)
        return bool(nxt and prev) and m.read_u64(prev) == node and m.read_u64(nxt + 8) == node

    def walk(self) -> list[int]:
        """The task_structs for_each_process() visits, in list order."""
        k = self.k
        off = k.target.offset("task_struct.tasks")
        head = self.head + off
        out, node = [], k.machine.read_u64(head)
        while node != head and node and len(out) < 1 << 16:
            out.append(node - off)
            node = k.machine.read_u64(node)
        return out


def task_list(k) -> TaskList:
    return k.model(TaskList)


@data("struct task_struct init_task", align=64)
def init_task(k, addr):
    t, m = k.target, k.machine
    install_init_cred(k)
    comm_len = t.const("TASK_COMM_LEN")
    m.write(addr + t.offset("task_struct.comm"),
            INIT_TASK_COMM.encode().ljust(comm_len, b"\0"))
    wr(k, addr, "task_struct.flags", t.const("PF_KTHREAD") | t.const("PF_NO_SETAFFINITY"), 4)
    wr(k, addr, "task_struct.usage", INIT_TASK_USAGE, 4)
    for member in ("prio", "static_prio", "normal_prio"):
        wr(k, addr, f"task_struct.{member}", MAX_PRIO - 20, 4)
    for member in ("real_parent", "parent", "group_leader"):
        wr(k, addr, f"task_struct.{member}", addr)
    for member in ("tasks", "children", "sibling"):
        init_list_head(k, addr + t.offset(f"task_struct.{member}"))
    for member in ("cred", "real_cred"):
        wr(k, addr, f"task_struct.{member}", init_cred(k))
    wr(k, addr, "task_struct.thread_pid", pids(k).by_nr[0])
    k.kernel_objects["init_task"] = (addr, t.sizeof("task_struct"))      # %pS: init_task+0x0/...
    task_list(k)

