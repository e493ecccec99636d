"""net/core/link_watch.c: link state events.

``linkwatch_fire_event`` queues the device for the linkwatch work, which
turns the carrier state into ``operstate`` and notifies NETDEV_CHANGE;
kemu keeps the carrier bit (netif_carrier_on/off) and does not run that work
(operstate and the rtnetlink message are not modelled).
"""
from __future__ import annotations

from kemu import export


@export("void linkwatch_fire_event(struct net_device *dev)")
def linkwatch_fire_event(k, dev):
    """The event is not delivered: nothing in kemu reads operstate."""
