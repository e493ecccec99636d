"""net/sched/sch_generic.c: the transmit-side helpers drivers call outside a qdisc.

``dev_trans_start`` is the latest ``trans_start`` of the device's TX queues;
``netif_tx_lock``/``netif_tx_unlock`` take the device's global TX lock (one
CPU: nothing to wait for) and freeze/thaw the queues. Not modelled: the
qdiscs themselves and the TX watchdog (``netif_carrier_on/off`` are in
net/core/netdevice.py with the device state).
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import rd

members("struct netdev_queue", "trans_start", "state")


@export("unsigned long dev_trans_start(struct net_device *dev)")
def dev_trans_start(k, dev):
    tx, size = rd(k, dev, "net_device._tx"), k.target.sizeof("netdev_queue")
    res = rd(k, tx, "netdev_queue.trans_start")
    for i in range(1, rd(k, dev, "net_device.num_tx_queues", 4)):
        val = rd(k, tx + i * size, "netdev_queue.trans_start")
        if val and ((val - res) & (1 << 64) - 1) >> 63 == 0 and val != res:   # time_after()
            res = val
    return res


@export("void netif_tx_lock(struct net_device *dev)")
def netif_tx_lock(k, dev):
    """spin_lock(&dev->tx_global_lock); netif_freeze_queues(): no transmit runs meanwhile."""


@export("void netif_tx_unlock(struct net_device *dev)")
def netif_tx_unlock(k, dev):
    """netif_unfreeze_queues(); spin_unlock(&dev->tx_global_lock)."""
