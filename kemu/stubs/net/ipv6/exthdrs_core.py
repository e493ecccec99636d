"""net/ipv6/exthdrs_core.c: walking IPv6 extension headers in an sk_buff.

``ipv6_ext_hdr``, ``ipv6_skip_exthdr`` and ``ipv6_find_hdr`` read the headers
through skb_header_pointer() (the linear data of the skb model) exactly as the
kernel does: hop-by-hop, routing and destination options are
``(hdrlen + 1) * 8`` bytes, AH ``(hdrlen + 2) * 4``, a fragment header 8; a
non-first fragment ends the walk with its offset.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd
from ..core.skbuff import skb_copy_bits_

members("struct sk_buff", "network_header", "head", "data")

IPV6HDR_LEN = 40                 # sizeof(struct ipv6hdr)
IPV6HDR_NEXTHDR = 6              # offsetof(struct ipv6hdr, nexthdr)
FRAG_OFF = 2                     # offsetof(struct frag_hdr, frag_off)
RT_SEGMENTS_LEFT = 3             # offsetof(struct ipv6_rt_hdr, segments_left)


def _c(k, name):
    return k.target.const(name)


def ext_hdr(k, nexthdr: int) -> bool:
    """ipv6_ext_hdr()."""
    return nexthdr in tuple(_c(k, f"NEXTHDR_{n}") for n in
                            ("HOP", "ROUTING", "FRAGMENT", "AUTH", "NONE", "DEST"))


def _hdr(k, skb, start, n):
    """skb_header_pointer(): the bytes, or None."""
    if start < 0:
        return None
    return skb_copy_bits_(k, skb, start, n)


def _hdrlen(k, nexthdr, hp: bytes) -> int:
    if nexthdr == _c(k, "NEXTHDR_AUTH"):
        return (hp[1] + 2) << 2                # ipv6_authlen()
    return (hp[1] + 1) << 3                    # ipv6_optlen()


@export("bool ipv6_ext_hdr(u8 nexthdr)")
def ipv6_ext_hdr(k, nexthdr):
    return ext_hdr(k, nexthdr)


def skip_exthdr(k, skb: int, start: int, nexthdr: int):
    """ipv6_skip_exthdr(): (offset or -1, nexthdr, frag_off as stored (big endian))."""
    frag_off = 0
    while ext_hdr(k, nexthdr):
        if nexthdr == _c(k, "NEXTHDR_NONE"):
            return -1, nexthdr, frag_off
        hp = _hdr(k, skb, start, 2)
        if hp is None:
            return -1, nexthdr, frag_off
        if nexthdr == _c(k, "NEXTHDR_FRAGMENT"):
            fp = _hdr(k, skb, start + FRAG_OFF, 2)
            if fp is None:
                return -1, nexthdr, frag_off
            frag_off = int.from_bytes(fp, "little")          # the __be16 as stored
            if int.from_bytes(fp, "big") & ~0x7:
                break
            hdrlen = 8
        else:
            hdrlen = _hdrlen(k, nexthdr, hp)
        nexthdr = hp[0]
        start += hdrlen
    return start, nexthdr, frag_off


@export("int ipv6_skip_exthdr(const struct sk_buff *skb, int start, u8 *nexthdrp, "
        "__be16 *frag_offp)")
def ipv6_skip_exthdr(k, skb, start, nexthdrp, frag_offp):
    m = k.machine
    m.write_u16(frag_offp, 0)
    ret, nexthdr, frag_off = skip_exthdr(k, skb, start - (1 << 32) if start >> 31 else start,
                                         m.read_u8(nexthdrp))
    m.write_u16(frag_offp, frag_off)
    if ret >= 0:
        m.write_u8(nexthdrp, nexthdr)
    return ret


def _network_offset(k, skb) -> int:
    return rd(k, skb, "sk_buff.head") + rd(k, skb, "sk_buff.network_header", 2) - \
        rd(k, skb, "sk_buff.data")


@export("int ipv6_find_hdr(const struct sk_buff *skb, unsigned int *offset, int target, "
        "unsigned short *fragoff, int *flags)")
def ipv6_find_hdr(k, skb, offset, target, fragoff, flags):
    m = k.machine
    target = target - (1 << 32) if target >> 31 else target
    start = _network_offset(k, skb) + IPV6HDR_LEN
    nexthdr = m.read_u8(rd(k, skb, "sk_buff.head") + rd(k, skb, "sk_buff.network_header", 2)
                        + IPV6HDR_NEXTHDR)
    if fragoff:
        m.write_u16(fragoff, 0)
    off = m.read_u32(offset)
    if off:
        ip6 = _hdr(k, skb, off, IPV6HDR_LEN)
        if ip6 is None or ip6[0] >> 4 != 6:
            return -errno.EBADMSG
        start, nexthdr = off + IPV6HDR_LEN, ip6[IPV6HDR_NEXTHDR]
    none = _c(k, "NEXTHDR_NONE")
    while True:
        found = nexthdr == target
        if not ext_hdr(k, nexthdr) or nexthdr == none:
            if target < 0 or found:
                break
            return -errno.ENOENT
        hp = _hdr(k, skb, start, 2)
        if hp is None:
            return -errno.EBADMSG
        if nexthdr == _c(k, "NEXTHDR_ROUTING"):
            rh = _hdr(k, skb, start, 4)
            if rh is None:
                return -errno.EBADMSG
            if flags and m.read_u32(flags) & _c(k, "IP6_FH_F_SKIP_RH") and \
                    rh[RT_SEGMENTS_LEFT] == 0:
                found = False
        if nexthdr == _c(k, "NEXTHDR_FRAGMENT"):
            if flags:
                m.write_u32(flags, m.read_u32(flags) | _c(k, "IP6_FH_F_FRAG"))
            fp = _hdr(k, skb, start + FRAG_OFF, 2)
            if fp is None:
                return -errno.EBADMSG
            frag = int.from_bytes(fp, "big") & ~0x7
            if frag:
                if target < 0 and (not ext_hdr(k, hp[0]) or hp[0] == none):
                    if fragoff:
                        m.write_u16(fragoff, frag)
                    return hp[0]
                if not found:
                    return -errno.ENOENT
                if fragoff:
                    m.write_u16(fragoff, frag)
                break
            hdrlen = 8
        elif nexthdr == _c(k, "NEXTHDR_AUTH"):
            if flags and m.read_u32(flags) & _c(k, "IP6_FH_F_AUTH") and target < 0:
                break
            hdrlen = _hdrlen(k, nexthdr, hp)
        else:
            hdrlen = _hdrlen(k, nexthdr, hp)
        if found:
            break
        nexthdr = hp[0]
        start += hdrlen
    m.write_u32(offset, start)
    return nexthdr
