"""sk_buff basics, RTNL and kernel netlink sockets, on real Debian netfilter modules."""
import pytest

import kemu
from kemu.stubs.net.core import skbuff
from kemu.stubs.net.netfilter.packet import build_ipv4, build_skb
from kemu.stubs.lib.nlattr import nla_put_

NOW_LOADING = ["nfnetlink", "xt_DSCP", "xt_HL", "xt_NFQUEUE", "xt_dccp", "xt_ecn", "xt_esp",
               "xt_ipcomp", "xt_multiport", "xt_sctp", "xt_tcpmss", "xt_tcpudp", "xt_u32"]


@pytest.mark.parametrize("name", NOW_LOADING)
def test_debian_module_loads_and_unloads(debian_modules, name):
    path = next((debian_modules / "net/netfilter").rglob(f"{name}.ko*"))
    with kemu.Kernel() as k:
        mod = k.load(str(path))
        k.unload(mod)
        assert k.findings == []


def _u32(k, skb, member):
    return k.machine.read_u32(skb + k.target.offset(f"sk_buff.{member}"))


def _ptr(k, skb, member):
    return k.machine.read_u64(skb + k.target.offset(f"sk_buff.{member}"))


def test_pull_push_trim_copy_bits():
    with kemu.Kernel() as k:
        pkt = build_ipv4("udp", "10.0.0.1", "10.0.0.2", 1, 53, b"hello")
        skb, _state = build_skb(k, pkt, 1)
        data = _ptr(k, skb, "data")
        assert skbuff.skb_pull_(k, skb, 20) == data + 20
        assert _u32(k, skb, "len") == len(pkt) - 20
        assert skbuff.skb_pull_(k, skb, 1000) == 0
        assert skbuff.skb_push_(k, skb, 20) == data
        assert _u32(k, skb, "len") == len(pkt)
        assert skbuff.skb_copy_bits_(k, skb, 0, len(pkt)) == pkt
        assert skbuff.skb_copy_bits_(k, skb, 1, len(pkt)) is None
        skbuff.skb_trim_(k, skb, 20)
        assert _u32(k, skb, "len") == 20
        assert _u32(k, skb, "tail") == data - _ptr(k, skb, "head") + 20


def test_alloc_put_clone_free_and_nla_put():
    with kemu.Kernel() as k:
        skb = skbuff.alloc_skb_(k, 100)
        assert _u32(k, skb, "len") == 0 and _u32(k, skb, "end") >= 100
        assert skbuff.skb_put_(k, skb, 10) == _ptr(k, skb, "data")
        assert _u32(k, skb, "len") == 10 and _u32(k, skb, "tail") == 10
        assert nla_put_(k, skb, 3, b"abcde") == 0
        assert _u32(k, skb, "len") == 10 + 12
        assert bytes(k.machine.read(_ptr(k, skb, "data") + 10, 12)) == \
            b"\x09\x00\x03\x00abcde\0\0\0"
        assert nla_put_(k, skb, 3, bytes(4096)) < 0
        head = _ptr(k, skb, "head")
        clone = skbuff.clone_skb(k, skb)
        assert _ptr(k, clone, "head") == head and skbuff.is_cloned(k, skb)
        skbuff.free_skb(k, skb)
        assert k.heap.find(head) is not None           # the clone still holds the data
        skbuff.free_skb(k, clone)
        assert k.heap.find(head) is None and k.heap.find(clone) is None
