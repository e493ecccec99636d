"""net/ethernet/eth.c: Ethernet headers on sk_buffs and MAC address changes.

``eth_type_trans`` does what 6.1 does on a device without DSA: skb->dev,
the MAC header, the pull of ETH_HLEN, skb->pkt_type from the destination
(host, broadcast, multicast or other host) and the protocol (the ethertype,
or 802.3 for Novell's raw IPX, else 802.2). ``eth_header``/``eth_header_parse``/
``eth_header_cache`` build and read the header, ``eth_mac_addr`` and
``eth_validate_addr`` check addresses as ``is_valid_ether_addr()`` does.
``eth_platform_get_mac_address`` finds no address: kemu's machine has no
device tree node or platform MAC (-ENODEV). Left out: ``eth_gro_receive``
(GRO hands whole frames up), DSA tagging, ``sysfs_format_mac``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import rd, wr

from ..core.skbuff import skb_pull_, skb_push_

members("struct sk_buff", "mac_len")
members("struct net_device", "priv_flags", "flags")
members("struct neighbour", "dev", "ha")
members("struct sockaddr", "sa_data")
members("struct hh_cache", "hh_len", "hh_data")

ETH_ALEN, ETH_HLEN = 6, 14
ETH_P_802_3, ETH_P_802_2, ETH_P_802_3_MIN = 0x0001, 0x0004, 0x0600
PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST = 0, 1, 2, 3


def _htons(v: int) -> int:
    return ((v & 0xFF) << 8) | ((v >> 8) & 0xFF)


def is_valid_ether_addr(addr: bytes) -> bool:
    """!is_multicast_ether_addr(addr) && !is_zero_ether_addr(addr)."""
    return not addr[0] & 1 and any(addr)


def dev_addr(k, dev) -> bytes:
    return bytes(k.machine.read(rd(k, dev, "net_device.dev_addr"), ETH_ALEN))


def set_pkt_type(k, skb, value: int) -> None:
    """skb->pkt_type (a 3-bit field)."""
    bit, bits = k.target.bitfield("sk_buff.pkt_type")
    byte = skb + bit // 8
    mask = ((1 << bits) - 1) << (bit % 8)
    raw = k.machine.read_u8(byte)
    k.machine.write_u8(byte, (raw & ~mask) | ((value << (bit % 8)) & mask))


def pkt_type(k, skb) -> int:
    bit, bits = k.target.bitfield("sk_buff.pkt_type")
    return (k.machine.read_u8(skb + bit // 8) >> (bit % 8)) & ((1 << bits) - 1)


def eth_type_trans_(k, skb, dev) -> int:
    """eth_type_trans(): the protocol (network order), with the skb pulled past the header."""
    wr(k, skb, "sk_buff.dev", dev)
    head, data = rd(k, skb, "sk_buff.head"), rd(k, skb, "sk_buff.data")
    wr(k, skb, "sk_buff.mac_header", data - head, 2)              # skb_reset_mac_header()
    eth = bytes(k.machine.read(data, ETH_HLEN))
    skb_pull_(k, skb, ETH_HLEN)                                   # skb_pull_inline()
    dest = eth[:ETH_ALEN]
    if dest != dev_addr(k, dev):                                  # eth_skb_pkt_type()
        if dest[0] & 1:
            set_pkt_type(k, skb, PACKET_BROADCAST if dest == b"\xff" * ETH_ALEN
                         else PACKET_MULTICAST)
        else:
            set_pkt_type(k, skb, PACKET_OTHERHOST)
    proto = int.from_bytes(eth[12:14], "big")
    if proto >= ETH_P_802_3_MIN:
        return _htons(proto)
    if rd(k, skb, "sk_buff.len", 4) >= 2 and \
            bytes(k.machine.read(rd(k, skb, "sk_buff.data"), 2)) == b"\xff\xff":
        return _htons(ETH_P_802_3)
    return _htons(ETH_P_802_2)


@export("__be16 eth_type_trans(struct sk_buff *skb, struct net_device *dev)")
def eth_type_trans(k, skb, dev):
    return eth_type_trans_(k, skb, dev)


@export("int eth_header(struct sk_buff *skb, struct net_device *dev, unsigned short type, "
        "const void *daddr, const void *saddr, unsigned int len)")
def eth_header(k, skb, dev, type_, daddr, saddr, len_):
    m = k.machine
    eth = skb_push_(k, skb, ETH_HLEN)
    proto = len_ if type_ in (ETH_P_802_3, ETH_P_802_2) else type_
    m.write(eth + 12, (proto & 0xFFFF).to_bytes(2, "big"))
    m.write(eth + ETH_ALEN, bytes(m.read(saddr, ETH_ALEN)) if saddr else dev_addr(k, dev))
    if daddr:
        m.write(eth, bytes(m.read(daddr, ETH_ALEN)))
        return ETH_HLEN
    c = k.target.const
    if rd(k, dev, "net_device.flags", 4) & (c("IFF_LOOPBACK") | c("IFF_NOARP")):
        m.write(eth, bytes(ETH_ALEN))
        return ETH_HLEN
    return -ETH_HLEN


@export("int eth_header_parse(const struct sk_buff *skb, unsigned char *haddr)")
def eth_header_parse(k, skb, haddr):
    eth = rd(k, skb, "sk_buff.head") + rd(k, skb, "sk_buff.mac_header", 2)
    k.machine.write(haddr, bytes(k.machine.read(eth + ETH_ALEN, ETH_ALEN)))
    return ETH_ALEN


@export("__be16 eth_header_parse_protocol(const struct sk_buff *skb)")
def eth_header_parse_protocol(k, skb):
    eth = rd(k, skb, "sk_buff.head") + rd(k, skb, "sk_buff.mac_header", 2)
    return k.machine.read_u16(eth + 12)


def _hh_eth(k, hh) -> int:
    """(u8 *)hh->hh_data + HH_DATA_OFF(sizeof(struct ethhdr)): the header ends the buffer."""
    hh_data_mod = 16
    return hh + k.target.offset("hh_cache.hh_data") + (hh_data_mod - ETH_HLEN % hh_data_mod)


@export("int eth_header_cache(const struct neighbour *neigh, struct hh_cache *hh, __be16 type)")
def eth_header_cache(k, neigh, hh, type_):
    if type_ == _htons(ETH_P_802_3):
        return -1
    m = k.machine
    eth = _hh_eth(k, hh)
    m.write_u16(eth + 12, type_)
    m.write(eth + ETH_ALEN, dev_addr(k, rd(k, neigh, "neighbour.dev")))
    m.write(eth, bytes(m.read(neigh + k.target.offset("neighbour.ha"), ETH_ALEN)))
    wr(k, hh, "hh_cache.hh_len", ETH_HLEN, 4)
    return 0


@export("void eth_header_cache_update(struct hh_cache *hh, const struct net_device *dev, "
        "const unsigned char *haddr)")
def eth_header_cache_update(k, hh, dev, haddr):
    k.machine.write(_hh_eth(k, hh), bytes(k.machine.read(haddr, ETH_ALEN)))


def _running(k, dev) -> bool:
    return bool(rd(k, dev, "net_device.state") & 1 << k.target.const("__LINK_STATE_START"))


@export("int eth_prepare_mac_addr_change(struct net_device *dev, void *p)")
def eth_prepare_mac_addr_change(k, dev, p):
    live = k.target.const("IFF_LIVE_ADDR_CHANGE")
    if not rd(k, dev, "net_device.priv_flags", 8) & live and _running(k, dev):
        return -errno.EBUSY
    if not is_valid_ether_addr(bytes(k.machine.read(p + k.target.offset("sockaddr.sa_data"),
                                                    ETH_ALEN))):
        return -errno.EADDRNOTAVAIL
    return 0


@export("void eth_commit_mac_addr_change(struct net_device *dev, void *p)")
def eth_commit_mac_addr_change(k, dev, p):
    """eth_hw_addr_set(dev, addr->sa_data)."""
    sa = bytes(k.machine.read(p + k.target.offset("sockaddr.sa_data"), ETH_ALEN))
    k.machine.write(rd(k, dev, "net_device.dev_addr"), sa)


@export("int eth_mac_addr(struct net_device *dev, void *p)")
def eth_mac_addr(k, dev, p):
    ret = eth_prepare_mac_addr_change(k, dev, p)
    if ret < 0:
        return ret
    eth_commit_mac_addr_change(k, dev, p)
    return 0


@export("int eth_validate_addr(struct net_device *dev)")
def eth_validate_addr(k, dev):
    return 0 if is_valid_ether_addr(dev_addr(k, dev)) else -errno.EADDRNOTAVAIL


@export("u32 eth_get_headlen(const struct net_device *dev, const void *data, unsigned int len)")
def eth_get_headlen(k, dev, data, len_):
    """Without the flow dissector's deeper look: the Ethernet header (or len if shorter)."""
    return min(len_, ETH_HLEN)


@export("int eth_platform_get_mac_address(struct device *dev, u8 *mac_addr)")
def eth_platform_get_mac_address(k, dev, mac_addr):
    """No of_node and no arch_get_platform_mac_address() on x86: -ENODEV."""
    return -errno.ENODEV


@export("int device_get_mac_address(struct device *dev, char *addr)")
def device_get_mac_address(k, dev, addr):
    """fwnode_get_mac_address() of a device without firmware properties: -ENOENT."""
    return -errno.ENOENT
