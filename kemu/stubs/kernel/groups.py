"""kernel/groups.c: supplementary group membership of the current task.

kemu's tasks run with the initial credentials, whose ``group_info`` is
``init_groups`` (no supplementary groups), so ``in_group_p`` is the fsgid
test followed by an empty ``groups_search``.
"""
from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd

members("struct task_struct", "cred")
members("struct cred", "egid", "fsgid")


@export("int in_group_p(kgid_t grp)")
def in_group_p(k, grp):
    task = k.machine.read_u64(k.machine.percpu_addr + k.export_addr("current_task"))
    cred = rd(k, task, "task_struct.cred")
    return 1 if rd(k, cred, "cred.fsgid", 4) == grp else 0


@export("int in_egroup_p(kgid_t grp)")
def in_egroup_p(k, grp):
    """The effective gid test, then the (empty) supplementary groups."""
    task = k.machine.read_u64(k.machine.percpu_addr + k.export_addr("current_task"))
    cred = rd(k, task, "task_struct.cred")
    return 1 if rd(k, cred, "cred.egid", 4) == grp else 0
