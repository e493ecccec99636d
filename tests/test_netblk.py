"""Network devices' receive path and block devices (stubs/net/core, stubs/net/ethernet,
stubs/block), against the real kernel and Debian's own modules.

``vnet16.c`` is a teaching-style virtual Ethernet device (alloc_etherdev,
register_netdev, dev_open, frames built with netdev_alloc_skb/eth_type_trans
and handed to netif_rx, netif_receive_skb and NAPI's napi_gro_receive, a
dev_add_pack handler); ``blk16.c`` a blk-mq disk (register_blkdev, a tag
set, blk_mq_alloc_disk, queue limits, add_disk). Their logs are compared line
by line with what Debian's 6.1 kernel printed (tests/expected/netblk), and
what a user sees (/proc/net/dev, /proc/partitions, /proc/devices, /dev and
/sys/block) with the oracle job's output.
"""
from __future__ import annotations

import pytest

from conftest import EXPECTED
from kemu import Kernel
from kemu.survey import shared_tree, survey_modules, tree_root
from kemu.testing import build_module

GOLDEN = EXPECTED / "netblk"


def _build(name):
    return build_module({f"{name}.c": (GOLDEN / f"{name}.c").read_text()})


def _text_lines(k) -> list[str]:
    k.log.flush()
    return [r.text for r in k.log.records if r.facility == 0]


def _job_output() -> list[str]:
    return (GOLDEN / "oracle-job.out").read_text().splitlines()


def test_virtual_net_device_log_is_the_real_kernels():
    """Registration, open, frames for the host, broadcast, multicast and other hosts, a
    frame nobody handles, a frame on a device that is down, NAPI's poll: as 6.1 printed."""
    k = Kernel()
    k.load(_build("vnet16"))
    from kemu.stubs.net.core.netdevice import net_devices
    assert net_devices(k) == [("eth0", 2, "vnet16")]
    eth0 = [line for line in k.proc_read("/proc/net/dev").decode().splitlines()
            if "eth0" in line]
    want = [line for line in _job_output() if "eth0:" in line]
    # the receive columns (and the transmit ones but IPv6's own solicitation, see README)
    assert eth0[0].split()[:9] == want[0].split()[:9]
    from kemu.stubs.net.core.dev import received_frames
    frames = received_frames(k)
    assert [(f.dev, f.protocol, f.length) for f in frames][:2] == \
        [("eth0", 0x88b5, 46), ("eth0", 0x88b5, 46)]
    assert frames[4].protocol == 0x88b6 and frames[4].taken_by == []   # nobody: dropped
    assert frames[0].taken_by == ["vnet_rcv [vnet16]"]
    k.unload("vnet16")
    assert _text_lines(k) == (GOLDEN / "vnet16.dmesg").read_text().splitlines()
    assert net_devices(k) == []
    assert k.findings == []
    assert k.registrations == {}


def test_blk_mq_disk_log_and_views_are_the_real_kernels():
    """register_blkdev's errors, the tag set's init_request calls, the default and the
    adjusted queue limits with their "set to minimum" lines, add_disk; /proc/partitions,
    /proc/devices, /dev/blk16 and /sys/block/blk16 as the real kernel showed them; every
    request (tag set, flush, mq-deadline's) through exit_request at unload."""
    k = Kernel()
    k.load(_build("vnet16"))                  # the golden's taint lines belong to the first
    k.unload("vnet16")
    k.log.flush()
    before = len(_text_lines(k))
    k.load(_build("blk16"))
    out = _job_output()
    start = out.index("major minor  #blocks  name")
    assert k.proc_read("/proc/partitions").decode().splitlines() == out[start:start + 3]
    block = out.index("Block devices:")
    devices = k.proc_read("/proc/devices").decode()
    assert devices.split("\n\n")[1].splitlines() == out[block:block + 3]
    assert k.read_file("/sys/block/blk16/size").decode().strip() == out[start + 4]
    assert k.read_file("/sys/block/blk16/dev").decode().strip() == out[start + 5]
    from kemu.stubs.drivers.base.devtmpfs import devices as dev_nodes
    assert dev_nodes(k)["blk16"][2] == (254 << 20) | 0
    from kemu.stubs.block.genhd import disks
    assert disks(k) == [("blk16", 254, 0, 2048, "blk16")]
    assert "device blk16 (/dev/blk16)" in [r.what for r in k.registrations.values()]
    k.unload("blk16")
    assert _text_lines(k)[before:] == (GOLDEN / "blk16.dmesg").read_text().splitlines()
    assert k.proc_read("/proc/partitions") == b"major minor  #blocks  name\n\n"
    assert disks(k) == []
    assert k.findings == []
    assert k.registrations == {}


def test_debian_link_types_make_their_devices_and_remove_them(debian_modules):
    """dummy.ko and ifb.ko register their rtnl link type and create dummy0, ifb0 and ifb1
    at init; rtnl_link_unregister at exit deletes them through dellink."""
    from kemu.stubs.net.core.netdevice import net_devices
    from kemu.stubs.net.core.rtnetlink import link_kinds
    k = Kernel()
    k.load(str(debian_modules / "drivers/net/dummy.ko"))
    k.load(str(debian_modules / "drivers/net/ifb.ko"))
    assert net_devices(k) == [("dummy0", 2, "dummy"), ("ifb0", 3, "ifb"), ("ifb1", 4, "ifb")]
    assert link_kinds(k) == ["dummy", "ifb"]
    assert [line.split(":")[0].strip() for line in
            k.proc_read("/proc/net/dev").decode().splitlines()[2:]] == \
        ["lo", "dummy0", "ifb0", "ifb1"]
    k.unload("ifb")
    k.unload("dummy")
    assert net_devices(k) == [] and link_kinds(k) == []
    assert k.findings == []
    assert k.registrations == {}


def test_link_type_left_registered_is_reported():
    k = Kernel()
    from kemu.stubs.net.core.rtnetlink import __rtnl_link_register
    ops = k.heap.alloc(k.target.sizeof("rtnl_link_ops"), zero=True)
    kind = k.heap.alloc(8, zero=True)
    k.machine.write(kind, b"kemu0\0")
    k.machine.write_u64(ops + k.target.offset("rtnl_link_ops.kind"), kind)
    assert __rtnl_link_register(k, ops) == 0
    assert __rtnl_link_register(k, ops) == -17              # -EEXIST: the kind is taken
    assert [r.what for r in k.registered("rtnl link")] == ["rtnl link type kemu0"]


@pytest.fixture(scope="module")
def tree(debian_modules):
    return shared_tree(tree_root(str(debian_modules)))


@pytest.mark.parametrize("name", ["dummy", "ifb", "ne2k_pci", "8139too", "sundance", "tlan",
                                  "usbnet", "cdc_ether", "hdlc_cisco", "dvb_core", "psnap"])
def test_net_and_dvb_modules_are_clean(tree, name):
    """modprobe (dependencies first), init, exit: no findings, nothing left registered
    (tlan finds no adapter and fails init with -ENODEV, as on a machine without one)."""
    [r] = survey_modules(tree, [name])
    if name == "tlan":
        assert (r.outcome, r.findings) == ("init-failed", []), f"{r.detail} {r.missing[:8]}"
        assert "-19" in r.detail
        return
    assert (r.outcome, r.findings) == ("ok", []), f"{r.detail} {r.missing[:8]}"
