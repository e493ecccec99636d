"""net/core/dev.c, net/core/gro.c: the netdevice notifier chain, packet handlers,
the receive path and NAPI.

Lookups by index or name find no device (NULL, as on Linux for an unknown
ifindex; kemu's boot devices are not modelled), and no device has a master.
``register_netdevice_notifier`` puts the block on ``netdev_chain`` in
priority order; NETDEV_REGISTER/NETDEV_UP of earlier devices are not replayed.

Receive: ``netif_rx``, ``netif_receive_skb`` and ``napi_gro_receive`` run
``__netif_receive_skb_core`` at once (netif_rx from process context does:
its local_bh_enable() runs the backlog before it returns; a device that is
not running drops the skb there, NET_RX_DROP): the MAC/network
header offsets and skb_iif, then each ETH_P_ALL handler, the device's
rx_handler, and the handlers of skb->protocol (dev_add_pack), each but the
last with a reference of its own, the last with the skb's. A frame nobody takes is counted in the device's
rx_dropped (its core stats) and freed; IPv4, IPv6 and ARP frames go to the
built-in stacks, which kemu does not model: they are consumed. Every
frame is recorded (``received_frames(k)``). GRO does not merge: every skb is
GRO_NORMAL.

NAPI: ``netif_napi_add_weight`` lists the instance on the device
(NAPI_STATE_SCHED|NPSVC until ``napi_enable``), ``__napi_schedule`` raises
NET_RX, whose softirq calls ``poll(napi, weight)`` and polls again while the
driver uses its whole budget and keeps the instance scheduled;
``napi_complete_done`` and ``napi_disable`` follow the state bits of 6.1.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass

from kemu import data, export
from kemu.abi.exports import members
from kemu.abi.toolkit import cstr, kfree, kzalloc, rd, s32, sym, wr
from kemu.kernel.log import KERN_ERR, KERN_WARNING

from ...kernel.sched.core import SoftItem, sched
from ..netlink.af_netlink import chain_register, chain_unregister
from .skbuff import _kfree_skb, free_skb

members("struct sk_buff", "skb_iif", "mac_len", "network_header", "transport_header")
members("struct napi_struct", "state", "weight", "poll", "dev", "dev_list", "poll_list")
members("struct net_device", "napi_list", "rx_handler", "rx_handler_data", "stats", "tstats")
members("struct packet_type", "type", "dev", "func")
members("struct pcpu_sw_netstats", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes")
members("struct rtnl_link_stats64", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
        "rx_dropped")

# lib/rbtree.c, lib/rhashtable.c (stubs/lib/rbtree.py, stubs/lib/rhashtable.py)
members("struct packet_type", "type", "dev", "func", "list", "af_packet_priv")


class _NetdevChain:
    def __init__(self, k):
        self.blocks: list[int] = []


@export("struct net_device *dev_get_by_index_rcu(struct net *net, int ifindex)")
def dev_get_by_index_rcu(k, net, ifindex):
    return 0


@export("struct net_device *dev_get_by_index(struct net *net, int ifindex)")
def dev_get_by_index(k, net, ifindex):
    return 0


@export("struct net_device *dev_get_by_name_rcu(struct net *net, const char *name)")
def dev_get_by_name_rcu(k, net, name):
    return 0


@export("struct net_device *dev_get_by_name(struct net *net, const char *name)")
def dev_get_by_name(k, net, name):
    return 0


@export("struct net_device *__dev_get_by_index(struct net *net, int ifindex)")
def __dev_get_by_index(k, net, ifindex):
    return 0


@export("struct net_device *netdev_master_upper_dev_get_rcu(struct net_device *dev)")
def netdev_master_upper_dev_get_rcu(k, dev):
    return 0


@export("int register_netdevice_notifier(struct notifier_block *nb)")
def register_netdevice_notifier(k, nb):
    return chain_register(k, k.model(_NetdevChain).blocks, nb, "netdevice notifier",
                          "netdevice notifier")


@export("int unregister_netdevice_notifier(struct notifier_block *nb)")
def unregister_netdevice_notifier(k, nb):
    return chain_unregister(k, k.model(_NetdevChain).blocks, nb, "netdevice notifier")


@data("struct static_key_false netstamp_needed_key")
def netstamp_needed_key(k, addr):
    """Off: nobody asked for receive timestamps."""


@export("struct net_device *__dev_get_by_name(struct net *net, const char *name)")
def __dev_get_by_name(k, net, name):
    return 0


# ------------------------------------------------------------ packet handlers
class _Ptype:
    """ptype_all and ptype_base[] (Python lists of struct packet_type addresses)."""

    def __init__(self, k):
        self.lists: dict = {}


def _ptype_head(k, pt):
    """ptype_head(): (device or 0, "all" or the ptype_base hash of ntohs(type))."""
    from kemu.abi.toolkit import rd
    c = k.target.const
    ptype = rd(k, pt, "packet_type.type", 2)
    dev = rd(k, pt, "packet_type.dev")
    host = ((ptype & 0xFF) << 8) | (ptype >> 8)                 # ntohs()
    if host == c("ETH_P_ALL"):
        return dev, "all"
    return dev, host & c("PTYPE_HASH_MASK")


@export("void dev_add_pack(struct packet_type *pt)")
def dev_add_pack(k, pt):
    from kemu.abi.toolkit import rd, sym
    k.model(_Ptype).lists.setdefault(_ptype_head(k, pt), []).insert(0, pt)   # list_add_rcu
    func = rd(k, pt, "packet_type.func")
    ptype = rd(k, pt, "packet_type.type", 2)
    k.register("packet type", pt, k.module_containing(func) or k.current_module(),
               f"packet handler {sym(k, func)} (ethertype {((ptype & 0xFF) << 8) | (ptype >> 8):#06x})")


@export("void __dev_remove_pack(struct packet_type *pt)")
def __dev_remove_pack(k, pt):
    lst = k.model(_Ptype).lists.get(_ptype_head(k, pt), [])
    if pt in lst:
        lst.remove(pt)
        k.unregister("packet type", pt)
    else:
        from ...lib.vsprintf import Spec, ptr_to_id
        spec = Spec()
        spec.field_width, spec.precision = -1, -1
        buf = bytearray()
        ptr_to_id(buf, pt, spec)                 # %p: hashed
        k.log.emit(KERN_WARNING, f"dev_remove_pack: {buf.decode()} not found")


@export("void dev_remove_pack(struct packet_type *pt)")
def dev_remove_pack(k, pt):
    __dev_remove_pack(k, pt)                     # then synchronize_net(): no reader in flight


@export("int dev_mc_add(struct net_device *dev, const unsigned char *addr)")
def dev_mc_add(k, dev, addr):
    """net/core/dev_addr_lists.c: no net_device exists in kemu for a module to pass."""
    k.finding("not-modelled", "dev_mc_add() was called, but kemu has no net_device",
              k.current_module())
    return -12                                   # -ENOMEM


@export("int dev_mc_del(struct net_device *dev, const unsigned char *addr)")
def dev_mc_del(k, dev, addr):
    k.finding("not-modelled", "dev_mc_del() was called, but kemu has no net_device",
              k.current_module())
    return -2                                    # -ENOENT


@export("void __dev_kfree_skb_irq(struct sk_buff *skb, enum skb_free_reason reason)")
def __dev_kfree_skb_irq(k, skb, reason):
    """Freed at once (Linux defers to NET_TX's completion queue: the same frees, later)."""
    yield from _kfree_skb(k, skb)


@export("void __dev_kfree_skb_any(struct sk_buff *skb, enum skb_free_reason reason)")
def __dev_kfree_skb_any(k, skb, reason):
    yield from _kfree_skb(k, skb)


# ------------------------------------------------------------ netdev_printk's prefix
_REG_STATE = {"NETREG_UNINITIALIZED": " (uninitialized)", "NETREG_REGISTERED": "",
              "NETREG_UNREGISTERING": " (unregistering)", "NETREG_UNREGISTERED": " (unregistered)",
              "NETREG_RELEASED": " (released)", "NETREG_DUMMY": " (dummy)"}


def netdev_prefix(k, dev) -> bytes:
    """__netdev_printk()'s prefix (with or without a parent device)."""
    if not dev:
        return b"(NULL net_device): "
    name = cstr(k, dev + k.target.offset("net_device.name"), 16)
    if not name or "%" in name:
        name = "(unnamed net_device)"                      # netdev_name()
    state = rd(k, dev, "net_device.reg_state", 1)
    suffix = next((s for c, s in _REG_STATE.items() if k.target.const(c) == state), " (unknown)")
    if suffix == " (unknown)":
        from ...lib.kemu_warn import warn_once
        warn_once(k, "include/linux/netdevice.h:5190", "netdev_reg_state",
                  f"{name}: unknown reg_state {state}")
    parent = rd(k, dev + k.target.offset("net_device.dev"), "device.parent")
    text = f"{name}{suffix}: "
    if parent:
        from ...drivers.base.core import dev_driver_string_of, dev_name
        text = f"{dev_driver_string_of(k, parent)} {dev_name(k, parent)} {text}"
    return text.encode("utf-8", "surrogateescape")


# ------------------------------------------------------------ receive
ETH_P_ALL = 0x0003
STACKS = {0x0800: "IPv4", 0x86DD: "IPv6", 0x0806: "ARP"}     # built into Debian's kernel
RX_HANDLER_CONSUMED, RX_HANDLER_ANOTHER, RX_HANDLER_EXACT, RX_HANDLER_PASS = 0, 1, 2, 3
NET_RX_SUCCESS, NET_RX_DROP = 0, 1


@dataclass
class Frame:
    """One frame the receive path saw: device, ethertype, length, who took it."""
    dev: str
    protocol: int
    length: int
    data: bytes
    taken_by: list


class Receive:
    """Per-kernel receive side: frames seen, drops per device (its core_stats)."""

    def __init__(self, k):
        self.frames: list[Frame] = []
        self.dropped: dict[int, int] = {}


def received_frames(k) -> list:
    return k.model(Receive).frames


def rx_dropped(k, dev: int) -> int:
    return k.model(Receive).dropped.get(dev, 0)


def _ntohs(v: int) -> int:
    return ((v & 0xFF) << 8) | (v >> 8)


def _handlers(k, dev: int, proto: int) -> list:
    """ptype_all, then ptype_base of proto (with the device's own lists), newest first."""
    lists = k.model(_Ptype).lists
    out = list(lists.get((0, "all"), [])) + list(lists.get((dev, "all"), []))
    key = proto & k.target.const("PTYPE_HASH_MASK")
    by_type = [pt for pt in lists.get((0, key), []) + lists.get((dev, key), [])
               if _ntohs(rd(k, pt, "packet_type.type", 2)) == proto]
    return out, by_type


def netif_receive_(k, skb: int):
    """__netif_receive_skb_core() for one skb: NET_RX_SUCCESS or NET_RX_DROP."""
    m = k.machine
    dev = rd(k, skb, "sk_buff.dev")
    head, data_ = rd(k, skb, "sk_buff.head"), rd(k, skb, "sk_buff.data")
    wr(k, skb, "sk_buff.skb_iif", rd(k, dev, "net_device.ifindex", 4), 4)
    wr(k, skb, "sk_buff.network_header", data_ - head, 2)          # skb_reset_network_header
    if rd(k, skb, "sk_buff.transport_header", 2) == 0xFFFF:
        wr(k, skb, "sk_buff.transport_header", data_ - head, 2)
    mac = rd(k, skb, "sk_buff.mac_header", 2)
    if mac != 0xFFFF:
        wr(k, skb, "sk_buff.mac_len", (data_ - head - mac) & 0xFFFF, 2)
    proto = _ntohs(rd(k, skb, "sk_buff.protocol", 2))
    length = rd(k, skb, "sk_buff.len", 4)
    frame = Frame(cstr(k, dev + k.target.offset("net_device.name"), 16), proto, length,
                  bytes(m.read(data_, min(length, 256))), [])
    k.model(Receive).frames.append(frame)
    taps, by_type = _handlers(k, dev, proto)
    pending = None                                  # pt_prev: delivered once the next is known

    def deliver(pt):
        users = rd(k, skb, "sk_buff.users", 4)      # deliver_skb(): one reference each
        wr(k, skb, "sk_buff.users", users + 1, 4)
        frame.taken_by.append(sym(k, rd(k, pt, "packet_type.func")))
        return (yield k.call_request(rd(k, pt, "packet_type.func"), skb, dev, pt, dev))

    for pt in taps:
        if pending:
            yield from deliver(pending)
        pending = pt
    handler = rd(k, dev, "net_device.rx_handler")
    if handler:
        if pending:
            yield from deliver(pending)
            pending = None
        pskb = kzalloc(k, 8, "rx_handler skb")
        m.write_u64(pskb, skb)
        ret = s32((yield k.call_request(handler, pskb)))
        skb = m.read_u64(pskb)
        kfree(k, pskb)
        frame.taken_by.append(sym(k, handler))
        if ret == RX_HANDLER_CONSUMED:
            return NET_RX_SUCCESS
    for pt in by_type:
        if pending:
            yield from deliver(pending)
        pending = pt
    if pending:                                     # the last one gets the skb's reference
        frame.taken_by.append(sym(k, rd(k, pending, "packet_type.func")))
        ret = (yield k.call_request(rd(k, pending, "packet_type.func"), skb, dev, pending, dev))
        return s32(ret)
    if proto in STACKS:
        frame.taken_by.append(STACKS[proto])
        yield from _kfree_skb(k, skb)
        return NET_RX_SUCCESS
    rx = k.model(Receive)
    rx.dropped[dev] = rx.dropped.get(dev, 0) + 1    # dev_core_stats_rx_dropped_inc()
    yield from _kfree_skb(k, skb)
    return NET_RX_DROP


def _backlog(k, skb):
    """enqueue_to_backlog(): a device that is not running drops the skb (NET_RX_DROP);
    otherwise the backlog is processed before netif_rx() returns (its local_bh_enable())."""
    dev = rd(k, skb, "sk_buff.dev")
    if not rd(k, dev, "net_device.state") & 1 << k.target.const("__LINK_STATE_START"):
        rx = k.model(Receive)
        rx.dropped[dev] = rx.dropped.get(dev, 0) + 1
        yield from _kfree_skb(k, skb)
        return NET_RX_DROP
    yield from netif_receive_(k, skb)
    return NET_RX_SUCCESS


@export("int netif_rx(struct sk_buff *skb)")
def netif_rx(k, skb):
    return (yield from _backlog(k, skb))


@export("int __netif_rx(struct sk_buff *skb)")
def __netif_rx(k, skb):
    return (yield from _backlog(k, skb))


@export("int netif_receive_skb(struct sk_buff *skb)")
def netif_receive_skb(k, skb):
    return (yield from netif_receive_(k, skb))


@export("void netif_receive_skb_list(struct list_head *head)")
def netif_receive_skb_list(k, head):
    node = k.machine.read_u64(head)
    while node != head:
        nxt = k.machine.read_u64(node)
        wr(k, node, "sk_buff.next", 0)                # skb->list is the skb's first member
        yield from netif_receive_(k, node)
        node = nxt
    k.machine.write_u64(head, head)
    k.machine.write_u64(head + 8, head)


@export("gro_result_t napi_gro_receive(struct napi_struct *napi, struct sk_buff *skb)")
def napi_gro_receive(k, napi, skb):
    yield from netif_receive_(k, skb)
    return k.target.const("GRO_NORMAL")


@export("int netdev_rx_handler_register(struct net_device *dev, "
        "rx_handler_func_t *rx_handler, void *rx_handler_data)")
def netdev_rx_handler_register(k, dev, rx_handler, rx_handler_data):
    if rd(k, dev, "net_device.rx_handler"):
        return -errno.EBUSY
    if rd(k, dev, "net_device.priv_flags") & k.target.const("IFF_NO_RX_HANDLER"):
        return -errno.EINVAL
    wr(k, dev, "net_device.rx_handler_data", rx_handler_data)
    wr(k, dev, "net_device.rx_handler", rx_handler)
    k.register("rx handler", dev, k.module_containing(rx_handler) or k.current_module(),
               f"rx handler {sym(k, rx_handler)} on "
               f"{cstr(k, dev + k.target.offset('net_device.name'), 16)}")
    return 0


@export("void netdev_rx_handler_unregister(struct net_device *dev)")
def netdev_rx_handler_unregister(k, dev):
    wr(k, dev, "net_device.rx_handler", 0)
    wr(k, dev, "net_device.rx_handler_data", 0)
    k.unregister("rx handler", dev)


# ------------------------------------------------------------ NAPI
NET_RX_PRIO = 3                     # NET_RX_SOFTIRQ
NAPI_POLL_WEIGHT = 64
REPOLL_LIMIT = 1000                 # full-budget polls in a row before kemu stops repolling


class Napi:
    """Per-kernel NAPI: the instances with a poll pending in NET_RX."""

    def __init__(self, k):
        self.k = k
        self.pending: set = set()
        self.repolls: dict = {}
        self.warned: set = set()


def _bit(k, name: str) -> int:
    return 1 << k.target.const(name)


def _napi_state(k, n) -> int:
    return rd(k, n, "napi_struct.state")


def _set_napi_state(k, n, v) -> None:
    wr(k, n, "napi_struct.state", v)


def _napi_raise(k, n) -> None:
    """____napi_schedule(): onto the poll list, NET_RX raised."""
    nm = k.model(Napi)
    if n in nm.pending:
        return
    nm.pending.add(n)
    poll = rd(k, n, "napi_struct.poll")
    s = sched(k)

    def prepare():
        if n not in nm.pending:
            return None
        nm.pending.discard(n)
        if not _napi_state(k, n) & _bit(k, "NAPI_STATE_SCHED"):
            return None
        return rd(k, n, "napi_struct.poll"), (n, rd(k, n, "napi_struct.weight", 4))

    def done(rax, count):
        work, weight = s32(rax), s32(rd(k, n, "napi_struct.weight", 4))
        if work > weight:
            k.log.emit(KERN_ERR, f"{sym(k, poll)} exceeded budget in poll")
        if work < weight:
            nm.repolls.pop(n, None)
            return
        state = _napi_state(k, n)
        if state & _bit(k, "NAPI_STATE_DISABLE"):      # napi_disable_pending(): complete it
            napi_complete_done(k, n, 0)
            return
        if state & _bit(k, "NAPI_STATE_SCHED"):
            nm.repolls[n] = nm.repolls.get(n, 0) + 1
            if nm.repolls[n] < REPOLL_LIMIT:
                _napi_raise(k, n)

    s.raise_softirq(SoftItem(NET_RX_PRIO, "net_rx", prepare, done, entry=f"napi {sym(k, poll)}",
                             owner=s.owner_of(poll), obj=n))


@export("void netif_napi_add_weight(struct net_device *dev, struct napi_struct *napi, "
        "int (*poll)(struct napi_struct *, int), int weight)")
def netif_napi_add_weight(k, dev, napi, poll, weight):
    from ...lib.kemu_warn import warn
    state = _napi_state(k, napi)
    if state & _bit(k, "NAPI_STATE_LISTED"):
        warn(k, "net/core/dev.c:6446", "netif_napi_add_weight+0x2e/0x1c0")
        return
    wr(k, napi, "napi_struct.poll", poll)
    weight = s32(weight)
    if weight > NAPI_POLL_WEIGHT and dev not in k.model(Napi).warned:
        k.model(Napi).warned.add(dev)                  # netdev_err_once()
        k.log.emit(KERN_ERR, netdev_prefix(k, dev).decode("utf-8", "surrogateescape") +
                   f"netif_napi_add_weight() called with weight {weight}")
    wr(k, napi, "napi_struct.weight", weight & 0xFFFFFFFF, 4)
    wr(k, napi, "napi_struct.dev", dev)
    _set_napi_state(k, napi, state | _bit(k, "NAPI_STATE_LISTED") |
                    _bit(k, "NAPI_STATE_SCHED") | _bit(k, "NAPI_STATE_NPSVC"))
    from kemu.abi.toolkit import list_add
    head = dev + k.target.offset("net_device.napi_list")
    if not k.machine.read_u64(head):                   # a hand-made device
        k.machine.write_u64(head, head)
        k.machine.write_u64(head + 8, head)
    list_add(k, napi + k.target.offset("napi_struct.dev_list"), head)


@export("void __netif_napi_del(struct napi_struct *napi)")
def __netif_napi_del(k, napi):
    from kemu.abi.toolkit import list_del
    state = _napi_state(k, napi)
    if not state & _bit(k, "NAPI_STATE_LISTED"):
        return
    _set_napi_state(k, napi, state & ~_bit(k, "NAPI_STATE_LISTED"))
    k.model(Napi).pending.discard(napi)
    list_del(k, napi + k.target.offset("napi_struct.dev_list"))


def napi_del_all(k, dev) -> None:
    """free_netdev()'s netif_napi_del() of every instance still on the device."""
    head = dev + k.target.offset("net_device.napi_list")
    off = k.target.offset("napi_struct.dev_list")
    node = k.machine.read_u64(head)
    while node and node != head:
        nxt = k.machine.read_u64(node)
        __netif_napi_del(k, node - off)
        node = nxt


@export("void napi_enable(struct napi_struct *n)")
def napi_enable(k, n):
    from ...lib.kemu_warn import bug
    state = _napi_state(k, n)
    if not state & _bit(k, "NAPI_STATE_SCHED"):
        bug(k, "net/core/dev.c:6566")
    _set_napi_state(k, n, state & ~(_bit(k, "NAPI_STATE_SCHED") | _bit(k, "NAPI_STATE_NPSVC")))


@export("void napi_disable(struct napi_struct *n)")
def napi_disable(k, n):
    """The pending poll (if any) is dropped rather than waited for; then SCHED|NPSVC."""
    k.model(Napi).pending.discard(n)
    state = _napi_state(k, n)
    state |= _bit(k, "NAPI_STATE_SCHED") | _bit(k, "NAPI_STATE_NPSVC")
    state &= ~(_bit(k, "NAPI_STATE_DISABLE") | _bit(k, "NAPI_STATE_PREFER_BUSY_POLL"))
    _set_napi_state(k, n, state)


@export("bool napi_schedule_prep(struct napi_struct *n)")
def napi_schedule_prep(k, n):
    val = _napi_state(k, n)
    if val & _bit(k, "NAPI_STATE_DISABLE"):
        return False
    sched_ = _bit(k, "NAPI_STATE_SCHED")
    new = val | sched_ | (_bit(k, "NAPI_STATE_MISSED") if val & sched_ else 0)
    _set_napi_state(k, n, new)
    return not val & sched_


@export("void __napi_schedule(struct napi_struct *n)")
def __napi_schedule(k, n):
    _napi_raise(k, n)


@export("void __napi_schedule_irqoff(struct napi_struct *n)")
def __napi_schedule_irqoff(k, n):
    _napi_raise(k, n)


@export("bool napi_complete_done(struct napi_struct *n, int work_done)")
def napi_complete_done(k, n, work_done):
    from ...lib.kemu_warn import warn_once
    val = _napi_state(k, n)
    if val & (_bit(k, "NAPI_STATE_NPSVC") | _bit(k, "NAPI_STATE_IN_BUSY_POLL")):
        return False
    if not val & _bit(k, "NAPI_STATE_SCHED"):
        warn_once(k, "net/core/dev.c:6090", "napi_complete_done+0x15a/0x180")
    new = val & ~(_bit(k, "NAPI_STATE_MISSED") | _bit(k, "NAPI_STATE_SCHED") |
                  _bit(k, "NAPI_STATE_SCHED_THREADED") | _bit(k, "NAPI_STATE_PREFER_BUSY_POLL"))
    if val & _bit(k, "NAPI_STATE_MISSED"):
        new |= _bit(k, "NAPI_STATE_SCHED")
    _set_napi_state(k, n, new)
    if val & _bit(k, "NAPI_STATE_MISSED"):
        _napi_raise(k, n)
        return False
    return True
