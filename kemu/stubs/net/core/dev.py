"""net/core/dev.c: network devices by index and the netdevice notifier chain.

kemu's machine has no network device (no struct net_device is ever
registered), so every lookup by index finds nothing (NULL), as on Linux for an
unknown ifindex, and no device has a master. ``register_netdevice_notifier``
puts the block on ``netdev_chain`` in priority order; with no device there is
no NETDEV_REGISTER/NETDEV_UP to replay to it (and nothing to unregister).
"""
from __future__ import annotations

from kemu import data, export
from kemu.kernel.log import KERN_WARNING
from kemu.abi.exports import members

from ..netlink.af_netlink import chain_register, chain_unregister

# lib/rbtree.c, lib/rhashtable.c (stubs/lib/rbtree.py, stubs/lib/rhashtable.py)
members("struct packet_type", "type", "dev", "func", "list", "af_packet_priv")


class _NetdevChain:
    def __init__(self, k):
        self.blocks: list[int] = []


@export("struct net_device *dev_get_by_index_rcu(struct net *net, int ifindex)")
def dev_get_by_index_rcu(k, net, ifindex):
    return 0


@export("struct net_device *dev_get_by_index(struct net *net, int ifindex)")
def dev_get_by_index(k, net, ifindex):
    return 0


@export("struct net_device *dev_get_by_name_rcu(struct net *net, const char *name)")
def dev_get_by_name_rcu(k, net, name):
    return 0


@export("struct net_device *dev_get_by_name(struct net *net, const char *name)")
def dev_get_by_name(k, net, name):
    return 0


@export("struct net_device *__dev_get_by_index(struct net *net, int ifindex)")
def __dev_get_by_index(k, net, ifindex):
    return 0


@export("struct net_device *netdev_master_upper_dev_get_rcu(struct net_device *dev)")
def netdev_master_upper_dev_get_rcu(k, dev):
    return 0


@export("int register_netdevice_notifier(struct notifier_block *nb)")
def register_netdevice_notifier(k, nb):
    return chain_register(k, k.model(_NetdevChain).blocks, nb, "netdevice notifier",
                          "netdevice notifier")


@export("int unregister_netdevice_notifier(struct notifier_block *nb)")
def unregister_netdevice_notifier(k, nb):
    return chain_unregister(k, k.model(_NetdevChain).blocks, nb, "netdevice notifier")


@data("struct static_key_false netstamp_needed_key")
def netstamp_needed_key(k, addr):
    """Off: nobody asked for receive timestamps."""


@export("struct net_device *__dev_get_by_name(struct net *net, const char *name)")
def __dev_get_by_name(k, net, name):
    return 0


# ------------------------------------------------------------ packet handlers
class _Ptype:
    """ptype_all and ptype_base[] (Python lists of struct packet_type addresses)."""

    def __init__(self, k):
        self.lists: dict = {}


def _ptype_head(k, pt):
    """ptype_head(): (device or 0, "all" or the ptype_base hash of ntohs(type))."""
    from kemu.abi.toolkit import rd
    c = k.target.const
    ptype = rd(k, pt, "packet_type.type", 2)
    dev = rd(k, pt, "packet_type.dev")
    host = ((ptype & 0xFF) << 8) | (ptype >> 8)                 # ntohs()
    if host == c("ETH_P_ALL"):
        return dev, "all"
    return dev, host & c("PTYPE_HASH_MASK")


@export("void dev_add_pack(struct packet_type *pt)")
def dev_add_pack(k, pt):
    from kemu.abi.toolkit import rd, sym
    k.model(_Ptype).lists.setdefault(_ptype_head(k, pt), []).insert(0, pt)   # list_add_rcu
    func = rd(k, pt, "packet_type.func")
    ptype = rd(k, pt, "packet_type.type", 2)
    k.register("packet type", pt, k.module_containing(func) or k.current_module(),
               f"packet handler {sym(k, func)} (ethertype {((ptype & 0xFF) << 8) | (ptype >> 8):#06x})")


@export("void __dev_remove_pack(struct packet_type *pt)")
def __dev_remove_pack(k, pt):
    lst = k.model(_Ptype).lists.get(_ptype_head(k, pt), [])
    if pt in lst:
        lst.remove(pt)
        k.unregister("packet type", pt)
    else:
        from ...lib.vsprintf import Spec, ptr_to_id
        spec = Spec()
        spec.field_width, spec.precision = -1, -1
        buf = bytearray()
        ptr_to_id(buf, pt, spec)                 # %p: hashed
        k.log.emit(KERN_WARNING, f"dev_remove_pack: {buf.decode()} not found")


@export("void dev_remove_pack(struct packet_type *pt)")
def dev_remove_pack(k, pt):
    __dev_remove_pack(k, pt)                     # then synchronize_net(): no reader in flight


@export("int dev_mc_add(struct net_device *dev, const unsigned char *addr)")
def dev_mc_add(k, dev, addr):
    """net/core/dev_addr_lists.c: no net_device exists in kemu for a module to pass."""
    k.finding("not-modelled", "dev_mc_add() was called, but kemu has no net_device",
              k.current_module())
    return -12                                   # -ENOMEM


@export("int dev_mc_del(struct net_device *dev, const unsigned char *addr)")
def dev_mc_del(k, dev, addr):
    k.finding("not-modelled", "dev_mc_del() was called, but kemu has no net_device",
              k.current_module())
    return -2                                    # -ENOENT
