"""Calling into a loaded module from the CLI (issue 5): /proc, devices, packets, time."""
from __future__ import annotations

import subprocess
import sys


def kemu(session, *args):
    proc = subprocess.run([sys.executable, "-m", "kemu", *args, "--session", str(session)],
                          capture_output=True, text=True)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def test_open_device_unload_refused_then_forced_read_reports(tmp_path, testmods):
    s = tmp_path / "s"
    assert kemu(s, "load", str(testmods / "kemu_misc.ko")).returncode == 0
    opened = kemu(s, "open", "/dev/kemu_misc")
    assert opened.returncode == 0
    fd = opened.stdout.strip()
    assert fd == "3"                                       # stdout is just the descriptor
    assert kemu(s, "write", fd, "hello device").returncode == 0
    refused = kemu(s, "rmmod", "kemu_misc")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "kemu: ERROR: Module kemu_misc is in use"
    assert kemu(s, "rmmod", "--force", "kemu_misc").returncode == 0
    after = kemu(s, "read", fd, "5")
    assert after.returncode == 1
    last = after.stderr.strip().splitlines()[-1]
    assert last.startswith("kemu: ERROR: unable to handle page fault for address: 0x")
    assert "in unloaded module kemu_misc (kemu_read+0x0/" in last
    assert "BUG: unable to handle page fault for address:" in after.stderr
    tainted = kemu(s, "cat", "/proc/sys/kernel/tainted").stdout.strip()
    assert int(tainted) & (1 << 3) and int(tainted) & (1 << 7)          # R and D


def test_device_read_back_and_close(tmp_path, testmods):
    s = tmp_path / "s"
    kemu(s, "load", str(testmods / "kemu_misc.ko"))
    fd = kemu(s, "open", "/dev/kemu_misc").stdout.strip()
    assert kemu(s, "write", fd, "abc").stdout.strip() == "kemu: wrote 3 bytes"
    assert kemu(s, "close", fd).returncode == 0
    assert kemu(s, "read", fd).returncode == 1                          # closed: EBADF
    assert kemu(s, "rmmod", "kemu_misc").returncode == 0                # no reference left


def test_packet_verdicts_follow_the_hook(tmp_path, testmods):
    s = tmp_path / "s"
    kemu(s, "load", str(testmods / "kemu_nf.ko"), "port=53")
    dropped = kemu(s, "packet", "--proto", "udp", "--dport", "53")
    lines = dropped.stdout.splitlines()
    assert lines[0] == "udp 10.0.0.1:40000 -> 10.0.0.2:53 at NF_INET_LOCAL_IN"
    assert [l.split()[1] for l in lines[1:-1]] == ["-100", "10", "10"]   # priority order
    assert lines[-2].endswith("NF_DROP") and lines[-1] == "verdict: NF_DROP"
    accepted = kemu(s, "packet", "--proto", "udp", "--dport", "80")
    assert accepted.stdout.splitlines()[-1] == "verdict: NF_ACCEPT"
    tcp = kemu(s, "packet", "--proto", "tcp", "--dport", "53")
    assert tcp.stdout.splitlines()[-1] == "verdict: NF_ACCEPT"        # only UDP is dropped


def test_proc_read_and_write(tmp_path, testmods):
    s = tmp_path / "s"
    kemu(s, "load", str(testmods / "kemu_proc.ko"))
    assert kemu(s, "cat", "/proc/kemu_proc/single").stdout == "single: hello value=42\n"
    assert kemu(s, "write", "/proc/kemu_proc/rw", "7").returncode == 0
    assert kemu(s, "cat", "/proc/kemu_proc/rw").stdout.strip() == "7"
    missing = kemu(s, "cat", "/proc/kemu_proc/nope")
    assert missing.returncode == 1 and "No such file or directory" in missing.stderr


def test_python_api(testmods):
    from kemu import Kernel
    with Kernel() as k:
        k.load(testmods / "kemu_nf.ko", port=53)
        assert k.packet(proto="udp", dport=53).final == "NF_DROP"
        assert k.packet(proto="udp", dport=54).final == "NF_ACCEPT"
        k.load(testmods / "kemu_misc.ko")
        f = k.open("/dev/kemu_misc")
        assert f.write(b"xyz") == 3
        f.close()


def test_run_reruns_a_module_but_load_keeps_eexist(tmp_path, testmods):
    s = tmp_path / "s"
    first = kemu(s, "run", str(testmods / "params.ko"), "int_param=1")
    second = kemu(s, "run", str(testmods / "params.ko"), "int_param=2")
    assert first.returncode == second.returncode == 0
    assert "params: int=2 uint=5" in second.stdout
    assert "params is loaded in this session; unloading it first" in second.stderr
    assert "params: exit" in second.stdout                        # the old instance's exit ran
    again = kemu(s, "load", str(testmods / "params.ko"))
    assert again.returncode == 1 and "File exists" in again.stderr
    kemu(s, "load", str(testmods / "exporter.ko"))
    kemu(s, "load", str(testmods / "user.ko"))
    busy = kemu(s, "run", str(testmods / "exporter.ko"))
    assert busy.returncode == 1 and "Module exporter is in use by: user" in busy.stderr
