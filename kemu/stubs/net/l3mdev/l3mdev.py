"""net/l3mdev/l3mdev.c: L3 master devices (VRF).

No net_device exists in kemu (stubs/net/core/dev.py), so no device is
enslaved to an L3 master: the master ifindex is 0, as for a device without
one.
"""
from kemu import export


@export("int l3mdev_master_ifindex_rcu(const struct net_device *dev)")
def l3mdev_master_ifindex_rcu(k, dev):
    return 0
