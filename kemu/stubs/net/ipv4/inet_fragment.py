"""net/ipv4/inet_fragment.c (and ip_fragment.c): fragment queue directories.

``inet_frags_init`` creates the queue cache (``kmem_cache_create`` of
``qsize`` bytes named ``frags_cache_name``), sets the refcount to 1 and
initialises the completion; ``fqdir_init`` allocates a zeroed
``struct fqdir`` for the namespace (f, net set), taking a reference on the
inet_frags. ``fqdir_exit`` tears it down; the kernel does it in a work item
after an RCU grace period, kemu at once: the reference is dropped (completing
``f->completion`` at zero) and the fqdir freed. ``inet_frags_fini`` drops the
initial reference, waits for the completion and destroys the cache.

Reassembly itself (``inet_frag_find`` and the queue functions, ``ip_defrag``)
needs fragmented packets kemu does not inject: calls are reported
(not-modelled) and fail as the kernel does on allocation failure.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members

from kemu.abi.toolkit import kfree, kzalloc, rd, wr

members("struct completion", "done", "wait")
members("struct inet_frags", "qsize", "frags_cachep", "frags_cache_name", "refcnt",
        "completion", "constructor", "destructor", "frag_expire", "rhash_params")
members("struct fqdir", "f", "net", "high_thresh", "low_thresh", "timeout", "max_dist", "dead",
        "rhashtable", "mem", "destroy_work", "free_list")
members("struct swait_queue_head", "task_list")


def _refcnt(k, f) -> int:
    return f + k.target.offset("inet_frags.refcnt")


def _put_frags(k, f):
    from ...kernel.sched.completion import complete
    n = k.machine.read_u32(_refcnt(k, f)) - 1
    k.machine.write_u32(_refcnt(k, f), n)
    if n == 0:
        complete(k, f + k.target.offset("inet_frags.completion"))


@export("int inet_frags_init(struct inet_frags *f)")
def inet_frags_init(k, f):
    from ...mm.slab import kmem_cache_create
    cache = kmem_cache_create(k, rd(k, f, "inet_frags.frags_cache_name"),
                              rd(k, f, "inet_frags.qsize", 4), 0, 0, 0)
    wr(k, f, "inet_frags.frags_cachep", cache)
    if not cache:
        return -errno.ENOMEM
    k.machine.write_u32(_refcnt(k, f), 1)
    comp = f + k.target.offset("inet_frags.completion")
    k.machine.write_u32(comp + k.target.offset("completion.done"), 0)
    wait = comp + k.target.offset("completion.wait")
    head = wait + k.target.offset("swait_queue_head.task_list")
    k.machine.write_u64(head + k.target.offset("list_head.next"), head)
    k.machine.write_u64(head + k.target.offset("list_head.prev"), head)
    return 0


@export("void inet_frags_fini(struct inet_frags *f)")
def inet_frags_fini(k, f):
    from ...mm.slab import kmem_cache_destroy
    _put_frags(k, f)
    done = f + k.target.offset("inet_frags.completion") + k.target.offset("completion.done")
    if not k.machine.read_u32(done):
        # a fqdir still holds a reference: wait_for_completion() never returns
        k.finding("deadlock", "inet_frags_fini() waits forever: a fqdir of these inet_frags "
                              "was not released (fqdir_exit)", k.current_module())
        return
    k.machine.write_u32(done, k.machine.read_u32(done) - 1)
    kmem_cache_destroy(k, rd(k, f, "inet_frags.frags_cachep"))
    wr(k, f, "inet_frags.frags_cachep", 0)


@export("int fqdir_init(struct fqdir **fqdirp, struct inet_frags *f, struct net *net)")
def fqdir_init(k, fqdirp, f, net):
    fqdir = kzalloc(k, k.target.sizeof("fqdir"), "fqdir")
    wr(k, fqdir, "fqdir.f", f)
    wr(k, fqdir, "fqdir.net", net)
    k.machine.write_u32(_refcnt(k, f), k.machine.read_u32(_refcnt(k, f)) + 1)
    k.machine.write_u64(fqdirp, fqdir)
    return 0


@export("void fqdir_exit(struct fqdir *fqdir)")
def fqdir_exit(k, fqdir):
    f = rd(k, fqdir, "fqdir.f")
    _put_frags(k, f)
    kfree(k, fqdir)


def _not_modelled(k, name):
    k.finding("not-modelled", f"{name}(): kemu does not reassemble fragmented packets",
              k.current_module())


@export("struct inet_frag_queue *inet_frag_find(struct fqdir *fqdir, void *key)")
def inet_frag_find(k, fqdir, key):
    _not_modelled(k, "inet_frag_find")
    return 0


@export("void inet_frag_kill(struct inet_frag_queue *fq)")
def inet_frag_kill(k, fq):
    _not_modelled(k, "inet_frag_kill")


@export("void inet_frag_destroy(struct inet_frag_queue *q)")
def inet_frag_destroy(k, q):
    _not_modelled(k, "inet_frag_destroy")


@export("int inet_frag_queue_insert(struct inet_frag_queue *q, struct sk_buff *skb, "
        "int offset, int end)")
def inet_frag_queue_insert(k, q, skb, offset, end):
    _not_modelled(k, "inet_frag_queue_insert")
    return -errno.EINVAL                       # IPFRAG_DUP/-EINVAL: the caller drops it


@export("void *inet_frag_reasm_prepare(struct inet_frag_queue *q, struct sk_buff *skb, "
        "struct sk_buff *parent)")
def inet_frag_reasm_prepare(k, q, skb, parent):
    _not_modelled(k, "inet_frag_reasm_prepare")
    return 0


@export("void inet_frag_reasm_finish(struct inet_frag_queue *q, struct sk_buff *head, "
        "void *reasm_data, bool try_coalesce)")
def inet_frag_reasm_finish(k, q, head, reasm_data, try_coalesce):
    _not_modelled(k, "inet_frag_reasm_finish")


@export("struct sk_buff *inet_frag_pull_head(struct inet_frag_queue *q)")
def inet_frag_pull_head(k, q):
    _not_modelled(k, "inet_frag_pull_head")
    return 0


@export("int ip_defrag(struct net *net, struct sk_buff *skb, u32 user)")
def ip_defrag(k, net, skb, user):
    from ..core.skbuff import _kfree_skb
    _not_modelled(k, "ip_defrag")
    yield from _kfree_skb(k, skb)
    return -errno.ENOMEM


IPFRAG_ECN_NOT_ECT, IPFRAG_ECN_ECT_1, IPFRAG_ECN_ECT_0, IPFRAG_ECN_CE = 0x01, 0x02, 0x04, 0x08
INET_ECN_CE = 3


@data("const u8 ip_frag_ecn_table[16]", size=16)
def ip_frag_ecn_table(k, addr):
    table = [0] * 16
    for ect in (IPFRAG_ECN_ECT_0, IPFRAG_ECN_ECT_1, IPFRAG_ECN_ECT_0 | IPFRAG_ECN_ECT_1):
        table[IPFRAG_ECN_CE | ect] = INET_ECN_CE
    for rest in (IPFRAG_ECN_CE, IPFRAG_ECN_ECT_0, IPFRAG_ECN_ECT_1,
                 IPFRAG_ECN_ECT_0 | IPFRAG_ECN_ECT_1, IPFRAG_ECN_CE | IPFRAG_ECN_ECT_0,
                 IPFRAG_ECN_CE | IPFRAG_ECN_ECT_1,
                 IPFRAG_ECN_CE | IPFRAG_ECN_ECT_0 | IPFRAG_ECN_ECT_1):
        table[IPFRAG_ECN_NOT_ECT | rest] = 0xFF
    k.machine.write(addr, bytes(table))
