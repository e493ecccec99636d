"""net/core/dev.c: network devices by index and the netdevice notifier chain.

kemu's machine has no network device (no struct net_device is ever
registered), so every lookup by index finds nothing (NULL), as on Linux for an
unknown ifindex, and no device has a master. ``register_netdevice_notifier``
puts the block on ``netdev_chain`` in priority order; with no device there is
no NETDEV_REGISTER/NETDEV_UP to replay to it (and nothing to unregister).
"""
from __future__ import annotations

from kemu import data, export

from ..netlink.af_netlink import chain_register, chain_unregister


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
