"""net/netfilter/core.c, nf_queue.c, utils.c, nf_hooks_lwtunnel.c: hook pointers,
the queue handler, the default conntrack zone and the checksum helpers.

The RCU hook pointers (``nf_ct_hook``, ``nf_nat_hook``, ``nfnl_ct_hook``,
``nf_defrag_v4_hook``...) start NULL; conntrack, NAT and nfnetlink set and
clear them. ``nf_register_queue_handler`` installs the single queue handler
(a second one is the kernel's WARN_ON), ``nf_queue_nf_hook_drop`` calls its
``nf_hook_drop``. ``nf_ct_zone_dflt`` is the zone every conntrack without a
zone template is in (id 0, both directions).

``nf_ip_checksum``/``nf_ip6_checksum``/``nf_checksum(_partial)`` verify a
packet's checksum in ``kemu packet`` runs; they are reported (not-modelled)
and answer 0 ("valid"), since conntrack would otherwise mark every packet
invalid.
"""
from __future__ import annotations

from kemu import data, export, percpu
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, sym
from ...lib.kemu_warn import warn

members("struct sk_buff", "_nfct")
members("struct nf_queue_handler", "outfn", "nf_hook_drop")
members("struct nf_conntrack_zone", "id", "flags", "dir")
members("struct nf_ct_hook", "update", "destroy", "get_tuple_skb", "attach", "set_closing",
        "confirm")


def _null_pointer(name):
    @data(f"void *{name}")
    def init(k, addr):
        k.machine.write_u64(addr, 0)
    init.__name__ = name
    init.__doc__ = f"{name}: an RCU pointer, NULL until its module sets it."
    return init


for _name in ("nf_ct_hook", "nf_nat_hook", "nfnl_ct_hook", "nf_defrag_v4_hook",
              "nf_defrag_v6_hook", "nf_ipv6_ops", "nf_conntrack_destroy_hook"):
    globals()[_name] = _null_pointer(_name)


@data("const struct nf_conntrack_zone nf_ct_zone_dflt")
def nf_ct_zone_dflt(k, addr):
    t = k.target
    k.machine.write_u16(addr + t.offset("nf_conntrack_zone.id"), t.const("NF_CT_DEFAULT_ZONE_ID"))
    k.machine.write_u8(addr + t.offset("nf_conntrack_zone.flags"), 0)
    k.machine.write_u8(addr + t.offset("nf_conntrack_zone.dir"), t.const("NF_CT_DEFAULT_ZONE_DIR"))


@percpu("bool nf_skb_duplicated")
def nf_skb_duplicated(k, addr):
    pass


class _Queue:
    def __init__(self, k):
        self.handler = 0


@export("void nf_register_queue_handler(const struct nf_queue_handler *qh)")
def nf_register_queue_handler(k, qh):
    st = k.model(_Queue)
    if st.handler:
        warn(k, "net/netfilter/nf_queue.c:37", "nf_register_queue_handler+0x1d/0x30")
    st.handler = qh
    k.register("nf queue handler", qh, k.module_containing(rd(k, qh, "nf_queue_handler.outfn"))
               or k.current_module(), f"nf queue handler {sym(k, rd(k, qh, 'nf_queue_handler.outfn'))}")


@export("void nf_unregister_queue_handler(void)")
def nf_unregister_queue_handler(k):
    st = k.model(_Queue)
    if st.handler:
        k.unregister("nf queue handler", st.handler)
    st.handler = 0


@export("void nf_queue_nf_hook_drop(struct net *net)")
def nf_queue_nf_hook_drop(k, net):
    qh = k.model(_Queue).handler
    if qh:
        yield k.call_request(rd(k, qh, "nf_queue_handler.nf_hook_drop"), net)


def _checksum_not_modelled(k, name):
    k.finding("not-modelled", f"{name}(): kemu does not verify packet checksums; the packet "
                              "is taken as valid", k.current_module())
    return 0


@export("u16 nf_ip_checksum(struct sk_buff *skb, unsigned int hook, unsigned int dataoff, "
        "u8 protocol)")
def nf_ip_checksum(k, skb, hook, dataoff, protocol):
    return _checksum_not_modelled(k, "nf_ip_checksum")


@export("u16 nf_ip6_checksum(struct sk_buff *skb, unsigned int hook, unsigned int dataoff, "
        "u8 protocol)")
def nf_ip6_checksum(k, skb, hook, dataoff, protocol):
    return _checksum_not_modelled(k, "nf_ip6_checksum")


@export("u16 nf_checksum(struct sk_buff *skb, unsigned int hook, unsigned int dataoff, "
        "u8 protocol, unsigned short family)")
def nf_checksum(k, skb, hook, dataoff, protocol, family):
    return _checksum_not_modelled(k, "nf_checksum")


@export("u16 nf_checksum_partial(struct sk_buff *skb, unsigned int hook, "
        "unsigned int dataoff, unsigned int len, u8 protocol, unsigned short family)")
def nf_checksum_partial(k, skb, hook, dataoff, len, protocol, family):
    return _checksum_not_modelled(k, "nf_checksum_partial")


@export("int nf_hooks_lwtunnel_sysctl_handler(struct ctl_table *table, int write, void *buffer, "
        "size_t *lenp, loff_t *ppos)")
def nf_hooks_lwtunnel_sysctl_handler(k, table, write, buffer, lenp, ppos):
    k.finding("not-modelled", "nf_hooks_lwtunnel_sysctl_handler(): /proc/sys/net/netfilter/"
                              "nf_hooks_lwtunnel is not modelled", k.current_module())
    import errno
    return -errno.EOPNOTSUPP


# ------------------------------------------------------------ conntrack through nf_ct_hook
def _ct_hook(k, member):
    """rcu_dereference(nf_ct_hook)->member, or 0 while no conntrack module set it."""
    hook = k.machine.read_u64(k.export_addr("nf_ct_hook"))
    return rd(k, hook, f"nf_ct_hook.{member}") if hook else 0


@export("void nf_ct_attach(struct sk_buff *new, const struct sk_buff *skb)")
def nf_ct_attach(k, new, skb):
    if rd(k, skb, "sk_buff._nfct"):
        fn = _ct_hook(k, "attach")
        if fn:
            yield k.call_request(fn, new, skb)


@export("void nf_conntrack_destroy(struct nf_conntrack *nfct)")
def nf_conntrack_destroy(k, nfct):
    fn = _ct_hook(k, "destroy")
    if fn:
        yield k.call_request(fn, nfct)
    else:
        warn(k, "net/netfilter/core.c:706", "nf_conntrack_destroy")      # WARN_ON(!ct_hook)


@export("void nf_ct_set_closing(struct nf_conntrack *nfct)")
def nf_ct_set_closing(k, nfct):
    if not nfct:
        return
    fn = _ct_hook(k, "set_closing")
    if fn:
        yield k.call_request(fn, nfct)
