"""net/core/utils.c: net_ratelimit(), __ratelimit() over net_ratelimit_state (5 s, 10)."""
from kemu import export
from kemu.abi.exports import members

from ...lib.ratelimit import ___ratelimit

members("struct sk_buff", "csum")
members("struct ratelimit_state", "interval", "burst", "lock", "printed", "missed", "begin",
        "flags")


class NetRatelimit:
    """DEFINE_RATELIMIT_STATE(net_ratelimit_state, 5 * HZ, 10) in kernel data."""

    def __init__(self, k):
        t, m = k.target, k.machine
        self.addr = m.alloc_kdata(t.sizeof("ratelimit_state"), 8)
        m.write_u32(self.addr + t.offset("ratelimit_state.interval"), 5 * k.HZ)
        m.write_u32(self.addr + t.offset("ratelimit_state.burst"), 10)
        self.func = m.alloc_kdata(16, 8)
        m.write(self.func, b"net_ratelimit\0")


@export("int net_ratelimit(void)")
def net_ratelimit(k):
    state = k.model(NetRatelimit)
    return ___ratelimit(k, state.addr, state.func)


@export("void inet_proto_csum_replace4(u16 *sum, struct sk_buff *skb, __be32 from, "
        "__be32 to, bool pseudohdr)")
def inet_proto_csum_replace4(k, sum, skb, from_, to, pseudohdr):
    """The checksum at ``sum`` (and skb->csum) after a 4-byte field changed from -> to."""
    from ...arch.x86.lib.csum import csum_add, fold
    from .skbuff import ip_summed
    m, t = k.machine, k.target

    def csum_sub(a, b):
        return csum_add(a, ~b & 0xFFFFFFFF)
    summed = ip_summed(k, skb)
    if summed != t.const("CHECKSUM_PARTIAL"):
        # csum_replace4(): *sum = csum_fold(csum_add(csum_sub(~csum_unfold(*sum), from), to))
        old = ~m.read_u16(sum) & 0xFFFFFFFF
        m.write_u16(sum, fold(csum_add(csum_sub(old, from_), to)))
        if summed == t.const("CHECKSUM_COMPLETE") and pseudohdr:
            off = skb + t.offset("sk_buff.csum")
            m.write_u32(off, ~csum_add(csum_sub(~m.read_u32(off) & 0xFFFFFFFF, from_), to)
                        & 0xFFFFFFFF)
    elif pseudohdr:
        m.write_u16(sum, ~fold(csum_add(csum_sub(m.read_u16(sum), from_), to)) & 0xFFFF)


@export("void inet_proto_csum_replace16(u16 *sum, struct sk_buff *skb, const __be32 *from, "
        "const __be32 *to, bool pseudohdr)")
def inet_proto_csum_replace16(k, sum, skb, from_, to, pseudohdr):
    """As replace4 for a 16-byte field (an IPv6 address): diff = ~from[0..3], to[0..3]."""
    from ...arch.x86.lib.csum import fold, partial
    from .skbuff import ip_summed
    m, t = k.machine, k.target
    diff = bytes(~b & 0xFF for b in m.read(from_, 16)) + bytes(m.read(to, 16))
    summed = ip_summed(k, skb)
    if summed != t.const("CHECKSUM_PARTIAL"):
        m.write_u16(sum, fold(partial(diff, ~m.read_u16(sum) & 0xFFFFFFFF)))
        if summed == t.const("CHECKSUM_COMPLETE") and pseudohdr:
            off = skb + t.offset("sk_buff.csum")
            m.write_u32(off, ~partial(diff, ~m.read_u32(off) & 0xFFFFFFFF) & 0xFFFFFFFF)
    elif pseudohdr:
        m.write_u16(sum, ~fold(partial(diff, m.read_u16(sum))) & 0xFFFF)
