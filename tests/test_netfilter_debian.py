"""Debian's netfilter modules (net/netfilter, net/ipv6/netfilter, net/bridge/netfilter)
load, initialise and unload clean in strict mode, and the net models they use
(stubs/net, stubs/lib/nlattr.py) behave like Linux 6.1.

* xt_* matches and targets, with kemu's x_tables model serving: each struct
  xt_match/xt_target is registered with its module as owner, and gone after
  exit; with Debian's own x_tables.ko loaded first the cycle is clean too;
* nf_log_syslog registers its loggers (nf_log_register) and xt_LOG takes a
  reference on it through nf_logger_find_get();
* nf_conntrack (with nf_defrag_ipv4/ipv6, libcrc32c) initialises and exits
  clean: pernet operations, net sysctl tables, fragment directories;
* the helpers: netlink attributes, in4/in6_pton, IPv6 extension headers and
  address types.
"""
from __future__ import annotations

import ipaddress
import struct

import pytest

from kemu import Kernel
from kemu.errors import KemuError
from kemu.abi.exports import REGISTRY
from kemu.module.modprobe import shared_tree


def _tree(debian_modules):
    return shared_tree(str(debian_modules))


def _clean(k):
    assert k.findings == []
    assert k.registrations == {}
    k.log.flush()
    failed = getattr(k, "_failed_softdeps", ())
    assert not [r.text for r in k.log.records if r.level <= 4
                and not any(r.text.startswith(f"{d}: ") for d in failed)], "the kernel complained"


def _load_order(tree, name, skip=()):
    return [d for d in tree.modprobe_order(name) if d not in skip]


def _cycle(debian_modules, name, skip=()):
    """modprobe ``name`` (without the modules in ``skip``), then unload all, strict."""
    tree = _tree(debian_modules)
    k = Kernel(modules=tree)
    order = _load_order(tree, name, skip)
    assert name in order, f"{name} is not in {debian_modules}"
    order = order[:order.index(name) + 1]
    for dep in order:
        if dep in k.modules:
            continue
        try:
            k.load(tree.path(dep))
        except KemuError as exc:
            # as modprobe: a soft dependency (an alias' first candidate) may fail
            if dep == name or dep in tree.depends(name):
                pytest.fail(f"{name}: {exc} {getattr(exc, 'missing', [])[:5]}")
            k._failed_softdeps = getattr(k, "_failed_softdeps", ()) + (dep,)
    regs = {key: (r.kind, r.owner.name if r.owner else None, r.what)
            for key, r in k.registrations.items()}
    for dep in reversed([d for d in k.modules if d in order or d in k.modules]):
        if dep in k.modules:
            k.unload(dep)
    return k, regs


XT_MODULES = {
    # module: (kind, names it registers)
    "xt_string": ("xt_match", {"string"}),
    "xt_time": ("xt_match", {"time"}),
    "xt_HMARK": ("xt_target", {"HMARK"}),
    "xt_l2tp": ("xt_match", {"l2tp"}),
    "xt_physdev": ("xt_match", {"physdev"}),
    "xt_AUDIT": ("xt_target", {"AUDIT"}),
    "xt_CHECKSUM": ("xt_target", {"CHECKSUM"}),
    "xt_TCPOPTSTRIP": ("xt_target", {"TCPOPTSTRIP"}),
    "xt_SECMARK": ("xt_target", {"SECMARK"}),
    "xt_LOG": ("xt_target", {"LOG"}),
    "xt_NFLOG": ("xt_target", {"NFLOG"}),
    "xt_TRACE": ("xt_target", {"TRACE"}),
    "xt_osf": ("xt_match", {"osf"}),
    "xt_set": ("xt_match", {"set"}),
    "ip6t_rt": ("xt_match", {"rt"}),
    "ip6t_frag": ("xt_match", {"frag"}),
    "ip6t_srh": ("xt_match", {"srh"}),
    "ip6t_NPT": ("xt_target", {"SNPT", "DNPT"}),
    "ebt_ip6": ("xt_match", {"ip6"}),
    # routing, socket lookups, estimators, rbtrees, refcount locks (round 2)
    "xt_addrtype": ("xt_match", {"addrtype"}),
    "xt_socket": ("xt_match", {"socket"}),
    "xt_connlimit": ("xt_match", {"connlimit"}),
    "xt_rateest": ("xt_match", {"rateest"}),
    "xt_RATEEST": ("xt_target", {"RATEEST"}),
    "xt_TCPMSS": ("xt_target", {"TCPMSS"}),
    "xt_TPROXY": ("xt_target", {"TPROXY"}),
    "xt_conntrack": ("xt_match", {"conntrack"}),
    "xt_state": ("xt_match", {"state"}),
    "xt_MASQUERADE": ("xt_target", {"MASQUERADE"}),
    "ipt_rpfilter": ("xt_match", {"rpfilter"}),
    "ip6t_rpfilter": ("xt_match", {"rpfilter"}),
    "ipt_REJECT": ("xt_target", {"REJECT"}),
    "ip6t_REJECT": ("xt_target", {"REJECT"}),
    "ebt_snat": ("xt_target", {"snat"}),
    "ebt_arpreply": ("xt_target", {"arpreply"}),
    "xt_cluster": ("xt_match", {"cluster"}),
    "xt_connbytes": ("xt_match", {"connbytes"}),
    "xt_connlabel": ("xt_match", {"connlabel"}),
    "xt_connmark": ("xt_match", {"connmark"}),
    "xt_helper": ("xt_match", {"helper"}),
    "xt_CT": ("xt_target", {"CT", "NOTRACK"}),
    "xt_CONNSECMARK": ("xt_target", {"CONNSECMARK"}),
    "ipt_SYNPROXY": ("xt_target", {"SYNPROXY"}),
    "ip6t_SYNPROXY": ("xt_target", {"SYNPROXY"}),
    "ipt_CLUSTERIP": ("xt_target", {"CLUSTERIP"}),
}


@pytest.mark.parametrize("name", sorted(XT_MODULES))
def test_xt_module_registers_with_kemus_x_tables(debian_modules, name):
    kind, names = XT_MODULES[name]
    k, regs = _cycle(debian_modules, name, skip={"x_tables"})
    mine = [r for r in regs.values() if r[0] == kind and r[1] == name]
    got = {what.split()[2] for _kind, _owner, what in mine}
    assert got == names, regs
    _clean(k)


@pytest.mark.parametrize("name", ["xt_string", "xt_LOG", "ip6t_rt", "ebt_ip6", "xt_set", "xt_TEE",
                                  "xt_connlimit", "xt_hashlimit"])
def test_xt_module_with_debian_x_tables(debian_modules, name):
    k, regs = _cycle(debian_modules, name)
    assert ("pernet subsys", "x_tables", "pernet subsys xt_net_ops [x_tables]") in regs.values()
    _clean(k)


def test_nf_log_syslog_loggers_and_references(debian_modules):
    from kemu.stubs.net.netfilter.nf_log import loggers
    tree = _tree(debian_modules)
    k = Kernel(modules=tree)
    for dep in _load_order(tree, "xt_LOG", skip={"x_tables"}):
        k.load(tree.path(dep))
    table = loggers(k)
    assert {pf for pf, _type in table} == {2, 3, 5, 7, 10}         # ipv4 arp netdev bridge ipv6
    owners = {r.owner.name for r in k.registered("nf logger")}
    assert owners == {"nf_log_syslog"}
    nf_logger_find_get = REGISTRY["nf_logger_find_get"].fn
    nf_logger_put = REGISTRY["nf_logger_put"].fn
    mod = k.modules["nf_log_syslog"]
    before = mod.refcnt
    assert nf_logger_find_get(k, 1, 0) == 0                 # NFPROTO_INET: IPv4 and IPv6
    assert mod.refcnt == before + 2
    assert nf_logger_find_get(k, 12, 0) == -2               # no logger there: -ENOENT
    nf_logger_put(k, 1, 0)
    assert mod.refcnt == before
    k.unload("xt_LOG")
    k.unload("nf_log_syslog")
    assert loggers(k) == {}
    _clean(k)


def test_nf_conntrack_cycle(debian_modules):
    k, regs = _cycle(debian_modules, "nf_conntrack")
    kinds = {r[0] for r in regs.values() if r[1] == "nf_conntrack"}
    assert {"pernet subsys", "net sysctl", "nf sockopt"} <= kinds, regs
    _clean(k)


def test_nf_defrag_ipv6_fragment_dir(debian_modules):
    k, regs = _cycle(debian_modules, "nf_defrag_ipv6")
    assert any(r[0] == "net sysctl" and r[1] == "nf_defrag_ipv6" for r in regs.values())
    _clean(k)


def test_siphash_vectors():
    """lib/test_siphash.c's first vectors: key 00..0f, input 00..n-1."""
    from kemu.stubs.lib.siphash import siphash_bytes
    k = Kernel()
    key = k.heap.alloc(16)
    k.machine.write(key, bytes(range(16)))
    buf = k.heap.alloc(64)
    k.machine.write(buf, bytes(range(64)))
    sip = {n: REGISTRY[n].fn for n in ("__siphash_unaligned", "siphash_1u64", "siphash_2u64",
                                       "siphash_3u32", "siphash_4u64", "__hsiphash_unaligned",
                                       "hsiphash_2u32", "hsiphash_4u32")}
    assert sip["__siphash_unaligned"](k, buf, 0, key) == 0x726FDB47DD0E0E31
    assert sip["__siphash_unaligned"](k, buf, 1, key) == 0x74F839C593DC67FD
    assert sip["__siphash_unaligned"](k, buf, 2, key) == 0x0D6C8009D9A94F5A
    assert sip["__siphash_unaligned"](k, buf, 15, key) == 0xA129CA6149BE45E5
    assert sip["__hsiphash_unaligned"](k, buf, 0, key) == 0x050FC4DC
    assert sip["__hsiphash_unaligned"](k, buf, 1, key) == 0x7D57CA93
    words = [int.from_bytes(bytes(range(i, i + 8)), "little") for i in range(0, 32, 8)]
    halves = [int.from_bytes(bytes(range(i, i + 4)), "little") for i in range(0, 16, 4)]
    assert sip["siphash_1u64"](k, words[0], key) == sip["__siphash_unaligned"](k, buf, 8, key)
    assert sip["siphash_2u64"](k, *words[:2], key) == sip["__siphash_unaligned"](k, buf, 16, key)
    assert sip["siphash_4u64"](k, *words, key) == sip["__siphash_unaligned"](k, buf, 32, key)
    assert sip["siphash_3u32"](k, *halves[:3], key) == siphash_bytes(bytes(range(12)),
                                                                      *words[:2])
    assert sip["hsiphash_2u32"](k, *halves[:2], key) == sip["__hsiphash_unaligned"](k, buf, 8, key)
    assert sip["hsiphash_4u32"](k, *halves, key) == sip["__hsiphash_unaligned"](k, buf, 16, key)


def _u8_table(k, value, lo=None, hi=None):
    from kemu.abi.toolkit import wr
    size = k.target.sizeof("ctl_table")
    table = k.heap.alloc(2 * size, zero=True)
    val = k.heap.alloc(8, zero=True)
    k.machine.write_u8(val, value)
    name = k.heap.alloc(8)
    k.machine.write(name, b"knob\0")
    vals = k.export_addr("sysctl_vals")
    wr(k, table, "ctl_table.procname", name)
    wr(k, table, "ctl_table.data", val)
    wr(k, table, "ctl_table.maxlen", 1, 4)
    wr(k, table, "ctl_table.mode", 0o644, 2)
    wr(k, table, "ctl_table.proc_handler", k.export_addr("proc_dou8vec_minmax"))
    if lo is not None:
        wr(k, table, "ctl_table.extra1", vals + 4 * lo)
    if hi is not None:
        wr(k, table, "ctl_table.extra2", vals + 4 * hi)
    return table, val


def test_proc_dou8vec_minmax_and_sysctl_vals():
    from kemu.stubs.kernel.sysctl import SysctlError, sysctl_read, sysctl_write
    k = Kernel()
    table, val = _u8_table(k, 7, lo=1, hi=2)          # SYSCTL_ONE .. SYSCTL_TWO
    path = k.heap.alloc(16)
    k.machine.write(path, b"net/kemu\0")
    assert REGISTRY["register_sysctl"].fn(k, path, table)
    assert sysctl_read(k, "net/kemu/knob") == b"7\n"
    assert sysctl_write(k, "net/kemu/knob", b"2\n") == 2
    assert k.machine.read_u8(val) == 2
    with pytest.raises(SysctlError) as exc:
        sysctl_write(k, "net/kemu/knob", b"3")            # above SYSCTL_TWO: -ERANGE
    assert exc.value.errno == 34 and k.machine.read_u8(val) == 2
    with pytest.raises(SysctlError):
        sysctl_write(k, "net/kemu/knob", b"-1")
    table2, val2 = _u8_table(k, 0, hi=10)              # SYSCTL_MAXOLDUID: 65535 > 255
    k.machine.write(k.machine.read_u64(table2 + k.target.offset("ctl_table.procname")),
                    b"big\0")
    assert REGISTRY["register_sysctl"].fn(k, path, table2)
    with pytest.raises(SysctlError) as exc:
        sysctl_read(k, "net/kemu/big")
    assert exc.value.errno == 22


# ------------------------------------------------------------ helpers
def _skb(k, payload: bytes):
    from kemu.stubs.net.core.skbuff import alloc_skb_, skb_put_
    skb = alloc_skb_(k, 512)
    k.machine.write(skb_put_(k, skb, len(payload)), payload)
    return skb


def test_nla_put_parse_and_compare():
    from kemu.stubs.lib.nlattr import attrs, nla_put_
    k = Kernel()
    skb = _skb(k, b"")
    assert nla_put_(k, skb, 1, b"eth0\0") == 0
    assert nla_put_(k, skb, 2, struct.pack("<I", 7)) == 0
    data = k.machine.read_u64(skb + k.target.offset("sk_buff.data"))
    length = k.machine.read_u32(skb + k.target.offset("sk_buff.len"))
    assert length == 8 + 4 + 8
    found, rem = attrs(k, data, length)
    assert [(t, n) for t, _a, n in found] == [(1, 5), (2, 4)] and rem == 0
    strcmp = REGISTRY["nla_strcmp"].fn
    s = k.heap.alloc(16)
    k.machine.write(s, b"eth0\0")
    assert strcmp(k, found[0][1], s) == 0
    k.machine.write(s, b"eth1\0")
    assert strcmp(k, found[0][1], s) != 0
    dst = k.heap.alloc(16)
    assert REGISTRY["nla_strscpy"].fn(k, dst, found[0][1], 3) == -7          # -E2BIG
    assert k.machine.read(dst, 3) == b"et\0"
    assert REGISTRY["nla_memcpy"].fn(k, dst, found[1][1], 8) == 4
    assert k.machine.read(dst, 8) == struct.pack("<I", 7) + bytes(4)
    assert nla_put_(k, skb, 3, bytes(600)) < 0                                # -EMSGSIZE


def test_in_pton():
    from kemu.stubs.net.core.inet_pton import _Src, pton4, pton6
    k = Kernel()
    buf = k.heap.alloc(64)
    for text, ok in [("192.168.1.1", True), ("1.2.3.256", False), ("1.2.3", False)]:
        k.machine.write(buf, text.encode() + b"\0")
        ret, addr, _end = pton4(_Src(k, buf), 0, -1, -1)
        assert bool(ret) == ok
        if ok:
            assert addr == ipaddress.IPv4Address(text).packed
    for text in ["::1", "fe80::1:2", "2001:db8::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "::"]:
        k.machine.write(buf, text.encode() + b"\0")
        ret, addr, end = pton6(_Src(k, buf), -1, -1)
        assert ret == 1 and addr == ipaddress.IPv6Address(text).packed and end == len(text)
    k.machine.write(buf, b"1:2\0")
    assert pton6(_Src(k, buf), -1, -1)[0] == 0


def test_ipv6_exthdrs_and_addr_type():
    from kemu.stubs.net.ipv6.addrconf_core import addr_type
    from kemu.stubs.net.ipv6.exthdrs_core import skip_exthdr
    k = Kernel()
    # hop-by-hop (8 bytes) -> fragment (offset 0) -> TCP
    hbh = bytes([44, 0]) + bytes(6)
    frag = bytes([6, 0]) + struct.pack("!H", 0) + bytes(4)
    skb = _skb(k, hbh + frag + bytes(20))
    assert skip_exthdr(k, skb, 0, 0)[:2] == (16, 6)
    frag = bytes([6, 0]) + struct.pack("!H", 8 << 3) + bytes(4)            # offset 8: stops
    skb = _skb(k, hbh + frag + bytes(20))
    off, nexthdr, frag_off = skip_exthdr(k, skb, 0, 0)
    assert (off, nexthdr) == (8, 44) and frag_off == int.from_bytes(struct.pack("!H", 64),
                                                                    "little")
    c = k.target.const
    assert addr_type(k, ipaddress.IPv6Address("::1").packed) & c("IPV6_ADDR_LOOPBACK")
    assert addr_type(k, ipaddress.IPv6Address("ff02::1").packed) & c("IPV6_ADDR_MULTICAST")
    assert addr_type(k, ipaddress.IPv6Address("::").packed) == c("IPV6_ADDR_ANY")


# ------------------------------------------------------------ round 2 models
def test_rbtree_insert_erase_keep_red_black_invariants():
    import random
    from kemu.stubs.lib.rbtree import inorder, rb_erase_node, rb_insert
    k = Kernel()
    m, t = k.machine, k.target
    root = k.heap.alloc(8, zero=True)
    R, L = t.offset("rb_node.rb_right"), t.offset("rb_node.rb_left")
    PC = t.offset("rb_node.__rb_parent_color")
    key_off = t.sizeof("rb_node")

    def key(n):
        return m.read_u64(n + key_off)

    def insert(v):                       # the caller's search + rb_link_node(), then insert
        n = k.heap.alloc(key_off + 8, zero=True)
        m.write_u64(n + key_off, v)
        link, parent, cur = root, 0, m.read_u64(root)
        while cur:
            parent = cur
            link = cur + (L if v < key(cur) else R)
            cur = m.read_u64(link)
        m.write_u64(n + PC, parent)
        m.write_u64(link, n)
        rb_insert(k, n, root)
        return n

    def black_height(n):
        if not n:
            return 1
        pc = m.read_u64(n + PC)
        kids = [m.read_u64(n + L), m.read_u64(n + R)]
        for c in kids:
            if c:
                assert m.read_u64(c + PC) & ~3 == n                  # parent pointers
                assert pc & 1 or m.read_u64(c + PC) & 1, "red node with a red child"
        left, right = (black_height(c) for c in kids)
        assert left == right, "unequal black heights"
        return left + (pc & 1)

    rng = random.Random(7)
    values = rng.sample(range(100000), 400)
    nodes = {v: insert(v) for v in values}
    assert [key(n) for n in inorder(k, root)] == sorted(values)
    black_height(m.read_u64(root))
    assert m.read_u64(m.read_u64(root) + PC) & 1                      # the root is black
    for v in rng.sample(values, 250):
        rb_erase_node(k, nodes.pop(v), root)
        black_height(m.read_u64(root))
    assert [key(n) for n in inorder(k, root)] == sorted(nodes)
    rb_prev, rb_last = REGISTRY["rb_prev"].fn, REGISTRY["rb_last"].fn
    out, n = [], rb_last(k, root)
    while n:
        out.append(key(n))
        n = rb_prev(k, n)
    assert out == sorted(nodes, reverse=True)
    first, nxt = REGISTRY["rb_first_postorder"].fn, REGISTRY["rb_next_postorder"].fn
    seen, n = set(), first(k, root)
    while n:                                                        # children before parents
        assert all(not c or c in seen for c in (m.read_u64(n + L), m.read_u64(n + R)))
        seen.add(n)
        n = nxt(k, n)
    assert len(seen) == len(nodes)
    victim, new = nodes[sorted(nodes)[0]], k.heap.alloc(key_off + 8, zero=True)
    m.write_u64(new + key_off, key(victim))
    REGISTRY["rb_replace_node"].fn(k, victim, new, root)
    assert inorder(k, root)[0] == new
    black_height(m.read_u64(root))


def test_gen_estimator_rates_and_kill():
    k = Kernel()
    m, t = k.machine, k.target
    bstats = k.heap.alloc(t.sizeof("gnet_stats_basic_sync"), zero=True)
    rate_est = k.heap.alloc(8, zero=True)
    opt = k.heap.alloc(8, zero=True)
    m.write_u16(opt, 6)                                  # nla_len: header + gnet_estimator
    m.write(opt + 4, bytes([0xFE, 2]))                   # interval -2 (250 ms), ewma_log 2
    new, kill = k.export_addr("gen_new_estimator"), k.export_addr("gen_kill_estimator")
    assert k.call(new, bstats, 0, rate_est, 0, 0, opt) == 0
    est = m.read_u64(rate_est)
    assert est and ("timer", est) in k.registrations
    for _ in range(40):                                  # 1000 bytes, 10 packets every 250 ms
        m.write_u64(bstats + t.offset("gnet_stats_basic_sync.bytes"),
                    m.read_u64(bstats + t.offset("gnet_stats_basic_sync.bytes")) + 1000)
        m.write_u64(bstats + t.offset("gnet_stats_basic_sync.packets"),
                    m.read_u64(bstats + t.offset("gnet_stats_basic_sync.packets")) + 10)
        k.advance(250)
    sample = k.heap.alloc(16, zero=True)
    assert REGISTRY["gen_estimator_read"].fn(k, rate_est, sample)
    bps, pps = m.read_u64(sample), m.read_u64(sample + 8)
    assert 3900 <= bps <= 4000 and 39 <= pps <= 40       # converging on 4000 B/s, 40 pkt/s
    m.write(opt + 4, bytes([4, 2]))                      # interval 4: -EINVAL
    assert k.call(new, bstats, 0, rate_est, 0, 0, opt) == (-22) & 0xFFFFFFFFFFFFFFFF
    k.call(kill, rate_est)
    assert m.read_u64(rate_est) == 0 and ("timer", est) not in k.registrations
    assert not REGISTRY["gen_estimator_read"].fn(k, rate_est, sample)


def test_routing_answers_with_no_device_up():
    from kemu.stubs.arch.x86.lib.csum import fold, partial
    k = Kernel()
    c = k.target.const
    addr_type = REGISTRY["inet_addr_type"].fn

    def be(text):
        return int.from_bytes(ipaddress.IPv4Address(text).packed, "little")
    assert addr_type(k, 0, be("0.1.2.3")) == c("RTN_BROADCAST")
    assert addr_type(k, 0, be("255.255.255.255")) == c("RTN_BROADCAST")
    assert addr_type(k, 0, be("239.1.1.1")) == c("RTN_MULTICAST")
    assert addr_type(k, 0, be("127.0.0.1")) == c("RTN_UNICAST")      # lo never came up
    assert REGISTRY["nf_route"].fn(k, 0, 0, 0, 0, 2) == -101           # -ENETUNREACH
    assert REGISTRY["nf_route"].fn(k, 0, 0, 0, 0, 10) == -101
    assert REGISTRY["ip_route_output_flow"].fn(k, 0, 0, 0) == (-101) & ((1 << 64) - 1)
    assert REGISTRY["udp4_lib_lookup"].fn(k, 0, 1, 2, 3, 4, 0) == 0    # no socket exists
    # ip_send_check(): the header checksums to zero afterwards
    hdr = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    iph = k.heap.alloc(20)
    k.machine.write(iph, hdr)
    REGISTRY["ip_send_check"].fn(k, iph)
    assert k.machine.read(iph + 10, 2) == bytes.fromhex("b861")
    # csum_ipv6_magic(): the pseudo-header sum (RFC 2460 8.1)
    src, dst = ipaddress.IPv6Address("fe80::1").packed, ipaddress.IPv6Address("ff02::1").packed
    a = k.heap.alloc(32)
    k.machine.write(a, src + dst)
    got = REGISTRY["csum_ipv6_magic"].fn(k, a, a + 16, 20, 6, 0)
    pseudo = src + dst + struct.pack("!I", 20) + bytes(3) + bytes([6])
    assert got == fold(partial(pseudo, 0))
    # unreachable packet paths are findings, not silent successes
    REGISTRY["ipv4_mtu"].fn(k, 0)
    assert [f["kind"] for f in k.findings] == ["not-modelled"]


def test_nf_hook_entries_raw_keep_priority_order():
    from kemu.stubs.net.netfilter.core import entries_ops
    k = Kernel()
    size = k.target.sizeof("nf_hook_ops")
    ops = []
    for prio in (10, -5, 10, 0):
        o = k.heap.alloc(size, zero=True)
        k.machine.write_u32(o + k.target.offset("nf_hook_ops.priority"), prio & 0xFFFFFFFF)
        ops.append(o)
    pp = k.heap.alloc(8, zero=True)
    for o in ops:
        assert REGISTRY["nf_hook_entries_insert_raw"].fn(k, pp, o) == 0
    # ascending priority, a new hook before existing ones of equal priority
    assert entries_ops(k, k.machine.read_u64(pp)) == [ops[1], ops[3], ops[2], ops[0]]
    for o in ops:
        REGISTRY["nf_hook_entries_delete_raw"].fn(k, pp, o)
    assert k.machine.read_u64(pp) == 0


def test_nf_nat_with_xt_nat(debian_modules):
    k, regs = _cycle(debian_modules, "xt_nat", skip={"x_tables"})
    assert ("pernet subsys", "nf_nat") in {r[:2] for r in regs.values()}, regs
    assert {r[2].split()[2] for r in regs.values() if r[1] == "xt_nat"} == {"SNAT", "DNAT"}
    _clean(k)


def test_inetaddr_notifier_chain():
    k = Kernel()
    nb = k.heap.alloc(k.target.sizeof("notifier_block"), zero=True)
    reg, unreg = REGISTRY["register_inetaddr_notifier"].fn, REGISTRY["unregister_inetaddr_notifier"].fn
    assert reg(k, nb) == 0
    assert ("inetaddr notifier", nb) in k.registrations
    assert unreg(k, nb) == 0 and k.registrations == {}
    assert unreg(k, nb) == -2                            # -ENOENT: not on the chain


def test_rhashtable_insert_grow_walk_destroy():
    """rhashtable_init/insert_slow/the deferred rehash/walk/destroy on a u32-keyed table,
    checked against an inline lookup as modules do it (jhash2, hash_rnd, nulls markers)."""
    from kemu.stubs.lib.rhashtable import _l, is_nulls, jhash2_words, jhash_bytes
    assert jhash_bytes(b"", 0) == 0xDEADBEEF and jhash2_words([], 0) == 0xDEADBEEF
    assert jhash_bytes(bytes(range(8)), 1) == jhash2_words(
        [0x03020100, 0x07060504], 1)                 # the same words, the same initval
    k = Kernel()
    m, t, L = k.machine, k.target, _l(k)
    ht = k.heap.alloc(t.sizeof("rhashtable"), zero=True)
    params = k.heap.alloc(t.sizeof("rhashtable_params"), zero=True)
    m.write_u16(params + t.offset("rhashtable_params.key_len"), 4)
    m.write_u16(params + t.offset("rhashtable_params.key_offset"), 8)
    m.write_u8(params + t.offset("rhashtable_params.automatic_shrinking"), 1)
    call = k.export_addr
    bad = k.heap.alloc(t.sizeof("rhashtable_params"), zero=True)  # no key_len, no obj_hashfn
    assert k.call(call("rhashtable_init"), ht, bad) == (-22) & ((1 << 64) - 1)
    assert k.call(call("rhashtable_init"), ht, params) == 0
    assert L.tsize(m.read_u64(ht)) == 64
    objs = {}
    for i in range(300):
        o = k.heap.alloc(16, zero=True)
        m.write_u32(o + 8, i * 7 + 1)
        assert k.call(call("rhashtable_insert_slow"), ht, o + 8, o) == 0
        objs[i * 7 + 1] = o
        k.advance(1)                                    # the deferred worker may run
    assert L.count(ht) == 300 and L.tsize(m.read_u64(ht)) == 512
    dup = k.heap.alloc(16, zero=True)
    m.write_u32(dup + 8, 8)
    assert k.call(call("rhashtable_insert_slow"), ht, dup + 8, dup) == objs[8]

    def lookup(key):
        tbl = m.read_u64(ht)
        h = jhash2_words([key], m.read_u32(tbl + L.t_rnd)) & (L.tsize(tbl) - 1)
        p = m.read_u64(tbl + L.t_buckets + 8 * h) & ~1
        while p and not is_nulls(p):
            if m.read_u32(p + 8) == key:
                return p
            p = m.read_u64(p)
        return 0
    assert all(lookup(key) == o for key, o in objs.items())
    it = k.heap.alloc(t.sizeof("rhashtable_iter"), zero=True)
    REGISTRY["rhashtable_walk_enter"].fn(k, ht, it)
    assert REGISTRY["rhashtable_walk_start_check"].fn(k, it) == 0
    seen = []
    while True:
        obj = REGISTRY["rhashtable_walk_next"].fn(k, it)
        if not obj:
            break
        seen.append(obj)
    REGISTRY["rhashtable_walk_stop"].fn(k, it)
    REGISTRY["rhashtable_walk_exit"].fn(k, it)
    assert sorted(seen) == sorted(objs.values())
    k.call(call("rhashtable_destroy"), ht)
    assert k.findings == []


def test_socket_core_option_memory_and_no_ops():
    """net/core/sock.c as af_alg/algif_* use it: sk_omem_alloc accounting, sock_no_*."""
    k = Kernel()
    m, t = k.machine, k.target
    sk = k.heap.alloc(t.sizeof("sock"), zero=True)
    omem = sk + t.offset("sock.sk_omem_alloc")
    kmalloc, kfree_s = REGISTRY["sock_kmalloc"].fn, REGISTRY["sock_kzfree_s"].fn
    a = kmalloc(k, sk, 20000, 0)
    assert a and m.read_u32(omem) == 20000
    assert kmalloc(k, sk, 480, 0) == 0                   # 20000 + 480 reaches optmem_max
    assert m.read_u32(omem) == 20000
    m.write(a, b"secret")
    kfree_s(k, sk, a, 20000)
    assert m.read_u32(omem) == 0
    assert REGISTRY["sock_no_bind"].fn(k, 0, 0, 0) == -95             # -EOPNOTSUPP
    assert REGISTRY["sock_no_mmap"].fn(k, 0, 0, 0) == -19             # -ENODEV
    assert REGISTRY["sk_alloc"].fn(k, 0, 38, 0, 0, 0) == 0
    assert [f["kind"] for f in k.findings] == ["not-modelled"]       # no socket(2) in kemu


def test_llc_packet_handlers(debian_modules):
    k, regs = _cycle(debian_modules, "llc")
    handlers = [r for r in regs.values() if r[0] == "packet type"]
    assert handlers and all(r[1] == "llc" for r in handlers), regs
    _clean(k)


def test_genetlink_family_register_unregister():
    from kemu.stubs.net.netlink.genetlink import find_family
    k = Kernel()
    m, t = k.machine, k.target

    def family(name, ops):
        fam = k.heap.alloc(t.sizeof("genl_family"), zero=True)
        m.write(fam + t.offset("genl_family.name"), name.encode() + b"\0")
        m.write_u32(fam + t.offset("genl_family.version"), 1)
        arr = k.heap.alloc(t.sizeof("genl_small_ops") * len(ops), zero=True)
        for i, (cmd, doit) in enumerate(ops):
            op = arr + i * t.sizeof("genl_small_ops")
            m.write_u8(op + t.offset("genl_small_ops.cmd"), cmd)
            m.write_u64(op + t.offset("genl_small_ops.doit"), doit)
        m.write_u64(fam + t.offset("genl_family.small_ops"), arr)
        m.write_u8(fam + t.offset("genl_family.n_small_ops"), len(ops))
        return fam
    reg, unreg = REGISTRY["genl_register_family"].fn, REGISTRY["genl_unregister_family"].fn
    fn = k.export_addr("_printk")                     # any code address will do as doit
    a = family("kemu_a", [(1, fn), (2, fn)])
    assert reg(k, a) == 0
    fid = m.read_u32(a + t.offset("genl_family.id"))
    assert fid == t.const("GENL_START_ALLOC") and find_family(k, "kemu_a") == a
    assert reg(k, family("kemu_a", [(1, fn)])) == -17             # -EEXIST: same name
    assert reg(k, family("kemu_b", [(1, fn), (1, fn)])) == -22    # a command twice
    assert reg(k, family("kemu_c", [(1, 0)])) == -22              # neither doit nor dumpit
    b = family("kemu_d", [(3, fn)])
    assert reg(k, b) == 0 and m.read_u32(b + t.offset("genl_family.id")) == fid + 1
    skb = _skb(k, b"")
    hdr = REGISTRY["genlmsg_put"].fn(k, skb, 7, 9, b, 0, 3)
    data = m.read_u64(skb + t.offset("sk_buff.data"))
    assert hdr == data + 16 + 4
    assert m.read_u16(data + 4) == fid + 1 and m.read_u8(data + 16) == 3   # type, cmd
    assert unreg(k, a) == 0 and unreg(k, a) == -2 and unreg(k, b) == 0
    assert k.registrations == {}
