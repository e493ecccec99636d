"""net/core/dev.c, net/ethernet/eth.c: allocating and registering network devices.

A ``struct net_device`` is laid out as ``alloc_netdev_mqs`` lays it out: one
zeroed allocation, the device aligned to NETDEV_ALIGN and its private area
after it (``netdev_priv``), ``padded`` recording the alignment, the TX and RX
queue arrays, ``dev_addr`` pointing into a ``netdev_hw_addr`` as
``dev_addr_init`` sets it, then the driver's ``setup`` (``ether_setup`` for
``alloc_etherdev_mqs``: Ethernet type, lengths, MTU range, broadcast
address, flags and queue length). ``register_netdev`` (rtnl held) resolves a
``%d`` name to the lowest free unit, refuses a taken name (-EEXIST), calls
``ndo_init``, gives the next ifindex (1 is lo), marks the device present and
registered and runs the netdevice notifier chain (NETDEV_REGISTER);
``unregister_netdev`` runs NETDEV_UNREGISTER, ``ndo_uninit``, and frees the
device when ``needs_free_netdev`` asks. A device still registered after its
module's exit is reported. ``netif_carrier_on/off`` keep __LINK_STATE_NOCARRIER
(the linkwatch event is not modelled); ``netdev_<level>()`` print as
``__netdev_printk`` does. Not modelled: opening a device (nothing brings it
up), transmit and receive (/proc/net/dev lists lo and the registered devices,
every counter 0), ``eth_header_ops`` (header_ops stays NULL), sysfs entries.

Python API: ``net_devices(k) -> [(name, ifindex, owner module name or None)]``.
"""
from __future__ import annotations

import errno
import re

from kemu import export
from kemu.kernel.log import KERN_ERR
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, kfree, kzalloc, rd, rd_s32, wr
from kemu.stubs.lib.vsprintf import vformat
from .dev import _NetdevChain, napi_del_all, netdev_prefix, rx_dropped

members("struct net_device", "unreg_list", "lstats")
members("struct pcpu_lstats", "packets", "bytes")
members("struct net_device_ops", "ndo_validate_addr", "ndo_get_stats64", "ndo_get_stats")
members("struct net_device_stats", "rx_packets", "tx_packets", "rx_bytes", "tx_bytes",
        "rx_errors", "tx_errors", "rx_dropped", "tx_dropped", "multicast", "collisions",
        "rx_fifo_errors", "rx_frame_errors", "rx_compressed", "tx_fifo_errors",
        "tx_carrier_errors", "tx_compressed", "rx_length_errors", "rx_over_errors",
        "rx_crc_errors", "rx_missed_errors", "tx_aborted_errors", "tx_window_errors",
        "tx_heartbeat_errors")

members("struct device", "parent")
members("struct notifier_block", "notifier_call")
members("struct net_device", "name", "ifindex", "state", "flags", "netdev_ops", "mtu",
        "min_mtu", "max_mtu", "type", "hard_header_len", "addr_len", "dev_addr", "broadcast",
        "tx_queue_len", "_tx", "_rx", "reg_state", "needs_free_netdev", "priv_destructor",
        "padded", "dev", "name_assign_type", "dev_list", "nd_net", "priv_flags", "ethtool_ops",
        "header_ops", "num_tx_queues", "real_num_tx_queues", "num_rx_queues",
        "real_num_rx_queues", "watchdog_timeo", "perm_addr", "addr_assign_type")
members("struct net_device_ops", "ndo_init", "ndo_uninit", "ndo_open", "ndo_stop",
        "ndo_start_xmit")
members("struct netdev_hw_addr", "addr", "list", "type")
members("struct netdev_notifier_info", "dev", "extack")
members("struct netdev_queue", "dev", "state")
members("struct netdev_rx_queue", "dev")

FIRST_IFINDEX = 2          # dev_new_index() on a machine whose only device is lo (1)


class NetDevices:
    """Per-kernel registered net devices: address -> name, and the ifindex counter."""

    def __init__(self, k):
        self.k = k
        self.names: dict[int, str] = {}
        self.owner: dict[int, object] = {}
        self.ifindex = FIRST_IFINDEX - 1
        self.eth_fmt = k.machine.alloc_kdata(len(b"eth%d\0"), 1)     # alloc_etherdev's name
        k.machine.write(self.eth_fmt, b"eth%d\0")


def net_devices(k) -> list:
    nd = k.model(NetDevices)
    return [(name, rd_s32(k, dev, "net_device.ifindex"),
             getattr(nd.owner.get(dev), "name", None)) for dev, name in nd.names.items()]


def _c(k, name):
    return k.target.const(name)


def proc_net_dev(k) -> str:
    """/proc/net/dev (dev_seq_show): lo, then the registered devices by ifindex.

    The counters are dev->stats (what a driver without ndo_get_stats64 counts in) with
    the receive path's drops; a driver's own ndo_get_stats64 is not consulted."""
    lines = ["Inter-|   Receive                                                |  Transmit",
             " face |bytes    packets errs drop fifo frame compressed multicast|bytes    "
             "packets errs drop fifo colls carrier compressed"]
    fmt = "%6s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d"
    lines.append(fmt % (("lo",) + (0,) * 16))
    nd = k.model(NetDevices)
    for dev in sorted(nd.names, key=lambda d: rd_s32(k, d, "net_device.ifindex")):
        s = {f: k.machine.read_u64(dev + k.target.offset("net_device.stats") +
                                k.target.offset(f"net_device_stats.{f}"))
             for f in _STATS}
        s["rx_dropped"] += rx_dropped(k, dev)
        lines.append(fmt % (
            nd.names[dev], s["rx_bytes"], s["rx_packets"], s["rx_errors"],
            s["rx_dropped"] + s["rx_missed_errors"], s["rx_fifo_errors"],
            s["rx_length_errors"] + s["rx_over_errors"] + s["rx_crc_errors"] +
            s["rx_frame_errors"], s["rx_compressed"], s["multicast"], s["tx_bytes"],
            s["tx_packets"], s["tx_errors"], s["tx_dropped"], s["tx_fifo_errors"],
            s["collisions"], s["tx_carrier_errors"] + s["tx_aborted_errors"] +
            s["tx_window_errors"] + s["tx_heartbeat_errors"], s["tx_compressed"]))
    return "\n".join(lines) + "\n"


_STATS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors",
          "rx_dropped", "tx_dropped", "multicast", "collisions", "rx_length_errors",
          "rx_over_errors", "rx_crc_errors", "rx_frame_errors", "rx_fifo_errors",
          "rx_missed_errors", "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
          "tx_heartbeat_errors", "tx_window_errors", "rx_compressed", "tx_compressed")


def _align(value: int, a: int) -> int:
    return (value + a - 1) & ~(a - 1)


# ------------------------------------------------------------------ allocation
@export("struct net_device *alloc_netdev_mqs(int sizeof_priv, const char *name, "
        "unsigned char name_assign_type, void (*setup)(struct net_device *), "
        "unsigned int txqs, unsigned int rxqs)")
def alloc_netdev_mqs(k, sizeof_priv, name, name_assign_type, setup, txqs, rxqs):
    t = k.target
    if txqs < 1:
        k.log.emit(KERN_ERR, "alloc_netdev: Unable to allocate device with zero queues")
        return 0
    if rxqs < 1:
        k.log.emit(KERN_ERR, "alloc_netdev: Unable to allocate device with zero RX queues")
        return 0
    align = _c(k, "NETDEV_ALIGN")
    alloc_size = _align(t.sizeof("net_device"), align) + sizeof_priv + align - 1
    p = kzalloc(k, alloc_size)
    dev = _align(p, align)
    wr(k, dev, "net_device.padded", dev - p, 2)
    # dev_addr_init(): the device address lives in a netdev_hw_addr of MAX_ADDR_LEN bytes
    ha = kzalloc(k, t.sizeof("netdev_hw_addr"))
    wr(k, dev, "net_device.dev_addr", ha + t.offset("netdev_hw_addr.addr"))
    wr(k, dev, "net_device.reg_state", _c(k, "NETREG_UNINITIALIZED"), 1)
    k.machine.write(dev + t.offset("net_device.name"),
                    k.machine.read_cstr(name, _c(k, "IFNAMSIZ") - 1) + b"\0")
    wr(k, dev, "net_device.name_assign_type", name_assign_type, 1)
    napi_list = dev + t.offset("net_device.napi_list")
    k.machine.write_u64(napi_list, napi_list)                 # INIT_LIST_HEAD(&dev->napi_list)
    k.machine.write_u64(napi_list + 8, napi_list)
    for kind, n, qtype in (("tx", txqs, "netdev_queue"), ("rx", rxqs, "netdev_rx_queue")):
        qs = kzalloc(k, n * t.sizeof(qtype))
        for i in range(n):
            wr(k, qs + i * t.sizeof(qtype), f"{qtype}.dev", dev)
        wr(k, dev, f"net_device._{kind}", qs)
        wr(k, dev, f"net_device.num_{kind}_queues", n, 4)
        wr(k, dev, f"net_device.real_num_{kind}_queues", n, 4)
    yield k.call_request(setup, dev)
    return dev


@export("struct net_device *alloc_etherdev_mqs(int sizeof_priv, unsigned int txqs, "
        "unsigned int rxqs)")
def alloc_etherdev_mqs(k, sizeof_priv, txqs, rxqs):
    return (yield from alloc_netdev_mqs(k, sizeof_priv, k.model(NetDevices).eth_fmt,
                                        _c(k, "NET_NAME_ENUM"), k.export_addr("ether_setup"),
                                        txqs, rxqs))


@export("void ether_setup(struct net_device *dev)")
def ether_setup(k, dev):
    wr(k, dev, "net_device.type", _c(k, "ARPHRD_ETHER"), 2)
    wr(k, dev, "net_device.hard_header_len", _c(k, "ETH_HLEN"), 2)
    wr(k, dev, "net_device.min_mtu", _c(k, "ETH_MIN_MTU"), 4)
    wr(k, dev, "net_device.max_mtu", _c(k, "ETH_DATA_LEN"), 4)
    wr(k, dev, "net_device.mtu", _c(k, "ETH_DATA_LEN"), 4)
    wr(k, dev, "net_device.addr_len", _c(k, "ETH_ALEN"), 1)
    wr(k, dev, "net_device.tx_queue_len", 1000, 4)     # DEFAULT_TX_QUEUE_LEN (pkt_sched.h)
    wr(k, dev, "net_device.flags", _c(k, "IFF_BROADCAST") | _c(k, "IFF_MULTICAST"), 4)
    k.machine.write(dev + k.target.offset("net_device.broadcast"), b"\xff" * _c(k, "ETH_ALEN"))


@export("void free_netdev(struct net_device *dev)")
def free_netdev(k, dev):
    if not dev:
        return
    state = rd(k, dev, "net_device.reg_state", 1)
    if state not in (_c(k, "NETREG_UNINITIALIZED"), _c(k, "NETREG_UNREGISTERED"),
                     _c(k, "NETREG_RELEASED"), _c(k, "NETREG_DUMMY")):
        k.finding("net device", f"free_netdev() of {cstr(k, dev)} while it is registered",
                  k.current_module())
        return
    t = k.target
    napi_del_all(k, dev)
    kfree(k, rd(k, dev, "net_device._tx"))
    kfree(k, rd(k, dev, "net_device._rx"))
    kfree(k, rd(k, dev, "net_device.dev_addr") - t.offset("netdev_hw_addr.addr"))
    wr(k, dev, "net_device.reg_state", _c(k, "NETREG_RELEASED"), 1)
    kfree(k, dev - rd(k, dev, "net_device.padded", 2))


# ------------------------------------------------------------------ registration
def _notify(k, val: int, dev: int):
    """call_netdevice_notifiers(): each block of netdev_chain, in priority order."""
    info = kzalloc(k, k.target.sizeof("netdev_notifier_info"), "netdev_notifier_info")
    wr(k, info, "netdev_notifier_info.dev", dev)
    ret, stop, ok = 0, _c(k, "NOTIFY_STOP_MASK"), _c(k, "NOTIFY_OK")
    for nb in list(k.model(_NetdevChain).blocks):
        ret = (yield k.call_request(rd(k, nb, "notifier_block.notifier_call"), nb, val,
                                    info)) & 0xFFFFFFFF
        if ret & stop:
            break
    kfree(k, info)
    ret &= ~stop
    return ok - ret if ret > ok else 0                        # notifier_to_errno()


def _alloc_name(k, dev) -> int:
    """dev_get_valid_name(): 0 with the name resolved, or -errno."""
    nd = k.model(NetDevices)
    name = cstr(k, dev + k.target.offset("net_device.name"), 16)
    if not name or len(name) >= _c(k, "IFNAMSIZ") or name in (".", "..") or \
            any(ch in name for ch in "/: ") or name.count("%") > 1:
        return -errno.EINVAL
    if "%" in name:
        if not re.fullmatch(r"[^%]*%d[^%]*", name):
            return -errno.EINVAL
        taken = set(nd.names.values())
        unit = next(i for i in range(len(taken) + 1) if name.replace("%d", str(i)) not in taken)
        name = name.replace("%d", str(unit))
        if len(name) >= _c(k, "IFNAMSIZ"):
            return -errno.ENFILE
    elif name in nd.names.values() or name == "lo":
        return -errno.EEXIST
    k.machine.write(dev + k.target.offset("net_device.name"),
                    name.encode("utf-8", "surrogateescape") + b"\0")
    return 0


@export("int call_netdevice_notifiers(unsigned long val, struct net_device *dev)")
def call_netdevice_notifiers(k, val, dev):
    return (yield from _notify(k, val, dev))


@export("int register_netdevice(struct net_device *dev)")
def register_netdevice(k, dev):
    nd = k.model(NetDevices)
    err = _alloc_name(k, dev)
    if err:
        return err
    ops = rd(k, dev, "net_device.netdev_ops")
    init = rd(k, ops, "net_device_ops.ndo_init") if ops else 0
    if init:
        from kemu.abi.toolkit import s32
        ret = s32((yield k.call_request(init, dev)))
        if ret:
            return -errno.EIO if ret > 0 else ret
    nd.ifindex += 1
    wr(k, dev, "net_device.ifindex", nd.ifindex, 4)
    state = rd(k, dev, "net_device.state")
    wr(k, dev, "net_device.state", state | 1 << _c(k, "__LINK_STATE_PRESENT"))
    wr(k, dev, "net_device.reg_state", _c(k, "NETREG_REGISTERED"), 1)
    name = cstr(k, dev + k.target.offset("net_device.name"), 16)
    nd.names[dev] = name
    nd.owner[dev] = k.current_module()
    k.register("net device", dev, k.current_module(), f"net device {name}")
    yield from _notify(k, _c(k, "NETDEV_REGISTER"), dev)
    return 0


@export("int register_netdev(struct net_device *dev)")
def register_netdev(k, dev):
    """rtnl_lock(); register_netdevice(); rtnl_unlock()."""
    return (yield from register_netdevice(k, dev))


def _unregister(k, dev):
    nd = k.model(NetDevices)
    if dev not in nd.names:
        k.finding("net device", f"unregister of {cstr(k, dev)}, which is not registered",
                  k.current_module())
        return
    yield from dev_close(k, dev)                              # dev_close_many()
    wr(k, dev, "net_device.reg_state", _c(k, "NETREG_UNREGISTERING"), 1)
    yield from _notify(k, _c(k, "NETDEV_UNREGISTER"), dev)
    ops = rd(k, dev, "net_device.netdev_ops")
    uninit = rd(k, ops, "net_device_ops.ndo_uninit") if ops else 0
    if uninit:
        yield k.call_request(uninit, dev)
    del nd.names[dev]
    nd.owner.pop(dev, None)
    k.unregister("net device", dev)
    state = rd(k, dev, "net_device.state")
    wr(k, dev, "net_device.state", state & ~(1 << _c(k, "__LINK_STATE_PRESENT")))
    wr(k, dev, "net_device.reg_state", _c(k, "NETREG_UNREGISTERED"), 1)
    # netdev_run_todo()
    destructor = rd(k, dev, "net_device.priv_destructor")
    if destructor:
        yield k.call_request(destructor, dev)
    if rd(k, dev, "net_device.needs_free_netdev", 1):
        free_netdev(k, dev)


@export("void unregister_netdevice_queue(struct net_device *dev, struct list_head *head)")
def unregister_netdevice_queue(k, dev, head):
    yield from _unregister(k, dev)


@export("void unregister_netdev(struct net_device *dev)")
def unregister_netdev(k, dev):
    yield from _unregister(k, dev)


@export("void dev_addr_mod(struct net_device *dev, unsigned int offset, const void *addr, "
        "size_t len)")
def dev_addr_mod(k, dev, offset, addr, len_):
    """net/core/dev_addr_lists.c: bytes of the device address (eth_hw_addr_set and friends)."""
    k.machine.write(rd(k, dev, "net_device.dev_addr") + offset, k.machine.read(addr, len_))


# ------------------------------------------------------------------ state
def _state_bit(k, dev, bit: str, on: bool) -> bool:
    """Set or clear one bit of dev->state; returns whether it changed."""
    state = rd(k, dev, "net_device.state")
    mask = 1 << _c(k, bit)
    new = state | mask if on else state & ~mask
    wr(k, dev, "net_device.state", new)
    return new != state


@export("void netif_carrier_on(struct net_device *dev)")
def netif_carrier_on(k, dev):
    _state_bit(k, dev, "__LINK_STATE_NOCARRIER", False)


@export("void netif_carrier_off(struct net_device *dev)")
def netif_carrier_off(k, dev):
    _state_bit(k, dev, "__LINK_STATE_NOCARRIER", True)


# ------------------------------------------------------------------ netdev_printk
def _netdev_level(name: str, level: int):
    def fn(k, dev, fmt, va):
        from ...kernel.printk import vprintk_emit
        vprintk_emit(k, bytes([1, 0x30 + level]) + netdev_prefix(k, dev) + vformat(k, fmt, va))
    fn.__name__ = name
    fn.__doc__ = f"{name}(): __netdev_printk at KERN_{level}."
    export(f"void {name}(const struct net_device *dev, const char *format, ...)")(fn)


for _name, _level in (("netdev_emerg", 0), ("netdev_alert", 1), ("netdev_crit", 2),
                      ("netdev_err", 3), ("netdev_warn", 4), ("netdev_notice", 5),
                      ("netdev_info", 6)):
    _netdev_level(_name, _level)


@export("void netdev_printk(const char *level, const struct net_device *dev, "
        "const char *format, ...)")
def netdev_printk(k, level, dev, fmt, va):
    from ...drivers.base.dev_printk import _level_of
    from ...kernel.printk import vprintk_emit
    lvl, _rest = _level_of(k, level)
    head = bytes([1, 0x30 + lvl]) if lvl >= 0 else b""
    vprintk_emit(k, head + netdev_prefix(k, dev) + vformat(k, fmt, va))


# ------------------------------------------------------------------ queues, open, close
def _running(k, dev) -> bool:
    return bool(rd(k, dev, "net_device.state") & 1 << _c(k, "__LINK_STATE_START"))


def _txq(k, dev, i) -> int:
    return rd(k, dev, "net_device._tx") + i * k.target.sizeof("netdev_queue")


def _queue_bit(k, q, on: bool) -> bool:
    state = rd(k, q, "netdev_queue.state")
    mask = 1 << _c(k, "__QUEUE_STATE_DRV_XOFF")
    wr(k, q, "netdev_queue.state", state | mask if on else state & ~mask)
    return bool(state & mask) != on


@export("void netif_tx_wake_queue(struct netdev_queue *dev_queue)")
def netif_tx_wake_queue(k, dev_queue):
    """Clears DRV_XOFF; the qdisc kemu does not model has nothing queued to run."""
    _queue_bit(k, dev_queue, False)


@export("void netif_tx_stop_all_queues(struct net_device *dev)")
def netif_tx_stop_all_queues(k, dev):
    for i in range(rd(k, dev, "net_device.num_tx_queues", 4)):
        _queue_bit(k, _txq(k, dev, i), True)


def _tx_wake_all(k, dev):
    for i in range(rd(k, dev, "net_device.num_tx_queues", 4)):
        _queue_bit(k, _txq(k, dev, i), False)


@export("void netif_device_detach(struct net_device *dev)")
def netif_device_detach(k, dev):
    if _state_bit(k, dev, "__LINK_STATE_PRESENT", False) and _running(k, dev):
        netif_tx_stop_all_queues(k, dev)


@export("void netif_device_attach(struct net_device *dev)")
def netif_device_attach(k, dev):
    if _state_bit(k, dev, "__LINK_STATE_PRESENT", True) and _running(k, dev):
        _tx_wake_all(k, dev)


@export("int netif_set_real_num_tx_queues(struct net_device *dev, unsigned int txq)")
def netif_set_real_num_tx_queues(k, dev, txq):
    if txq < 1 or txq > rd(k, dev, "net_device.num_tx_queues", 4):
        return -errno.EINVAL
    wr(k, dev, "net_device.real_num_tx_queues", txq, 4)
    return 0


@export("int netif_set_real_num_rx_queues(struct net_device *dev, unsigned int rxq)")
def netif_set_real_num_rx_queues(k, dev, rxq):
    if rxq < 1 or rxq > rd(k, dev, "net_device.num_rx_queues", 4):
        return -errno.EINVAL
    wr(k, dev, "net_device.real_num_rx_queues", rxq, 4)
    return 0


@export("int dev_open(struct net_device *dev, struct netlink_ext_ack *extack)")
def dev_open(k, dev, extack):
    """__dev_open() then NETDEV_UP: ndo_validate_addr, ndo_open, IFF_UP."""
    from kemu.abi.toolkit import s32
    if rd(k, dev, "net_device.flags", 4) & _c(k, "IFF_UP"):
        return 0
    if not rd(k, dev, "net_device.state") & 1 << _c(k, "__LINK_STATE_PRESENT"):
        return -errno.ENODEV
    ret = yield from _notify(k, _c(k, "NETDEV_PRE_UP"), dev)
    if ret:
        return ret
    _state_bit(k, dev, "__LINK_STATE_START", True)
    ops = rd(k, dev, "net_device.netdev_ops")
    for member in ("ndo_validate_addr", "ndo_open"):
        fn = rd(k, ops, f"net_device_ops.{member}") if ops else 0
        if fn:
            ret = s32((yield k.call_request(fn, dev)))
            if ret:
                _state_bit(k, dev, "__LINK_STATE_START", False)
                return ret
    wr(k, dev, "net_device.flags", rd(k, dev, "net_device.flags", 4) | _c(k, "IFF_UP"), 4)
    yield from _notify(k, _c(k, "NETDEV_UP"), dev)
    return 0


@export("void dev_close(struct net_device *dev)")
def dev_close(k, dev):
    """NETDEV_GOING_DOWN, ndo_stop, IFF_UP cleared, NETDEV_DOWN (nothing if down)."""
    if not rd(k, dev, "net_device.flags", 4) & _c(k, "IFF_UP"):
        return
    yield from _notify(k, _c(k, "NETDEV_GOING_DOWN"), dev)
    _state_bit(k, dev, "__LINK_STATE_START", False)
    ops = rd(k, dev, "net_device.netdev_ops")
    stop = rd(k, ops, "net_device_ops.ndo_stop") if ops else 0
    if stop:
        yield k.call_request(stop, dev)
    wr(k, dev, "net_device.flags", rd(k, dev, "net_device.flags", 4) & ~_c(k, "IFF_UP"), 4)
    yield from _notify(k, _c(k, "NETDEV_DOWN"), dev)


# ------------------------------------------------------------------ statistics
def _stats64_clear(k, s64) -> None:
    k.machine.write(s64, bytes(k.target.sizeof("rtnl_link_stats64")))


@export("void netdev_stats_to_stats64(struct rtnl_link_stats64 *stats64, "
        "const struct net_device_stats *netdev_stats)")
def netdev_stats_to_stats64(k, stats64, netdev_stats):
    """The unsigned longs of net_device_stats copied into the first u64s, the rest zeroed."""
    t = k.target
    n = min(t.sizeof("net_device_stats"), t.sizeof("rtnl_link_stats64"))
    _stats64_clear(k, stats64)
    k.machine.write(stats64, bytes(k.machine.read(netdev_stats, n)))


@export("void dev_fetch_sw_netstats(struct rtnl_link_stats64 *s, "
        "const struct pcpu_sw_netstats __percpu *netstats)")
def dev_fetch_sw_netstats(k, s, netstats):
    from ...arch.x86.kernel.percpu import NR_CPUS_EMULATED
    m = k.machine
    for cpu in range(NR_CPUS_EMULATED):
        base = netstats + m.read_u64(k.export_addr("__per_cpu_offset") + 8 * cpu)
        for f in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes"):
            at = s + k.target.offset(f"rtnl_link_stats64.{f}")
            m.write_u64(at, (m.read_u64(at) + m.read_u64(
                base + k.target.offset(f"pcpu_sw_netstats.{f}"))) & (1 << 64) - 1)


@export("void dev_get_tstats64(struct net_device *dev, struct rtnl_link_stats64 *s)")
def dev_get_tstats64(k, dev, s):
    netdev_stats_to_stats64(k, s, dev + k.target.offset("net_device.stats"))
    tstats = rd(k, dev, "net_device.tstats")
    if tstats:
        dev_fetch_sw_netstats(k, s, tstats)


@export("void dev_lstats_read(struct net_device *dev, u64 *packets, u64 *bytes)")
def dev_lstats_read(k, dev, packets, bytes_):
    """The per-CPU pcpu_lstats (dev->lstats) summed."""
    from ...arch.x86.kernel.percpu import NR_CPUS_EMULATED
    m, t = k.machine, k.target
    lstats = rd(k, dev, "net_device.lstats")
    total_p = total_b = 0
    for cpu in range(NR_CPUS_EMULATED):
        base = lstats + m.read_u64(k.export_addr("__per_cpu_offset") + 8 * cpu)
        total_p += m.read_u64(base + t.offset("pcpu_lstats.packets"))
        total_b += m.read_u64(base + t.offset("pcpu_lstats.bytes"))
    m.write_u64(packets, total_p & (1 << 64) - 1)
    m.write_u64(bytes_, total_b & (1 << 64) - 1)


@export("struct rtnl_link_stats64 *dev_get_stats(struct net_device *dev, "
        "struct rtnl_link_stats64 *storage)")
def dev_get_stats(k, dev, storage):
    ops = rd(k, dev, "net_device.netdev_ops")
    get64 = rd(k, ops, "net_device_ops.ndo_get_stats64") if ops else 0
    get = rd(k, ops, "net_device_ops.ndo_get_stats") if ops else 0
    if get64:
        _stats64_clear(k, storage)
        yield k.call_request(get64, dev, storage)
    elif get:
        netdev_stats_to_stats64(k, storage, (yield k.call_request(get, dev)))
    else:
        netdev_stats_to_stats64(k, storage, dev + k.target.offset("net_device.stats"))
    at = storage + k.target.offset("rtnl_link_stats64.rx_dropped")
    k.machine.write_u64(at, k.machine.read_u64(at) + rx_dropped(k, dev))
    return storage


@export("void unregister_netdevice_many(struct list_head *head)")
def unregister_netdevice_many(k, head):
    """Each device queued on ``head`` through its unreg_list (kemu's
    unregister_netdevice_queue() unregisters at once, so usually none)."""
    off = k.target.offset("net_device.unreg_list")
    node = k.machine.read_u64(head)
    while node and node != head:
        nxt = k.machine.read_u64(node)
        yield from _unregister(k, node - off)
        node = nxt
    k.machine.write_u64(head, head)
    k.machine.write_u64(head + 8, head)
