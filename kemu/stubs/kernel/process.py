"""kernel/fork.c and fs/exec.c, as far as a command needs them: the user process
(``cat``, ``sh``) that opens, reads and writes a module's files.

Module code entered from a file operation runs in the context of the process
that made the system call, not of insmod: ``current->comm`` is the command,
``current->pid`` its pid, ``current->cred`` its credentials (root, or the
``--uid`` given, with no capabilities), ``current->mm`` a user address space.
:func:`as_process` makes the CPU's main task that process for the length of one
command and restores insmod afterwards; oops and WARN reports name it through
``k.process``.

Left out: fork() itself (no new task_struct or kernel stack: the main task
is borrowed), the page tables of the mm (user memory is kemu's flat user
window), signals and a process's files table.
"""
from __future__ import annotations

import contextlib

from kemu.abi.exports import kernel_api, members

from kemu.abi.toolkit import rd, wr
from .cred import CAP_FULL_SET, init_cred, install_init_cred
from .pid import pids
from .sched.core import sched

members("struct task_struct", "cred", "comm", "thread_pid")
members("struct cred", "usage", "fsuid", "fsgid", "cap_effective", "cap_bset")
members("struct mm_struct", "task_size", "pgd")

FIRST_PID = 300                    # a command's pid: after boot's processes, as under the oracle
TASK_SIZE_MAX = (1 << 47) - 4096   # x86_64 4-level paging: the top of user space


class Processes:
    """The pids handed out, the user address space and the credentials of each uid."""

    def __init__(self, k):
        t, m = k.target, k.machine
        self.k = k
        self.next_pid = FIRST_PID
        self.mm = m.alloc_kdata(t.sizeof("mm_struct"), 64)
        wr(k, self.mm, "mm_struct.task_size", TASK_SIZE_MAX)
        self.creds: dict[int, int] = {}

    def cred_of(self, uid: int) -> int:
        """The credentials of a process run as ``uid`` (gid the same); root is init_cred."""
        k = self.k
        install_init_cred(k)
        if uid == 0:
            return init_cred(k)
        if uid not in self.creds:
            size = k.target.sizeof("cred")
            c = k.machine.alloc_kdata(size, 8)
            k.machine.write(c, k.machine.read(init_cred(k), size))
            wr(k, c, "cred.usage", 1 << 30)          # lives as long as the kernel
            for member in ("uid", "suid", "euid", "fsuid", "gid", "sgid", "egid", "fsgid"):
                wr(k, c, f"cred.{member}", uid, 4)
            for cap in ("cap_permitted", "cap_effective", "cap_inheritable", "cap_ambient"):
                wr(k, c, f"cred.{cap}", 0)
            wr(k, c, "cred.cap_bset", CAP_FULL_SET)
            self.creds[uid] = c
        return self.creds[uid]


def current_cred(k) -> int:
    """current_cred() of the task running now."""
    install_init_cred(k)
    return rd(k, sched(k).cur.ts, "task_struct.cred")


def cred_uid(k, cred: int) -> tuple[int, int]:
    """(fsuid, fsgid) of credentials."""
    return rd(k, cred, "cred.fsuid", 4), rd(k, cred, "cred.fsgid", 4)


def has_cap(k, cred: int, cap: int) -> bool:
    """cap_raised(cred->cap_effective, cap); a capability number the kernel does
    not have (cap_valid() fails) is never raised."""
    if not 0 <= cap < 64:
        return False
    return bool(rd(k, cred, "cred.cap_effective") >> cap & 1)


@kernel_api("as_process")
@contextlib.contextmanager
def as_process(k, comm: str, uid: int = 0):
    """Run what follows as a new process ``comm`` of user ``uid`` (exec'd by a shell)."""
    t, m = k.target, k.machine
    procs = k.model(Processes)
    s = sched(k)
    ts = s.main.ts
    comm_len = t.const("TASK_COMM_LEN")
    saved = {member: m.read(ts + t.offset(f"task_struct.{member}"), size)
             for member, size in (("comm", comm_len), ("pid", 4), ("tgid", 4), ("cred", 8),
                                  ("real_cred", 8), ("mm", 8), ("active_mm", 8),
                                  ("thread_pid", 8))}
    saved_process, saved_pid = k.process, s.main.pid
    pid = procs.next_pid
    procs.next_pid += 1
    cred = procs.cred_of(uid)
    m.write(ts + t.offset("task_struct.comm"), comm.encode()[:comm_len - 1].ljust(comm_len, b"\0"))
    for member in ("pid", "tgid"):
        wr(k, ts, f"task_struct.{member}", pid, 4)
    s.main.pid = pid                     # find_vpid() and pid_task() find the process
    wr(k, ts, "task_struct.thread_pid", pids(k).of_task(s.main))
    for member in ("cred", "real_cred"):
        wr(k, ts, f"task_struct.{member}", cred)
    for member in ("mm", "active_mm"):
        wr(k, ts, f"task_struct.{member}", procs.mm)
    k.process = (comm[:comm_len - 1], pid)
    try:
        yield pid
    finally:
        for member, raw in saved.items():
            m.write(ts + t.offset(f"task_struct.{member}"), raw)
        s.main.pid = saved_pid
        k.process = saved_process
