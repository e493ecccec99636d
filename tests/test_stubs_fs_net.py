"""procfs/seq_file, char and misc devices, filesystems, debugfs/sysfs, netfilter
and netns models, driven by the kemu_* test modules and real Debian modules."""
from __future__ import annotations

import errno
import struct

import pytest

from kemu import Kernel

from kemu.stubs.drivers.base.class_ import classes
from kemu.stubs.drivers.base.core import device_list
from kemu.stubs.drivers.base.devtmpfs import dev_open, devices
from kemu.stubs.drivers.char.misc import misc_devices
from kemu.stubs.fs.debugfs import debugfs_list, debugfs_read, debugfs_write
from kemu.stubs.fs.filesystems import filesystems, proc_filesystems
from kemu.stubs.fs.open import FileError
from kemu.stubs.fs.proc import proc_list, proc_open, proc_read, proc_write
from kemu.stubs.fs.sysfs import SysfsError, sysfs_list, sysfs_read, sysfs_write
from kemu.stubs.lib.usercopy import user_buffer
from kemu.stubs.net.netfilter.core import nf_hook_entries, nf_hook_run, nf_hooks
from kemu.stubs.net.netfilter.x_tables import xt_matches, xt_targets

NFPROTO_IPV4, NFPROTO_IPV6 = 2, 10
NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT = 1, 3


def _log(k) -> list[str]:
    k.log.flush()
    return [r.text for r in k.log.records]


def _left(k) -> list[str]:
    """What unloading reported left registered."""
    return [f["message"] for f in k.findings if f["kind"] == "left-registered"]


def _other_findings(k, *expected_warnings) -> list[str]:
    """Findings other than the kernel warnings the test provokes on purpose."""
    return [f["message"] for f in k.findings
            if not (f["kind"] == "warning" and any(w in f["message"] for w in expected_warnings))]


PROC_DUP = "proc_dir_entry 'kemu_proc/single' already registered"
NF_BAD = "nf_hook_entry_head"


def _load(testmods, name, args=""):
    k = Kernel()
    k.load(str(testmods / f"{name}.ko"), args)
    return k


def _expected_list(n):
    return "".join(f"item {i:3d}: {'odd' if i % 2 else 'even'}\n" for i in range(1, n + 1)).encode()


# ------------------------------------------------------------------ procfs
def test_proc_entries_read_back(testmods):
    k = _load(testmods, "kemu_proc", "items=300")
    entries = {p: (kind, owner) for p, kind, _mode, owner in proc_list(k)}
    assert entries["/proc/kemu_proc"] == ("dir", "kemu_proc")
    assert entries["/proc/kemu_proc/list"] == ("seq", "kemu_proc")
    assert entries["/proc/kemu_proc/single"] == ("single", "kemu_proc")
    assert entries["/proc/kemu_proc/rw"] == ("reg", "kemu_proc")
    assert entries["/proc/net/kemu_net"] == ("net_single", "kemu_proc")
    # more than a page: the seq_file buffer protocol runs start/show/next/stop repeatedly
    assert proc_read(k, "/proc/kemu_proc/list") == _expected_list(300)
    assert proc_read(k, "/proc/kemu_proc/single") == b"single: hello value=42\n"
    # proc_ops with single_open + seq_read (a user buffer, not an iov_iter) + seq_lseek
    assert proc_read(k, "/proc/kemu_proc/classic") == b"single: classic value=42\n"
    assert proc_read(k, "/proc/kemu_proc/classic", chunk=5) == b"single: classic value=42\n"
    assert proc_read(k, "/proc/net/kemu_net") == b"netns inum=4026531840 same=1\n"
    assert proc_read(k, "/proc/self/net/kemu_net") == b"netns inum=4026531840 same=1\n"
    assert proc_read(k, "/proc/kemu_proc/misc") == (
        b"puts|c|write|ull=18446744073709551615 ll=-1234567\n"
        b"tab\\011here\\040space\n"
        b"hd: 00000000: 6b 65 6d 75 01 02 03 ff 20 68 65 78 64 75 6d 70  kemu.... hexdump\n"
        b"hd: 00000010: 21 21 00 00                                      !!..\n"
        b"overflowed=0\n")
    # proc_ops read/write with a real user buffer and pde_data()
    assert proc_read(k, "/proc/kemu_proc/rw") == b"42\n"
    assert proc_write(k, "/proc/kemu_proc/rw", b"77\n") == 3
    assert proc_read(k, "/proc/kemu_proc/rw") == b"77\n"
    assert proc_read(k, "/proc/kemu_proc/single") == b"single: hello value=77\n"
    with pytest.raises(FileError) as exc:
        proc_write(k, "/proc/kemu_proc/rw", b"nonsense")
    assert exc.value.errno == errno.EINVAL
    with pytest.raises(FileError) as exc:
        proc_write(k, "/proc/kemu_proc/single", b"x")        # seq files have no write: -EIO
    assert exc.value.errno == errno.EIO
    with pytest.raises(FileError) as exc:
        proc_read(k, "/proc/kemu_proc/nosuch")
    assert exc.value.errno == errno.ENOENT
    log = _log(k)
    assert "kemu_proc: value set to 77" in log
    # a second "single" is refused with the kernel's warning
    assert "proc_dir_entry 'kemu_proc/single' already registered" in log
    assert "kemu_proc: duplicate=0" in log

    k.unload("kemu_proc")
    assert not [p for p, *_ in proc_list(k) if "kemu" in p]
    assert "kemu_proc: subtree=0" in _log(k) and "kemu_proc: again=-2" in _log(k)
    assert [f["message"] for f in k.findings if f["kind"] == "warning"] == [
        "WARNING at fs/proc/generic.c:381 proc_register+0x11e/0x140: " + PROC_DUP]
    assert _other_findings(k, PROC_DUP) == []
    assert not k.registered("proc entry")


def test_proc_partial_reads_lseek_and_module_ref(testmods):
    k = _load(testmods, "kemu_proc", "items=200")
    full = _expected_list(200)
    f = proc_open(k, "/proc/kemu_proc/list")
    parts = []
    while True:
        chunk = f.read(100)
        if not chunk:
            break
        assert len(chunk) <= 100
        parts.append(chunk)
    assert b"".join(parts) == full
    # seq_lseek re-runs the iterator (traverse) up to the offset
    assert f.llseek(1000, 0) == 1000
    assert f.read(50) == full[1000:1050]
    assert f.llseek(-10, 1) == 1040
    assert f.read(10) == full[1040:1050]
    f.close()
    # proc files do not pin their module (6.1 uses pde in-use counts instead)
    assert k.modules["kemu_proc"].refcount() == 0
    # /proc/modules and /proc/filesystems are rendered by kemu
    assert proc_read(k, "/proc/modules").startswith(b"kemu_proc ")
    assert b"nodev\tproc\n" in proc_read(k, "/proc/filesystems")
    k.unload("kemu_proc")


def test_proc_open_file_is_run_down_on_removal(testmods):
    k = _load(testmods, "kemu_proc")
    f = proc_open(k, "/proc/kemu_proc/single")
    assert f.read(10) == b"single: he"
    k.unload("kemu_proc")
    # remove_proc_entry released the open file; later reads fail with -EIO
    with pytest.raises(FileError) as exc:
        f.read(10)
    assert exc.value.errno == errno.EIO
    f.close()
    assert _other_findings(k, PROC_DUP) == []


def test_proc_entry_left_behind_is_reported(testmods):
    k = _load(testmods, "kemu_proc", "leak=1")
    assert ("/proc/kemu_leak", "single", 0o100444, "kemu_proc") in proc_list(k)
    k.unload("kemu_proc")
    assert _left(k) == ["kemu_proc left /proc/kemu_leak registered after its exit"]


# ------------------------------------------------------------------ devices
def _ioc(direction, nr, size):
    return (direction << 30) | (size << 16) | (ord("k") << 8) | nr


def test_misc_device_read_write_ioctl(testmods):
    k = _load(testmods, "kemu_misc")
    log = _log(k)
    assert "kemu_misc: minor=124" in log          # first dynamic misc minor, as Linux
    assert "kemu_misc: fixed_a=0 fixed_b=-16" in log       # same fixed minor twice: -EBUSY
    assert "kemu_misc: chr major=246 minor=0 dup_class=-17" in log   # as the real kernel
    assert "sysfs: cannot create duplicate filename '/class/kemu_class'" in log
    devs = devices(k)
    assert set(devs) == {"kemu_misc", "kemu_fixed_a", "kemu_chr0"}
    assert devs["kemu_misc"][1] == "kemu_misc" and devs["kemu_misc"][2] == (10 << 20) | 124
    assert devs["kemu_chr0"][2] == 246 << 20
    assert devs["kemu_misc"][0] == devs["kemu_chr0"][0]    # same file_operations
    assert [(m[0], m[1]) for m in misc_devices(k)] == [(250, "kemu_fixed_a"), (124, "kemu_misc")]
    assert proc_read(k, "/proc/misc") == (b"250 kemu_fixed_a\n124 kemu_misc\n125 cpu_dma_latency\n"
                                          b"  1 psaux\n228 hpet\n126 userfaultfd\n231 snapshot\n"
                                          b"183 hw_random\n127 vga_arbiter\n")   # the oracle's
    assert b"246 kemu_chr\n" in proc_read(k, "/proc/devices")
    assert ("/devices/virtual/kemu_class/kemu_chr0", 246 << 20, "kemu_class", "kemu_misc") \
        in device_list(k)
    assert ("kemu_class", "kemu_misc", ["kemu_chr0"]) in classes(k)

    f = dev_open(k, "/dev/kemu_misc")
    assert k.modules["kemu_misc"].refcount() == 1          # fops_get(fops->owner)
    assert "kemu_misc: open minor=124 private=miscdevice" in _log(k)
    assert f.read(100) == b"initial contents\n"
    assert f.read(100) == b""
    assert f.llseek(0, 0) == 0
    assert f.write(b"new data!") == 9
    assert f.llseek(0, 0) == 0
    assert f.read(100) == b"new data!ontents\n"
    assert f.ioctl_buf(_ioc(2, 1, 4), b"", 4) == (0, struct.pack("<i", 7))      # put_user
    assert f.ioctl_buf(_ioc(1, 2, 4), struct.pack("<i", 1234)) == (0, struct.pack("<i", 1234))
    assert f.ioctl_buf(_ioc(2, 1, 4), b"", 4) == (0, struct.pack("<i", 1234))
    assert f.ioctl(_ioc(2, 1, 4), 0xFFFF888000001000) == -errno.EFAULT         # kernel pointer
    assert f.ioctl(_ioc(0, 3, 0)) == 1
    assert f.ioctl(0x1234) == -errno.ENOTTY
    f.close()
    assert k.modules["kemu_misc"].refcount() == 0

    g = dev_open(k, "/dev/kemu_chr0")                      # cdev_get + fops_get
    assert k.modules["kemu_misc"].refcount() == 2
    assert g.read(9) == b"new data!"
    g.close()
    assert "kemu_misc: open minor=0 private=none" in _log(k)
    with pytest.raises(FileError) as exc:
        dev_open(k, "/dev/nosuch")
    assert exc.value.errno == errno.ENOENT

    k.unload("kemu_misc")
    assert "kemu_misc: exit opens=2 releases=2 value=1234" in _log(k)
    assert devices(k) == {} and misc_devices(k) == []
    assert b"kemu_chr" not in proc_read(k, "/proc/devices")
    assert k.findings == []


def test_device_left_behind_is_reported(testmods):
    k = _load(testmods, "kemu_misc", "leak=1")
    k.unload("kemu_misc")
    messages = sorted(_left(k))
    assert "kemu_misc left class kemu_class registered after its exit" in messages
    assert "kemu_misc left device kemu_chr0 (/dev/kemu_chr0) registered after its exit" in messages


# ------------------------------------------------------------------ netfilter
def test_netfilter_hooks_priority_order_and_pernet(testmods):
    k = _load(testmods, "kemu_nf", "port=53")
    log = _log(k)
    assert "kemu_nf: net init id=3 zeroed=1" in log           # first pernet id, zeroed data
    assert "kemu_nf: bad hooknum=-22" in log
    assert any(line.startswith("WARNING: CPU: 0 PID: 1 at net/netfilter/core.c") for line in log)
    hooks = nf_hooks(k, NFPROTO_IPV4, NF_INET_LOCAL_IN)
    names = [(h.priority, k.symbolize(h.hook)[0]) for h in hooks]
    # ascending priority; a hook of equal priority goes before the older one
    assert names == [(-100, "count_hook"), (10, "count_hook"), (10, "drop_udp")]
    assert all(h.owner == "kemu_nf" for h in hooks)
    # NFPROTO_INET: registered for IPv4 and IPv6
    for pf in (NFPROTO_IPV4, NFPROTO_IPV6):
        assert [h.priority for h in nf_hooks(k, pf, NF_INET_LOCAL_OUT)] == [0]
    # the struct nf_hook_entries a module's inline nf_hook() would walk
    t, m = k.target, k.machine
    entries = nf_hook_entries(k, NFPROTO_IPV4, NF_INET_LOCAL_IN)
    assert m.read_u16(entries + t.offset("nf_hook_entries.num_hook_entries")) == 3
    first = entries + t.const("NF_HOOK_ENTRIES_HOOKS_OFFSET")
    assert m.read_u64(first + t.offset("nf_hook_entry.hook")) == hooks[0].hook
    assert len(k.registered("netfilter hook")) == 5 and len(k.registered("pernet subsys")) == 1

    k.unload("kemu_nf")
    assert "kemu_nf: net exit seen=0 dropped=0" in _log(k)
    assert nf_hooks(k, NFPROTO_IPV4, NF_INET_LOCAL_IN) == []
    assert nf_hook_entries(k, NFPROTO_IPV4, NF_INET_LOCAL_IN) == 0
    assert _other_findings(k, NF_BAD) == []


def _udp_skb(k, dport):
    """A minimal sk_buff holding an IPv4/UDP packet (network header at head)."""
    t, m = k.target, k.machine
    pkt = bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
    pkt += struct.pack(">HHHH", 40000, dport, 8, 0)
    buf = k.heap.alloc(256, zero=True)
    m.write(buf, pkt)
    skb = k.heap.alloc(t.sizeof("sk_buff"), zero=True)
    m.write_u64(skb + t.offset("sk_buff.head"), buf)
    m.write_u64(skb + t.offset("sk_buff.data"), buf)
    m.write_u32(skb + t.offset("sk_buff.len"), len(pkt))
    m.write_u16(skb + t.offset("sk_buff.network_header"), 0)
    m.write_u16(skb + t.offset("sk_buff.transport_header"), 20)
    state = k.heap.alloc(t.sizeof("nf_hook_state"), zero=True)
    m.write_u8(state + t.offset("nf_hook_state.hook"), NF_INET_LOCAL_IN)
    m.write_u8(state + t.offset("nf_hook_state.pf"), NFPROTO_IPV4)
    m.write_u64(state + t.offset("nf_hook_state.net"), k.export_addr("init_net"))
    return skb, state


def test_netfilter_hook_drops_chosen_udp_port(testmods):
    k = _load(testmods, "kemu_nf", "port=53")
    hooks = nf_hooks(k, NFPROTO_IPV4, NF_INET_LOCAL_IN)
    early = hooks[0].priv
    assert nf_hook_run(k, NFPROTO_IPV4, NF_INET_LOCAL_IN, *_udp_skb(k, 80)) == 1       # accepted
    assert nf_hook_run(k, NFPROTO_IPV4, NF_INET_LOCAL_IN, *_udp_skb(k, 53)) == -errno.EPERM
    assert k.machine.read_u64(early) == 2                     # the -100 hook saw both
    k.unload("kemu_nf")
    assert "kemu_nf: net exit seen=2 dropped=1" in _log(k)


def test_netfilter_hook_left_behind_is_reported(testmods):
    k = _load(testmods, "kemu_nf", "leak=1")
    k.unload("kemu_nf")
    assert _left(k) == [
        "kemu_nf left netfilter hook count_hook [kemu_nf] (pf 2, hook 1, priority 10) "
        "registered after its exit"]


# ------------------------------------------------------------------ filesystems, debugfs, sysfs
def test_filesystem_registration_and_proc_filesystems(testmods):
    k = Kernel()
    before = proc_filesystems(k)
    k.load(str(testmods / "kemu_fs.ko"))
    log = _log(k)
    assert "kemu_fs: duplicate=-16" in log                    # a taken name: -EBUSY
    assert "kemu_fs: get_fs_type=self refs=2" in log           # get_fs_type pins the owner
    assert "kemu_fs: proc=1 nosuch=0" in log
    text = proc_filesystems(k)
    assert text == before + "nodev\tkemufs\n\tkemublk\n"
    assert proc_read(k, "/proc/filesystems").decode() == text
    assert ("kemufs", 0, "kemu_fs") in filesystems(k)
    k.unload("kemu_fs")
    assert "kemu_fs: unregister=0 again=-22" in _log(k)
    assert proc_filesystems(k) == before
    assert k.findings == []


def test_filesystem_left_behind_is_reported(testmods):
    k = _load(testmods, "kemu_fs", "leak=1")
    k.unload("kemu_fs")
    assert _left(k) == ["kemu_fs left filesystem kemublk registered after its exit"]
    # the list now runs into the unloaded module's memory, as it would in Linux
    proc_filesystems(k)
    assert k.findings[-1]["kind"] == "use-after-free"


def test_debugfs_and_sysfs(testmods):
    k = _load(testmods, "kemu_fs")
    assert "debugfs: Directory 'kemu_fs' with parent '/' already present!" in _log(k)
    base = "/sys/kernel/debug/kemu_fs"
    assert [p for p, _kind, _o in debugfs_list(k)] == [base, base + "/u32", base + "/flag",
                                                      base + "/attr"]
    assert debugfs_read(k, base + "/u32") == b"4660\n"
    assert debugfs_read(k, base + "/flag") == b"Y\n"
    assert debugfs_read(k, base + "/attr") == b"99\n"           # simple_attr get + "%llu\n"
    assert debugfs_write(k, base + "/attr", b"555\n") == 4
    assert debugfs_read(k, base + "/attr") == b"555\n"
    with pytest.raises(FileError) as exc:
        debugfs_write(k, base + "/attr", b"5555")                # set() returns -ERANGE
    assert exc.value.errno == errno.ERANGE
    assert debugfs_write(k, base + "/flag", b"n") == 1
    assert debugfs_read(k, base + "/flag") == b"N\n"
    nodes = [p for p, _kind, _o in sysfs_list(k) if "kemu" in p]
    assert nodes == ["/sys/kernel/kemu_fs", "/sys/kernel/kemu_fs/knob"]   # is_visible hid one
    assert sysfs_read(k, "/sys/kernel/kemu_fs/knob") == b"5\n"
    assert sysfs_write(k, "/sys/kernel/kemu_fs/knob", b"17") == 2
    assert sysfs_read(k, "/sys/kernel/kemu_fs/knob") == b"17\n"
    with pytest.raises(SysfsError):
        sysfs_read(k, "/sys/kernel/kemu_fs/hidden")
    k.unload("kemu_fs")
    assert debugfs_list(k) == []
    assert not [p for p, _kind, _o in sysfs_list(k) if "kemu" in p]
    assert k.findings == []


# ------------------------------------------------------------------ user copies
def test_usercopy_partial_and_access_ok():
    k = Kernel()
    copy_to = k.export_addr("_copy_to_user")
    copy_from = k.export_addr("_copy_from_user")
    kbuf = k.heap.alloc(64, zero=True)
    k.machine.write(kbuf, bytes(range(64)))
    with user_buffer(k, 4096) as ubuf:
        assert k.call(copy_to, ubuf, kbuf, 64) == 0
        assert k.machine.read(ubuf, 64) == bytes(range(64))
        # the last 16 bytes fall on an unmapped page: 16 bytes are not copied
        assert k.call(copy_to, ubuf + 4096 - 48, kbuf, 64) == 16
        assert k.call(copy_from, kbuf, ubuf + 4096 - 8, 32) == 24
        assert k.machine.read(kbuf + 8, 24) == bytes(24)          # the rest is zeroed
    # a kernel address is not a user address (access_ok)
    assert k.call(copy_to, kbuf, kbuf, 8) == 8


# ------------------------------------------------------------------ real Debian modules
XT_MODULES = ("xt_CLASSIFY", "xt_comment", "xt_cpu", "xt_devgroup", "xt_dscp", "xt_hl",
              "xt_iprange", "xt_length", "xt_limit", "xt_mac", "xt_mark", "xt_pkttype",
              "xt_policy", "xt_quota", "xt_realm", "xt_statistic")


@pytest.mark.parametrize("name", XT_MODULES)
def test_debian_xt_module_registers_and_unregisters(debian_modules, name):
    k = Kernel()
    k.load(str(debian_modules / "net" / "netfilter" / f"{name}.ko"))
    registered = xt_matches(k) + xt_targets(k)
    assert registered and all(owner == name for *_rest, owner in registered)
    k.unload(name)
    assert xt_matches(k) == [] and xt_targets(k) == []
    assert k.findings == []


EBT_AND_IP6T = (("bridge", "ebt_802_3"), ("bridge", "ebt_limit"), ("bridge", "ebt_mark"),
                ("bridge", "ebt_mark_m"), ("bridge", "ebt_pkttype"), ("ipv6", "ip6t_eui64"))


@pytest.mark.parametrize("subdir,name", EBT_AND_IP6T)
def test_debian_ebt_ip6t_modules(debian_modules, subdir, name):
    k = Kernel()
    k.load(str(debian_modules / "net" / subdir / "netfilter" / f"{name}.ko"))
    registered = xt_matches(k) + xt_targets(k)
    assert registered and all(owner == name for *_rest, owner in registered)
    k.unload(name)
    assert xt_matches(k) == [] and xt_targets(k) == [] and k.findings == []


# (path under kernel/, module name, the registration kind its init makes, what it is called)
DEBIAN_REGISTRARS = (
    ("fs/nfs_common/grace.ko", "grace", "pernet subsys", "pernet subsys grace_net_ops [grace]"),
    ("lib/notifier-error-inject.ko", "notifier_error_inject", "debugfs",
     "debugfs dir /sys/kernel/debug/notifier-error-inject"),
)


@pytest.mark.parametrize("path,name,kind,what", DEBIAN_REGISTRARS)
def test_debian_modules_register_and_clean_up(debian_modules, path, name, kind, what):
    k = Kernel()
    k.load(str(debian_modules / path))
    regs = k.registered(kind)
    assert [(r.what, r.owner.name) for r in regs] == [(what, name)]
    k.unload(name)
    assert k.registered(kind) == [] and k.findings == []
