"""net/core/timestamping.c: PHY time stamping of packets.

Time stamps come from a PHY with a mii_timestamper; kemu's devices have no
PHY, so ``skb_clone_tx_timestamp`` does nothing and ``skb_defer_rx_timestamp``
returns false (the frame goes up at once), as Linux does for such a device.
"""
from __future__ import annotations

from kemu import export


@export("void skb_clone_tx_timestamp(struct sk_buff *skb)")
def skb_clone_tx_timestamp(k, skb):
    """No phydev: nothing to clone for."""


@export("bool skb_defer_rx_timestamp(struct sk_buff *skb)")
def skb_defer_rx_timestamp(k, skb):
    return False
