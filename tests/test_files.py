"""Every file a module registers, driven as a process drives it (issue 14).

* kemu_files.ko reads back, from module code, what each callback got: the
  struct file as do_dentry_open() leaves it (f_path's dentry names and mount,
  f_inode, f_mapping, f_cred), the inode's superblock, and current (the command,
  a pid, credentials, an mm), for a proc_ops file, a misc device, a debugfs file
  with fops and a sysfs bin attribute.
* Teaching modules (testmods/lkmpg/) go through one shell job under kemu's CLI and
  under the real kernel (tests/files_steps.py, golden tests/expected/files/):
  each step's output and exit status, and the kernel log of each step, compared.
"""
from __future__ import annotations

import errno
import os
import re
import pytest

import kemu
from conftest import EXPECTED
from files_steps import DEBIAN_MODULES, DEBIAN_STEPS, STEPS

GOLDEN = EXPECTED / "files"
ORACLE_RELEASE = "6.1.0-57-amd64"         # the real kernel tests/expected/files/ came from
STAMP = re.compile(rb"^\[\s*\d+\.\d{6}\] ?", re.M)
REPORT = re.compile(r"kemu_files: (\w+) (\S+) sb=(\w+) mnt_sb=(\d) inode=(\d) mapping=(\d) "
                    r"ino=(\d) uid=(\d+) flags=(\d) mode=(\d) comm=(\S+) pid>1=(\d) mm=(\d)")
MAGIC = {"proc": "9fa0", "dev": "1021994", "debug": "64626720", "sys": "62656572"}
FILES = {"/proc/kemu_files/entry": ("kemu_files/entry", "proc"),
         "/dev/kemu_files": ("//kemu_files", "dev"),                # devtmpfs root is "/"
         "/sys/kernel/debug/kemu_files/entry": ("kemu_files/entry", "debug")}


def reports(k):
    return [REPORT.search(line).groups() for line in k.dmesg if REPORT.search(line)]


@pytest.fixture
def files_kernel(testmods):
    with kemu.Kernel() as k:
        mod = k.load(str(testmods / "kemu_files.ko"))
        yield k
        k.unload(mod)
        assert not k.findings, k.findings           # nothing leaked, nothing left registered


@pytest.mark.parametrize("path", sorted(FILES))
def test_every_callback_gets_complete_objects(files_kernel, path):
    k = files_kernel
    with k.as_process("cat"):
        assert k.read_file(path).endswith(b" key off\n")
    with k.as_process("sh", uid=0):
        assert k.write_file(path, "x\n") == 2
    name, fs = FILES[path]
    got = reports(k)
    assert [g[0] for g in got] == ["open", "read", "read", "release",
                                   "open", "write", "release"]
    for what, dname, sb, mnt_sb, inode, mapping, ino, uid, flags, mode, comm, pid, mm in got:
        assert (dname, sb, mnt_sb, inode, mapping, ino, uid, pid, mm) == \
            (name, MAGIC[fs], "1", "1", "1", "1", "0", "1", "1"), what
        reading = what in ("open", "read", "release") and comm == "cat"
        assert comm == ("cat" if reading else "sh")
        assert (flags, mode) == (("0", "1") if reading else ("1", "2"))   # O_RDONLY/FMODE_READ


def test_bin_attribute_gets_the_file(files_kernel):
    k = files_kernel
    with k.as_process("cat", uid=1000):
        assert k.read_file("/sys/kernel/kemu_files/blob") == b"bin\n"
    (what, dname, sb, *_rest, uid, flags, mode, comm, pid, mm), = reports(k)
    assert (what, dname, sb, uid, comm, pid, mm) == \
        ("bin_read", "kemu_files/blob", MAGIC["sys"], "1000", "cat", "1", "1")


def test_uid_permission_bits_and_capable(files_kernel):
    k = files_kernel
    with k.as_process("cat", uid=1000):               # debugfs' root is 0700
        with pytest.raises(kemu.KemuError) as denied:
            k.read_file("/sys/kernel/debug/kemu_files/entry")
    assert denied.value.errno == errno.EACCES
    with k.as_process("sh", uid=1000):                # 0644, owned by root
        with pytest.raises(kemu.KemuError) as denied:
            k.write_file("/proc/kemu_files/entry", "on\n")
    assert denied.value.errno == errno.EACCES
    with k.as_process("sh", uid=1000):                # misc device 0666: capable() says no
        with pytest.raises(kemu.KemuError) as denied:
            k.write_file("/dev/kemu_files", "root\n")
    assert denied.value.errno == errno.EPERM
    with k.as_process("sh"):
        assert k.write_file("/dev/kemu_files", "root\n") == 5


def test_static_branch_follows_the_key(files_kernel):
    k = files_kernel
    assert k.read_file("/proc/kemu_files/entry") == b"entry key off\n"
    k.write_file("/proc/kemu_files/entry", "on\n")
    assert k.read_file("/proc/kemu_files/entry") == b"entry key on\n"   # code that already ran
    k.write_file("/dev/kemu_files", "off\n")
    assert k.read_file("/proc/kemu_files/entry") == b"entry key off\n"


def test_ls_lists_as_ls(files_kernel):
    k = files_kernel
    assert [(e.name, oct(e.mode)) for e in k.list_dir("/sys/kernel/kemu_files")] == \
        [("blob", "0o100444")]
    assert [e.name for e in k.list_dir("/proc/kemu_files")] == ["crash", "entry"]
    assert [e.name for e in k.list_dir("/sys/class/misc/kemu_files")] == ["dev", "level", "uevent"]
    assert [e.name for e in k.list_dir("/proc/sys/kemu_files")] == ["level"]
    assert ("kemu_files", "0o20666") in [(e.name, oct(e.mode)) for e in k.list_dir("/dev")]


# ------------------------------------------------------------------ against Linux
def _oracle_steps(name="lkmpg"):
    raw = (GOLDEN / f"{name}.job").read_bytes()
    out = {}
    for m in re.finditer(rb"### ([^\n]*)\n(.*?)rc=(\d+)\n", raw, re.S):
        out.setdefault(m.group(1).decode(), []).append((m.group(2), int(m.group(3))))
    return out


def _oracle_dmesg(name="lkmpg"):
    """The real kernel's log of each step (between the job's marks), timestamps off."""
    steps, cur = {}, None
    for line in STAMP.sub(b"", (GOLDEN / f"{name}.dmesg").read_bytes()).decode().splitlines():
        if line.startswith("ORACLE: "):
            cur = line[len("ORACLE: "):]
            steps.setdefault(cur, []).append([])
            continue
        steps[cur][-1].append(line)
    return steps


def run_step(k, step: str, modules) -> tuple[bytes, int]:
    """One step of the job on kemu's kernel: (what the command printed, exit status);
    a failed system call prints the errno's text, as the shell does."""
    word, _, rest = step.partition(" ")
    try:
        if word == "insmod":
            k.load(str(modules[rest] if isinstance(modules, dict) else modules / rest))
        elif word == "rmmod":
            k.unload(rest)
        elif word == "cat":
            with k.as_process("cat"):
                return k.read_file(rest), 0
        elif word == "echo":
            data, _, path = rest.rpartition(" > ")
            with k.as_process("sh"):
                k.write_file(path, data + "\n")
        elif word == "ls":
            with k.as_process("ls"):
                return "".join(e.name + "\n" for e in k.list_dir(rest)).encode(), 0
        return b"", 0
    except kemu.EmulationError:                     # an oops kills the process
        return b"Killed\n", 137
    except kemu.KemuError as exc:
        return os.strerror(exc.errno).encode(), 1


def agree_with_linux(steps, golden: str, files: dict, **kernel) -> list:
    """Run ``steps`` on a kernel; the steps whose output, status or log differ from
    the real kernel's (tests/expected/files/GOLDEN.job and .dmesg)."""
    oracle, oracle_log = _oracle_steps(golden), _oracle_dmesg(golden)
    seen: dict = {}
    disagree = []
    with kemu.Kernel(**kernel) as k:
        for step in steps:
            i = seen[step] = seen.get(step, -1) + 1
            mark = len(k.dmesg)
            out, rc = run_step(k, step, files)
            want_out, want_rc = oracle[step][i]
            if step.startswith("ls "):                  # busybox ls in columns: the names
                want_out = b"".join(name + b"\n" for name in sorted(want_out.split()))
            if want_rc:                                  # "cat: can't open 'P': ERROR"
                want_out = want_out.strip().rsplit(b": ", 1)[-1]
            if (out, rc) != (want_out, want_rc):
                disagree.append((step, "output", want_out, want_rc, out, rc))
            if k.dmesg[mark:] != oracle_log[step][i]:
                disagree.append((step, "log", oracle_log[step][i], k.dmesg[mark:]))
    return disagree


def test_teaching_modules_agree_with_linux(testmods):
    """The shell job of tests/files_steps.py: outputs, exit statuses and the kernel
    log of every step as the real kernel gave them."""
    lkmpg = {p.name: p for p in (testmods / "lkmpg").glob("*.ko")}
    disagree = agree_with_linux(STEPS, "lkmpg", lkmpg)
    assert not disagree, "\n".join(map(repr, disagree))


def test_debian_modules_agree_with_linux(debian_modules):
    """Debian's fuse, autofs4, xt_recent and ipmi_msghandler: misc devices, parameters
    with their own ops, /proc/net directories, as the real kernel showed them."""
    mods = {p.rsplit("/", 1)[-1]: debian_modules / p for p in DEBIAN_MODULES}
    disagree = agree_with_linux(DEBIAN_STEPS, "debian", mods, modules=str(debian_modules))
    assert not disagree, "\n".join(map(repr, disagree))


def test_kemu_files_reports_agree_with_linux(testmods):
    """What module code read back from each callback, byte for byte as under the real
    kernel (tests/expected/files/kemu_files.sh), and the oops naming cat."""
    raw = (GOLDEN / "kemu_files.job").read_bytes()
    job = [m.group(1).decode() for m in re.finditer(rb"### ([^\n]*)\n", raw)]
    oracle, oracle_log = _oracle_steps("kemu_files"), _oracle_dmesg("kemu_files")
    seen: dict = {}
    with kemu.Kernel() as k:
        k.load(str(testmods / "kemu_files.ko"))
        for step in job:                     # the crash is last
            i = seen[step] = seen.get(step, -1) + 1
            want_out, want_rc = oracle[step][i]
            mark = len(k.dmesg)
            out, rc = run_step(k, step, testmods)
            if want_rc not in (0, 137):
                want_out = want_out.strip().rsplit(b": ", 1)[-1]
            assert (out, rc) == (want_out, want_rc), step
            want = [line for line in oracle_log[step][i] if "kemu_files: " in line]
            assert [line for line in k.dmesg[mark:] if "kemu_files: " in line] == want
        oops = k.dmesg[mark:]
    want = [re.sub(r"PID: \d+ ", "PID: N ", line).replace("  Debian 6.1.192-3", "")
            .replace(ORACLE_RELEASE, k.target.release)      # recorded on the oracle's release
            for line in oracle_log["cat /proc/kemu_files/crash"][0][:6]]
    got = [re.sub(r"PID: \d+ ", "PID: N ", line) for line in oops[:6]]
    assert [g for g in got if "PGD" not in g] == [w for w in want if "PGD" not in w]


# ------------------------------------------------------------------ the command line
def test_cli_cat_write_ls_as_the_shell(tmp_path, testmods):
    """kemu cat/write/ls: coreutils' output and errors, exit statuses, --uid, binary data."""
    from test_session import Kemu
    kemu_cli = Kemu(tmp_path / "session", testmods)
    kemu_cli("load", testmods / "lkmpg" / "procfs1.ko", check=0)
    kemu_cli("load", testmods / "kemu_files.ko", check=0)
    got = kemu_cli("cat", "/proc/helloworld", "/proc/nope", "/proc/kemu_files/entry")
    assert got.stdout == "HelloWorld!\n\0entry key off\n"          # the NUL procfs1 copies
    assert "cat: /proc/nope: No such file or directory" in got.stderr
    assert got.returncode == 1
    assert kemu_cli("write", "/proc/helloworld", "x").stderr.strip().endswith(
        "write: /proc/helloworld: Input/output error")             # proc_ops without write
    data = tmp_path / "on.bin"
    data.write_bytes(b"on")
    kemu_cli("write", "/proc/kemu_files/entry", "--file", data, check=0)
    assert kemu_cli("cat", "/proc/kemu_files/entry", check=0).stdout == "entry key on\n"
    denied = kemu_cli("write", "--uid", "1000", "/proc/kemu_files/entry", "off", check=1)
    assert "write: /proc/kemu_files/entry: Permission denied" in denied.stderr
    kemu_cli("write", "--uid", "1000", "-n", "/dev/kemu_files", "off", check=0)
    assert kemu_cli("cat", "/proc/kemu_files/entry", check=0).stdout == "entry key off\n"
    assert kemu_cli("ls", "/proc/kemu_files", check=0).stdout == "crash\nentry\n"
    assert "Permission denied" in kemu_cli("ls", "--uid", "7", "/sys/kernel/debug",
                                           check=1).stderr
    assert kemu_cli("ls", "/dev/nope", check=2).stderr.strip().splitlines()[-1] == \
        "ls: cannot access '/dev/nope': No such file or directory"


def test_cli_oops_names_the_reading_process(tmp_path, testmods):
    """Module code that oopses kills cat, as on Linux: the report says Comm: cat."""
    from test_session import Kemu
    kemu_cli = Kemu(tmp_path / "session", testmods)
    kemu_cli("load", testmods / "kemu_files.ko", check=0)
    got = kemu_cli("cat", "/proc/kemu_files/crash", check=137)
    assert re.search(r"CPU: 0 PID: \d+ Comm: cat Tainted: G +OE ", got.stderr)
    assert "Killed" in got.stderr.splitlines()                # what the shell says
    fd = kemu_cli("open", "/dev/kemu_files", check=0).stdout.strip()
    assert kemu_cli("read", fd, "5", check=0).stdout == "kemu_"
    assert kemu_cli("lseek", fd, "0", "SET", check=0).stdout == "0\n"
    assert kemu_cli("read", fd, check=0).stdout == "kemu_files key off\n"
    assert kemu_cli("poll", fd, check=0).stdout == "0x104 POLLOUT|POLLWRNORM\n"
    kemu_cli("write", fd, "on", check=0)
    assert kemu_cli("poll", fd, check=0).stdout == "0x41 POLLIN|POLLRDNORM\n"
    kemu_cli("close", fd, check=0)


def test_mmap_of_a_device(files_kernel):
    """remap_pfn_range() at offset 0, vm_ops->fault elsewhere; the fault's page
    reference is dropped at munmap."""
    k = files_kernel
    with k.as_process("sh"):
        f = k.open("/dev/kemu_files")
        try:
            assert k.mmap_read(f, 4096).rstrip(b"\0") == b"page 0 by remap_pfn_range\n"
            assert k.mmap_read(f, 16, 4096) == b"page 1 by fault\n"
            with pytest.raises(kemu.KemuError) as bad:
                k.mmap_read(f, 16, 100)                   # offset not page-aligned
            assert bad.value.errno == errno.EINVAL
        finally:
            f.close()
    assert "kemu_files: fault pgoff=1 comm=sh" in k.dmesg
    from kemu.stubs.arch.x86.mm.kaslr import VMEMMAP_BASE
    from kemu.machine.emulator import DIRECT_MAP_ADDR
    page1 = k.machine.read_u64(k.modules["kemu_files"].symbol_addr("page1"))
    page = VMEMMAP_BASE + (page1 - DIRECT_MAP_ADDR) // k.target.const("PAGE_SIZE") * \
        k.target.sizeof("page")
    assert k.machine.read_u32(page + k.target.offset("page._refcount")) == 1   # munmap put it
    with k.as_process("sh"):
        f = k.open("/proc/kemu_files/entry")
        with pytest.raises(kemu.KemuError) as nodev:
            k.mmap_read(f, 4096)
        f.close()
    assert nodev.value.errno == errno.ENODEV
