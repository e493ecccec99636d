"""arch/x86/lib/csum-partial_64.c, csum-wrappers: the Internet checksum.

``csum_partial`` adds the buffer's 16-bit words (little endian, as x86 loads
them, an odd last byte as its low half) to the 32-bit partial sum with
end-around carry; any two partial sums the kernel and kemu compute for the
same data fold (csum_fold) to the same 16-bit checksum.

Python API: ``csum_add(a, b)``, ``partial(data, sum) -> u32``, ``fold(sum) -> u16``.
"""
from kemu import export


def csum_add(a: int, b: int) -> int:
    """csum_add(): 32-bit one's complement addition."""
    s = (a & 0xFFFFFFFF) + (b & 0xFFFFFFFF)
    return (s & 0xFFFFFFFF) + (s >> 32)


def partial(data: bytes, csum: int) -> int:
    """csum_partial() of ``data`` onto ``csum``."""
    if len(data) % 2:
        data += b"\0"
    total = csum & 0xFFFFFFFF
    total += sum(int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2))
    while total >> 32:
        total = (total & 0xFFFFFFFF) + (total >> 32)
    return total


def fold(csum: int) -> int:
    """csum_fold(): the complemented 16-bit checksum."""
    s = csum & 0xFFFFFFFF
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


@export("__wsum csum_partial(const void *buff, int len, __wsum sum)")
def csum_partial(k, buff, len, sum):
    n = len - (1 << 32) if len >> 31 else len
    return partial(bytes(k.machine.read(buff, n)) if n > 0 else b"", sum)


@export("u16 csum_ipv6_magic(const struct in6_addr *saddr, const struct in6_addr *daddr, "
        "__u32 len, __u8 proto, __wsum sum)")
def csum_ipv6_magic(k, saddr, daddr, len, proto, sum):
    """csum-wrappers_64.c: the IPv6 pseudo-header checksum, folded."""
    rest = csum_add(csum_add(int.from_bytes((len & 0xFFFFFFFF).to_bytes(4, "big"), "little"),
                             (proto & 0xFF) << 8), sum)          # htonl(len) + htons(proto)
    return fold(partial(bytes(k.machine.read(saddr, 16)) + bytes(k.machine.read(daddr, 16)),
                        rest))


@export("__sum16 ip_compute_csum(const void *buff, int len)")
def ip_compute_csum(k, buff, len):
    """csum_fold(csum_partial(buff, len, 0))."""
    n = len - (1 << 32) if len >> 31 else len
    return fold(partial(k.machine.read(buff, max(n, 0)), 0))
