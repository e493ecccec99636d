"""fs/exec.c: the list of binary formats (``formats``), for binfmt_misc and friends.

``__register_binfmt`` puts a ``struct linux_binfmt`` at the front (insert)
or the back of the kernel's ``formats`` list, a real list in kernel memory;
``unregister_binfmt`` takes it off. A format left registered after its
module's exit is reported. ``__get_task_comm`` copies a task's comm as strscpy_pad does. Executing a program (``open_exec``,
``copy_string_kernel``...) is not something kemu does: link-only.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from .internal import link_only_table
from kemu.abi.toolkit import (err_ptr, init_list_head, list_add, list_add_tail, list_del, owner_of,
                              rd, sym)

members("struct task_struct", "comm")
members("struct linux_binfmt", "lh", "module", "load_binary", "load_shlib", "core_dump",
        "min_coredump")


class Formats:
    """The kernel's ``formats`` list head."""

    def __init__(self, k):
        self.head = k.machine.alloc_kdata(k.target.sizeof("list_head"), 8)
        init_list_head(k, self.head)


@export("char *__get_task_comm(char *buf, size_t buf_size, struct task_struct *tsk)")
def __get_task_comm(k, buf, buf_size, tsk):
    """strscpy_pad(buf, tsk->comm, buf_size): NUL-terminated, zero-padded."""
    if buf_size and buf_size <= 0x7FFFFFFF:          # strscpy(): WARN_ON_ONCE(count > INT_MAX)
        comm = k.machine.read(tsk + k.target.offset("task_struct.comm"),
                              k.target.const("TASK_COMM_LEN")).split(b"\0")[0]
        comm = comm[:buf_size - 1] + b"\0"
        k.machine.write(buf, comm)
        k.machine.fill(buf + len(comm), 0, buf_size - len(comm))
    return buf


@export("void __register_binfmt(struct linux_binfmt *fmt, int insert)")
def __register_binfmt(k, fmt, insert):
    node = fmt + k.target.offset("linux_binfmt.lh")
    (list_add if insert else list_add_tail)(k, node, k.model(Formats).head)
    k.register("binfmt", fmt, owner_of(k, rd(k, fmt, "linux_binfmt.module")),
               f"binary format {sym(k, rd(k, fmt, 'linux_binfmt.load_binary'))}")


@export("void unregister_binfmt(struct linux_binfmt *fmt)")
def unregister_binfmt(k, fmt):
    list_del(k, fmt + k.target.offset("linux_binfmt.lh"))
    k.unregister("binfmt", fmt)


def binfmts(k) -> list[int]:
    """The registered formats, in list order."""
    out, head = [], k.model(Formats).head
    p = rd(k, head, "list_head.next")
    while p != head:
        out.append(p - k.target.offset("linux_binfmt.lh"))
        p = rd(k, p, "list_head.next")
    return out


_NOEXEC = "kemu does not execute programs"
link_only_table((
    ("struct file *open_exec(const char *name)", err_ptr(-errno.ENOEXEC)),
    ("int copy_string_kernel(const char *arg, struct linux_binprm *bprm)", -errno.EFAULT),
    ("int remove_arg_zero(struct linux_binprm *bprm)", -errno.EFAULT),
    ("int bprm_change_interp(const char *interp, struct linux_binprm *bprm)", -errno.ENOMEM),
    ("void would_dump(struct linux_binprm *bprm, struct file *file)", None),
), _NOEXEC)
