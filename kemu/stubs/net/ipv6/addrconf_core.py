"""net/ipv6/addrconf_core.c and net/ipv6/addrconf.c: address types, local addresses.

``__ipv6_addr_type`` classifies an in6_addr as the kernel does (unicast,
multicast with its scope, link/site local, loopback, v4-compatible, mapped).
kemu's machine has no network interface, so no IPv6 address is configured:
``ipv6_chk_addr`` and ``ipv6_chk_addr_and_flags`` find none.
"""
from __future__ import annotations

from kemu import data, export


def _c(k, name):
    return k.target.const(name)


def _scope_type(scope: int) -> int:
    return scope << 16                          # IPV6_ADDR_SCOPE_TYPE()


def _scope2type(k, scope: int) -> int:
    """ipv6_addr_scope2type()."""
    extra = {_c(k, "IPV6_ADDR_SCOPE_NODELOCAL"): _c(k, "IPV6_ADDR_LOOPBACK"),
             _c(k, "IPV6_ADDR_SCOPE_LINKLOCAL"): _c(k, "IPV6_ADDR_LINKLOCAL"),
             _c(k, "IPV6_ADDR_SCOPE_SITELOCAL"): _c(k, "IPV6_ADDR_SITELOCAL")}
    return _scope_type(scope) | extra.get(scope, 0)


def addr_type(k, addr: bytes) -> int:
    """__ipv6_addr_type() of a 16-byte address."""
    uni, glob = _c(k, "IPV6_ADDR_UNICAST"), _scope_type(_c(k, "IPV6_ADDR_SCOPE_GLOBAL"))
    st = int.from_bytes(addr[:4], "big")
    if st & 0xE0000000 not in (0, 0xE0000000):
        return uni | glob
    if st & 0xFF000000 == 0xFF000000:
        return _c(k, "IPV6_ADDR_MULTICAST") | _scope2type(k, addr[1] & 0x0F)
    link = _scope_type(_c(k, "IPV6_ADDR_SCOPE_LINKLOCAL"))
    if st & 0xFFC00000 == 0xFE800000:
        return _c(k, "IPV6_ADDR_LINKLOCAL") | uni | link
    if st & 0xFFC00000 == 0xFEC00000:
        return _c(k, "IPV6_ADDR_SITELOCAL") | uni | \
            _scope_type(_c(k, "IPV6_ADDR_SCOPE_SITELOCAL"))
    if st & 0xFE000000 == 0xFC000000:
        return uni | glob
    w = [int.from_bytes(addr[i:i + 4], "big") for i in range(0, 16, 4)]
    if w[0] | w[1] == 0:
        if w[2] == 0:
            if w[3] == 0:
                return _c(k, "IPV6_ADDR_ANY")
            if w[3] == 1:
                return _c(k, "IPV6_ADDR_LOOPBACK") | uni | link
            return _c(k, "IPV6_ADDR_COMPATv4") | uni | glob
        if w[2] == 0x0000FFFF:
            return _c(k, "IPV6_ADDR_MAPPED") | glob
    return uni | glob


@export("int __ipv6_addr_type(const struct in6_addr *addr)")
def __ipv6_addr_type(k, addr):
    return addr_type(k, bytes(k.machine.read(addr, 16)))


@export("int ipv6_chk_addr(struct net *net, const struct in6_addr *addr, "
        "const struct net_device *dev, int strict)")
def ipv6_chk_addr(k, net, addr, dev, strict):
    return 0                    # no interface, no address


@export("int ipv6_chk_addr_and_flags(struct net *net, const struct in6_addr *addr, "
        "const struct net_device *dev, bool skip_dev_check, int strict, u32 banned_flags)")
def ipv6_chk_addr_and_flags(k, net, addr, dev, skip_dev_check, strict, banned_flags):
    return 0


@data("const struct in6_addr in6addr_any")
def in6addr_any(k, addr):
    k.machine.write(addr, bytes(16))              # IN6ADDR_ANY_INIT
