"""fs/quota/dquot.c, fs/quota/quota.c: quota formats, statistics and the dquot layer.

``register_quota_format`` pushes a ``struct quota_format_type`` on the
kernel's ``quota_formats`` chain (through ``qf_next``, in kernel memory),
``unregister_quota_format`` unlinks it; a format left registered after its
module's exit is reported. ``dqstats`` is the kernel's statistics block, its
per-CPU counters initialised as ``dquot_init`` does, so the inline
``dqstats_inc``/``dqstats_dec`` of quota_v1/quota_v2/quota_tree work.
On a mounted filesystem no quota is ever turned on, so ``dquot_initialize``
``dquot_drop``, ``dquot_quota_off`` and ``dquot_file_open`` have nothing to attach or release (as in Linux when
quotas are off); everything else acting on quotas is link-only.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members

from .internal import link_only_table
from .open import generic_file_open
from kemu.abi.toolkit import owner_of, rd, wr

members("struct percpu_counter", "list", "counters")
members("struct quota_format_type", "qf_fmt_id", "qf_owner", "qf_next", "qf_ops")
members("struct dqstats", "counter", "stat")

_ENOTSUP = -errno.EOPNOTSUPP


class QuotaFormats:
    """The head of the kernel's quota_formats chain."""

    def __init__(self, k):
        self.head = k.machine.alloc_kdata(8, 8)


@export("int register_quota_format(struct quota_format_type *fmt)")
def register_quota_format(k, fmt):
    head = k.model(QuotaFormats).head
    wr(k, fmt, "quota_format_type.qf_next", k.machine.read_u64(head))
    k.machine.write_u64(head, fmt)
    k.register("quota format", fmt, owner_of(k, rd(k, fmt, "quota_format_type.qf_owner")),
               f"quota format {rd(k, fmt, 'quota_format_type.qf_fmt_id', 4)}")
    return 0


@export("void unregister_quota_format(struct quota_format_type *fmt)")
def unregister_quota_format(k, fmt):
    link = k.model(QuotaFormats).head
    while k.machine.read_u64(link) and k.machine.read_u64(link) != fmt:
        link = k.machine.read_u64(link) + k.target.offset("quota_format_type.qf_next")
    if k.machine.read_u64(link):
        k.machine.write_u64(link, rd(k, fmt, "quota_format_type.qf_next"))
    k.unregister("quota format", fmt)


def quota_formats(k) -> list[int]:
    """The registered formats, newest first (the chain's order)."""
    out, p = [], k.machine.read_u64(k.model(QuotaFormats).head)
    while p and len(out) < 64:
        out.append(p)
        p = rd(k, p, "quota_format_type.qf_next")
    return out


@data("struct dqstats dqstats")
def dqstats(k, addr):
    # dquot_init(): percpu_counter_init(&dqstats.counter[i], 0, GFP_KERNEL) for each
    t = k.target
    counters = addr + t.offset("dqstats.counter")
    for i in range(t.const("_DQST_DQSTAT_LAST")):
        fbc = counters + i * t.sizeof("percpu_counter")
        counter = k.machine.alloc_percpu(4, 4)
        k.machine.write(k.machine.percpu_addr + counter, bytes(4))
        wr(k, fbc, "percpu_counter.counters", counter)
        node = fbc + t.offset("percpu_counter.list")
        wr(k, node, "list_head.next", node)
        wr(k, node, "list_head.prev", node)


@data("unsigned int dq_data_lock")          # spinlock_t: 4 bytes, unlocked
def dq_data_lock(k, addr):
    pass


# struct kqid { union { kuid_t uid; kgid_t gid; kprojid_t projid; }; enum quota_type type; }
# is 8 bytes of INTEGER class: passed in one register, id in the low half.
@export("unsigned int from_kqid(struct user_namespace *to, u64 qid)")
def from_kqid(k, ns, qid):
    """The id in ``to`` (the initial namespace maps every id to itself)."""
    return qid & 0xFFFFFFFF


@export("bool qid_eq(u64 left, u64 right)")
def qid_eq(k, left, right):
    return left == right


def _zeroed(k, addr):
    pass


data("const struct dquot_operations dquot_operations")(_zeroed)
data("const struct quotactl_ops dquot_quotactl_sysfile_ops")(_zeroed)

link_only_table((
    # linux/quota.h
    ('void mark_info_dirty(struct super_block *sb, int type)', None),    # linux/quotaops.h
    ('int __dquot_alloc_space(struct inode *inode, long long number, int flags)', _ENOTSUP),
    ('void __dquot_free_space(struct inode *inode, long long number, int flags)', None),
    ('int __dquot_transfer(struct inode *inode, struct dquot **transfer_to)', _ENOTSUP),
    ('void __quota_error(struct super_block *sb, const char *func, const char *fmt, ...)', None),
    ('struct dquot *dqget(struct super_block *sb, u64 qid)', 0),
    ('void dqput(struct dquot *dquot)', None),
    ('int dquot_acquire(struct dquot *dquot)', _ENOTSUP),
    ('struct dquot *dquot_alloc(struct super_block *sb, int type)', 0),
    ('int dquot_alloc_inode(struct inode *inode)', _ENOTSUP),
    ('int dquot_claim_space_nodirty(struct inode *inode, long long number)', _ENOTSUP),
    ('int dquot_commit(struct dquot *dquot)', _ENOTSUP),
    ('int dquot_commit_info(struct super_block *sb, int type)', _ENOTSUP),
    ('void dquot_destroy(struct dquot *dquot)', None),
    ('int dquot_disable(struct super_block *sb, int type, unsigned int flags)', _ENOTSUP),
    ('void dquot_free_inode(struct inode *inode)', None),
    ('int dquot_get_dqblk(struct super_block *sb, u64 id, struct qc_dqblk *di)', _ENOTSUP),
    ('int dquot_get_next_dqblk(struct super_block *sb, struct kqid *id, struct '
     'qc_dqblk *di)',
     _ENOTSUP),
    ('int dquot_get_next_id(struct super_block *sb, struct kqid *qid)', _ENOTSUP),
    ('int dquot_get_state(struct super_block *sb, struct qc_state *state)', _ENOTSUP),
    ('bool dquot_initialize_needed(struct inode *inode)', 0),
    ('int dquot_load_quota_inode(struct inode *inode, int type, int format_id, '
     'unsigned int flags)',
     _ENOTSUP),
    ('int dquot_mark_dquot_dirty(struct dquot *dquot)', _ENOTSUP),
    ('int dquot_quota_on(struct super_block *sb, int type, int format_id, const struct '
     'path *path)',
     _ENOTSUP),
    ('int dquot_quota_on_mount(struct super_block *sb, char *qf_name, int format_id, '
     'int type)',
     _ENOTSUP),
    ('int dquot_quota_sync(struct super_block *sb, int type)', _ENOTSUP),
    ('void dquot_reclaim_space_nodirty(struct inode *inode, long long number)', None),
    ('int dquot_release(struct dquot *dquot)', _ENOTSUP),
    ('int dquot_resume(struct super_block *sb, int type)', _ENOTSUP),
    ('int dquot_set_dqblk(struct super_block *sb, u64 id, struct qc_dqblk *di)', _ENOTSUP),
    ('int dquot_set_dqinfo(struct super_block *sb, int type, struct qc_info *ii)', _ENOTSUP),
    ('int dquot_transfer(struct user_namespace *mnt_userns, struct inode *inode, '
     'struct iattr *iattr)',
     _ENOTSUP),
    ('int dquot_writeback_dquots(struct super_block *sb, int type)', _ENOTSUP),
))


@export("int dquot_initialize(struct inode *inode)")
def dquot_initialize(k, inode):
    return 0                                  # no quota is active: __dquot_initialize() is 0


@export("void dquot_drop(struct inode *inode)")
def dquot_drop(k, inode):
    pass


@export("int dquot_quota_off(struct super_block *sb, int type)")
def dquot_quota_off(k, sb, type):
    return 0                                  # no quota type is on: nothing to turn off


@export("int dquot_file_open(struct inode *inode, struct file *file)")
def dquot_file_open(k, inode, file):
    """generic_file_open() (no quota to initialise)."""
    return generic_file_open(k, inode, file)
