"""Packets through the netfilter hooks: an IPv4 sk_buff, each hook's verdict.

``inject`` builds a real ``struct sk_buff`` (layout from the target) around an
IPv4 packet and walks the hooks registered for a hook point in priority
order, as nf_hook_slow() does: NF_ACCEPT goes on, anything else ends the
walk; each hook's verdict is recorded.
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

from kemu.abi.exports import kernel_api, members

from .core import nf_hooks

members("struct nf_hook_state", "hook", "pf", "net", "in", "out", "sk", "okfn")

NFPROTO_IPV4 = 2
HOOKS = {"PRE_ROUTING": 0, "LOCAL_IN": 1, "FORWARD": 2, "LOCAL_OUT": 3, "POST_ROUTING": 4}
PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17}
VERDICTS = {0: "NF_DROP", 1: "NF_ACCEPT", 2: "NF_STOLEN", 3: "NF_QUEUE", 4: "NF_REPEAT",
            5: "NF_STOP"}
ETH_P_IP = 0x0800
HEADROOM = 64


@dataclass
class PacketResult:
    """What happened to an injected packet."""
    hook: str
    verdicts: list = field(default_factory=list)     # (owner, priority, function, verdict name)
    final: str = "NF_ACCEPT"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_ipv4(proto: str, src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """An IPv4 packet with a UDP, TCP (SYN) or ICMP echo header and checksums."""
    number = PROTOCOLS[proto]
    saddr, daddr = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    if proto == "udp":
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    elif proto == "tcp":
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0) + payload
    else:
        l4 = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + payload
    if proto in ("udp", "tcp"):
        pseudo = saddr + daddr + struct.pack("!BBH", 0, number, len(l4))
        csum = _checksum(pseudo + l4)
        at = 6 if proto == "udp" else 16
        l4 = l4[:at] + struct.pack("!H", csum or 0xFFFF) + l4[at + 2:]
    else:
        l4 = l4[:2] + struct.pack("!H", _checksum(l4)) + l4[4:]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, number, 0,
                         saddr, daddr)
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + l4


def build_skb(k, packet: bytes, hooknum: int) -> tuple[int, int]:
    """A linear sk_buff holding ``packet`` (network header at data) and its nf_hook_state."""
    t, m = k.target, k.machine
    size = HEADROOM + len(packet) + 64
    buf = k.heap.alloc(size, kind="skb data", zero=True)
    data = buf + HEADROOM
    m.write(data, packet)
    skb = k.heap.alloc(t.sizeof("sk_buff"), kind="sk_buff", zero=True)
    ihl = (packet[0] & 0xF) * 4
    for member, value, width in (("head", buf, 8), ("data", data, 8), ("len", len(packet), 4),
                                 ("network_header", HEADROOM, 2),
                                 ("transport_header", HEADROOM + ihl, 2),
                                 ("mac_header", 0xFFFF, 2), ("tail", HEADROOM + len(packet), 4),
                                 ("end", size, 4), ("protocol", ETH_P_IP << 8 & 0xFF00 |
                                                    ETH_P_IP >> 8, 2)):
        if t.has_offset(f"sk_buff.{member}"):
            m.write(skb + t.offset(f"sk_buff.{member}"), value.to_bytes(width, "little"))
    state = k.heap.alloc(t.sizeof("nf_hook_state"), kind="nf_hook_state", zero=True)
    m.write_u8(state + t.offset("nf_hook_state.hook"), hooknum)
    m.write_u8(state + t.offset("nf_hook_state.pf"), NFPROTO_IPV4)
    m.write_u64(state + t.offset("nf_hook_state.net"), k.export_addr("init_net"))
    return skb, state


@kernel_api("packet")
def inject(k, proto: str = "udp", src: str = "10.0.0.1", dst: str = "10.0.0.2",
           sport: int = 40000, dport: int = 53, payload: bytes = b"", hook: str = "LOCAL_IN"):
    """Pass an IPv4 packet through the hooks of one hook point; each hook's verdict."""
    hook = hook.upper().removeprefix("NF_INET_")
    if hook not in HOOKS:
        raise ValueError(f"unknown hook point {hook} (one of {', '.join(HOOKS)})")
    if proto not in PROTOCOLS:
        raise ValueError(f"unknown protocol {proto} (one of {', '.join(PROTOCOLS)})")
    if isinstance(payload, str):
        payload = payload.encode()
    hooknum = HOOKS[hook]
    skb, state = build_skb(k, build_ipv4(proto, src, dst, sport, dport, payload), hooknum)
    result = PacketResult(hook)
    try:
        for h in nf_hooks(k, NFPROTO_IPV4, hooknum):
            mod = k.module_containing(h.hook)
            raw = k.call(h.hook, h.priv, skb, state, entry=f"netfilter hook {hook}", module=mod)
            verdict = VERDICTS.get(raw & 0xFF, f"verdict {raw & 0xFF}")
            result.verdicts.append((h.owner, h.priority, k.format_addr(h.hook), verdict))
            result.final = verdict
            if raw & 0xFF != 1:
                break
    finally:
        if result.final != "NF_STOLEN":
            for addr in (skb, state):
                k.heap.free(addr)
    return result
