"""Rootkit-style modules (testmods/rootkit/) against the real kernel's output
(tests/expected/rootkit/, the oracle on Debian's 6.1.0-57): the kprobe trick to
find kallsyms_lookup_name, sys_call_table patched under a cleared CR0.WP,
6.1's pinned write_cr0(), a write with WP set, and a module that hides itself.
Also what kemu tells an analyst: the behaviour events of each."""
from __future__ import annotations

import errno
import os
import re

import pytest

from conftest import ROOT, TESTMODS, text_digest
from kemu import Kernel
from kemu.errors import MemoryFault
from kemu.module.procfs import lsmod, proc_modules
from kemu.module.unload import UnloadError

RK = TESTMODS / "rootkit"
EXPECTED = ROOT / "tests" / "expected" / "rootkit"
STAMP = re.compile(r"^\[ *\d+\.\d{6}\] ")


def oracle_lines(name: str, mark: str, upto: str | None = None) -> list[str]:
    """The dmesg of an oracle job after ``ORACLE: mark``, timestamps stripped."""
    text = (EXPECTED / name).read_text()
    dmesg = text.split("===ORACLE-DMESG-BEGIN===", 1)[1].split("===ORACLE-DMESG-END===")[0]
    lines = [STAMP.sub("", line) for line in dmesg.strip("\n").split("\n")]
    start = lines.index(f"ORACLE: {mark}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("ORACLE: ")),
               len(lines))
    return [line for line in lines[start:end]
            if "taints kernel" not in line and "verification failed" not in line]


def log(k, since: int = 0) -> list[str]:
    k.log.flush()
    return [line for rec in k.log.records[since:] for line in rec.text.split("\n")
            if "taints kernel" not in line and "verification failed" not in line]


@pytest.fixture(scope="module", autouse=True)
def built_as_recorded(testmods):
    """The goldens' %pS offsets hold for these very instructions."""
    for line in (EXPECTED / "modules.text-sha256").read_text().splitlines():
        digest, name = line.split()
        assert text_digest(RK / name) == digest, \
            f"{name}'s code changed: re-record tests/expected/rootkit (README.md there)"


@pytest.fixture
def k():
    kernel = Kernel()
    yield kernel
    kernel.close()


def kinds(k):
    return [(e["kind"], e["what"], e["function"], e["line"], e["when"]) for e in k.behaviour]


def test_sys_call_table_hook_logs_as_linux(k):
    mod = k.load(RK / "rk_sct.ko")
    assert log(k) == oracle_lines("oracle-job-2.out", "insmod rk_sct")
    mark = len(k.log.records)
    k.unload(mod)
    assert log(k, mark) == [line for line in oracle_lines("oracle-job-2.out", "after cat")
                            if line.startswith("rk_sct:")]


def test_sys_call_table_hook_behaviour(k):
    mod = k.load(RK / "rk_sct.ko")
    events = kinds(k)
    assert events[0][:2] == ("kprobe", "kprobe registered on kallsyms_lookup_name")
    assert events[1] == ("kallsyms", 'kallsyms_lookup_name("sys_call_table") = '
                         "sys_call_table+0x0/0xe20", "rk_sct_init", "rk_sct.c:73", "init")
    assert events[2:] == [
        ("cr0", "CR0.WP cleared (mov to %cr0)", "set_entry.constprop.0", "rk_sct.c:52", "init"),
        ("sys_call_table", "sys_call_table[257] (openat) = hook_openat+0x0/0xa8 [rk_sct]",
         "set_entry.constprop.0", "rk_sct.c:53", "init"),
        ("cr0", "CR0.WP set (mov to %cr0)", "set_entry.constprop.0", "rk_sct.c:55", "init")]
    patch = k.behaviour[3]
    assert (patch["nr"], patch["syscall"]) == (257, "openat")
    assert "x64_sys_call()" in patch["note"]
    del k.behaviour[:]
    k.unload(mod)
    assert [e[1] for e in kinds(k)] == [
        "CR0.WP cleared (mov to %cr0)",
        "sys_call_table[257] (openat) restored to __x64_sys_openat+0x0/0xa0",
        "CR0.WP set (mov to %cr0)"]
    assert {e["when"] for e in k.behaviour} == {"exit"}


def test_write_with_wp_set_is_the_permissions_oops(k):
    with pytest.raises(MemoryFault) as fault:
        k.load(RK / "rk_sct.ko", wp=0)
    assert fault.value.prot and fault.value.access == "write"
    want = oracle_lines("oracle-job-1.out", "insmod rk_sct wp=0")
    got = log(k)
    for line in ("BUG: unable to handle page fault for address: ",
                 "#PF: supervisor write access in kernel mode",
                 "#PF: error_code(0x0003) - permissions violation",
                 "Oops: 0003 [#1] PREEMPT SMP NOPTI",
                 "RIP: 0010:set_entry.constprop.0+0x4f/0x62 [rk_sct]"):
        assert any(g.startswith(line) for g in got), line
        assert any(w.startswith(line) for w in want), line
    assert got[:2] == want[:2]                   # the lines before the write
    assert not any(e["kind"] == "sys_call_table" for e in k.behaviour)


def test_pinned_write_cr0_warns_and_keeps_wp(k):
    k.load(RK / "rk_sct.ko", pinned=1)
    want = oracle_lines("oracle-job-2.out", "insmod rk_sct pinned=1")
    got = log(k)
    i, j = got.index("------------[ cut here ]------------"), \
        want.index("------------[ cut here ]------------")
    assert got[:i] == want[:j]
    assert got[i + 1] == want[j + 1] == "CR0 WP bit went missing!?"
    strip_pid = re.compile(r"PID: \d+ ")
    assert strip_pid.sub("", got[i + 2]) == strip_pid.sub("", want[j + 2])
    assert got[-1] == want[-2] == "rk_sct: openat now hook_openat [rk_sct]"
    assert [e["what"] for e in k.behaviour if e["kind"] == "cr0"][0] == \
        "write_cr0() tried to clear CR0.WP (pinned: 6.1 sets it back)"


def test_hidden_module_as_linux_lists_it(k):
    k.load(TESTMODS / "hello.ko")
    k.load(RK / "rk_hide.ko")
    assert log(k)[-1] == oracle_lines("oracle-job-1.out", "insmod rk_hide")[-1] == \
        "rk_hide: hiding from the module list"
    assert [line.split()[0] for line in proc_modules(k).splitlines()] == ["hello"]
    assert lsmod(k).splitlines()[1:] == ["hello                  16384  0"]
    assert lsmod(k, show_hidden=True).splitlines()[1:] == [
        "rk_hide                16384  0 [hidden]", "hello                  16384  0"]
    with pytest.raises(UnloadError) as failed:             # the oracle: rmmod ENOENT
        k.unload("rk_hide")
    assert failed.value.errno == errno.ENOENT
    assert kinds(k) == [("module-hidden", "rk_hide unlinked from the module list: hidden "
                         "from /proc/modules and lsmod", "rk_hide_init", "rk_hide.c:15", "init")]
    k.unload("hello")                                       # the list still works


def test_kallsyms_lookup_name_is_not_linkable(k, tmp_path):
    """kallsyms_lookup_name is a kernel function kemu models but Linux does not export."""
    from kemu.abi.exports import REGISTRY
    assert REGISTRY["kallsyms_lookup_name"].internal
    assert k.find_symbol("kallsyms_lookup_name") is None


def test_commit_creds_is_a_credential_change(k):
    k.load(RK / "rk_root.ko")
    assert log(k) == oracle_lines("oracle-job-3.out", "insmod rk_root")
    assert kinds(k) == [("creds", "commit_creds(): insmod's credentials replaced: uid 0 -> 0, "
                         "euid 0 -> 0", "rk_root_init", "rk_root.c:20", "init")]


def oracle_job(name: str, mark: str) -> list[str]:
    """The job's output after ``### mark``, up to the next mark."""
    text = (EXPECTED / name).read_text()
    job = text.split("===ORACLE-JOB-BEGIN===\n", 1)[1].split("===ORACLE-JOB-END")[0]
    lines = job.splitlines()
    start = lines.index(f"### {mark}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("### ")), len(lines))
    return lines[start:end]


PID = re.compile(r"(find_task_by_vpid\()\d+(\))")


def test_task_list_from_init_task(k):
    """for_each_process() from init_task, pid lookups, kallsyms_on_each_symbol() and
    %pS/sprint_symbol of vmlinux functions print what Linux prints (the pids aside)."""
    k.load(RK / "rk_procs.ko")
    assert [PID.sub(r"\1N\2", line) for line in log(k)] == \
        [PID.sub(r"\1N\2", line) for line in oracle_lines("oracle-job-4.out", "insmod rk_procs")]
    from kemu.stubs.init.init_task import task_list
    from kemu.stubs.kernel.sched.core import sched
    walked = task_list(k).walk()
    assert walked[0] == sched(k).main.ts and sched(k).softirq.ts in walked


def test_task_list_follows_threads(k):
    from kemu.stubs.init.init_task import task_list
    from kemu.stubs.kernel.sched.core import sched
    k.load(RK / "rk_procs.ko")
    s = sched(k)
    before = task_list(k).walk()
    task = s.new_task("kworker/u2:1", "kthread")
    assert task_list(k).walk() == before + [task.ts]
    s.kill(task)
    assert task_list(k).walk() == before


def test_proc_kallsyms_honours_kptr_restrict(k):
    k.load(RK / "rk_procs.ko")
    k.unload("rk_procs")
    want = [line for line in oracle_job("oracle-job-4.out", "kallsyms as root")[2:]]
    text = k.read_file("/proc/kallsyms").decode()
    lines = text.splitlines()
    assert lines[:3] == want[:3]
    assert [line for line in lines if line.split()[2] in (
        "init_task", "commit_creds", "x64_sys_call", "__x64_sys_kill")] == want[3:]
    with k.as_process("su", uid=1000):
        text = k.read_file("/proc/kallsyms").decode()
    lines = text.splitlines()
    want = oracle_job("oracle-job-4.out", "kallsyms as uid 1000")
    assert lines[:3] == want[:3]
    assert [line for line in lines if line.split()[2] in ("init_task", "commit_creds")] == want[3:]


def test_proc_kallsyms_lists_modules_not_hidden_ones(k):
    k.load(TESTMODS / "hello.ko")
    k.load(RK / "rk_hide.ko")
    lines = k.read_file("/proc/kallsyms").decode().splitlines()
    assert "[rk_hide]" not in "\n".join(lines[-40:])
    hello = [line for line in lines if line.endswith("\t[hello]")]
    assert any(line.endswith(" t hello_exit\t[hello]") for line in hello)


def test_magic_signal_through_a_kprobe_grants_root(k):
    """kill -64 from uid 1000: without rk_kill nothing happens; with its kprobe on
    __x64_sys_kill the process becomes root (the oracle's `id -u` prints 0)."""
    before = oracle_job("oracle-job-4.out", "kill as uid 1000")
    got = [r.shown for r in k.syscalls([("getuid",), ("kill", 4242, 64), ("getuid",)], uid=1000)]
    assert before[0] == before[3] == "1000" and "No such process" in before[1]
    assert got == ["getuid() = 1000", "kill(4242, 64) = -1 ESRCH (No such process)",
                   "getuid() = 1000"]
    k.load(RK / "rk_kill.ko")
    mark = len(k.log.records)
    after = oracle_job("oracle-job-4.out", "kill 64 as uid 1000")
    got = [r.shown for r in k.syscalls([("getuid",), ("kill", 4242, 64), ("getuid",),
                                        ("kill", 4242, 63)], uid=1000, comm="sh")]
    assert (after[0], after[3]) == ("1000", "0")
    assert got == ["getuid() = 1000", "kill(4242, 64) = -1 ESRCH (No such process)",
                   "getuid() = 0", "kill(4242, 63) = -1 ESRCH (No such process)"]
    assert log(k, mark) == oracle_lines("oracle-job-4.out", "kill 64 as uid 1000")
    creds = [e for e in k.behaviour if e["kind"] == "creds"]
    assert [(e["what"], e["module"], e["function"], e["when"]) for e in creds] == [
        ("commit_creds(): sh's credentials replaced: uid 1000 -> 0, euid 1000 -> 0",
         "rk_kill", "kill_pre", "kprobe pre_handler")]
    assert k.syscall("getuid", uid=1000).ret == 1000       # a new process: its own creds


def test_patched_sys_call_table_is_not_dispatched(k):
    """6.1.192 dispatches through x64_sys_call(): rk_sct's openat hook never runs
    (oracle job 2 has no `rk_sct: openat` line), the real openat does."""
    k.load(RK / "rk_sct.ko")
    mark = len(k.log.records)
    res = k.syscalls([("openat", "/proc/modules"), ("read", 3, 200), ("close", 3)])
    assert res[0].shown == 'openat(AT_FDCWD, "/proc/modules") = 3'
    assert res[1].data[0].startswith(b"rk_sct 16384 0 - Live ")
    assert not [line for line in log(k, mark) if "openat(" in line]
    assert not any("rk_sct: openat(" in line
                   for line in oracle_lines("oracle-job-2.out", "insmod rk_sct"))


def test_uname_and_getdents64(k):
    k.load(TESTMODS / "hello.ko")
    res = k.syscall("uname")
    assert res.ret == 0 and res.data[0] == "Linux"
    release = oracle_job("oracle-job-4.out", "uname")[0].split()[2]
    assert res.data[2] == release
    res = k.syscalls([("openat", "/sys/module/hello", "O_RDONLY|O_DIRECTORY"),
                      ("getdents64", 3, 4096), ("getdents64", 3, 4096)])
    assert res[1].data[:2] == [".", ".."] and "parameters" in res[1].data
    assert res[2].ret == 0
    assert k.syscall("close", 3).shown == "close(3) = -1 EBADF (Bad file descriptor)"


@pytest.mark.parametrize("words, says", [
    (["nosuch"], "kemu: syscall nosuch: kemu does not model this system call (it models "),
    (["kill", "1"], "kemu: syscall kill: 2 arguments expected, 1 given"),
    (["kill", "1", "SIGNOPE"], "kemu: syscall: 'SIGNOPE' is neither a number nor a constant of "
                               "Linux "),
    (["read", "3", "0x"], "kemu: syscall: '0x' is not a number"),
    (["read", "3", "99999999999"], "kemu: syscall read: a buffer of 99999999999 bytes"),
])
def test_syscall_bad_input_is_one_line(tmp_path, words, says):
    """Bad command-line input to kemu syscall: one line, status 2, the session unharmed."""
    import subprocess
    import sys
    env = {**os.environ, "KEMU_SESSION": str(tmp_path / "s")}
    bad = subprocess.run([sys.executable, "-m", "kemu", "syscall", *words], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith(says), bad.stderr
    assert len(bad.stderr.splitlines()) == 1 and "Traceback" not in bad.stderr
    good = subprocess.run([sys.executable, "-m", "kemu", "syscall", "getuid"], env=env,
                          capture_output=True, text=True)
    assert good.returncode == 0 and good.stdout == "getuid() = 0\n"


def _ftrace_kills(k):
    return [r.shown for r in k.syscalls([("getuid",), ("kill", 4242, 63), ("getuid",),
                                         ("kill", 4242, 64), ("getuid",)], uid=1000, comm="sh")]


def test_ftrace_hooks_as_linux(k):
    """rk_ftrace (ftrace_helper.h style) hooks kill and getuid: init's results (sym+1
    is inside the fentry site, sym+5 is not, a second IPMODIFY ops is -EBUSY, the
    flags) and every hook's line are the real kernel's; the originals run from the
    hooks (kill at address + 5, getuid at the address, within_module() deciding)."""
    k.load(RK / "rk_ftrace.ko")
    assert log(k) == oracle_lines("oracle-job-5.out", "insmod rk_ftrace")
    mark = len(k.log.records)
    job = oracle_job("oracle-job-5.out", "kill as uid 1000")
    assert job == ["1000", "sh: can't kill pid 4242: No such process", "kill rc=1", "1000",
                   "kill rc=0", "0"]
    assert _ftrace_kills(k) == [
        "getuid() = 1000", "kill(4242, 63) = -1 ESRCH (No such process)", "getuid() = 1000",
        "kill(4242, 64) = 0", "getuid() = 0"]
    # the oracle's shell is `su`'s child and runs `id` for getuid(): their own lines
    want = [line.replace(" in id", " in sh")
            for line in oracle_lines("oracle-job-5.out", "kill as uid 1000")
            if not line.endswith(" in su")]
    assert want.pop(0) == "rk_ftrace: getuid() = 1000 in sh"          # sh starting
    assert log(k, mark) == want
    mark = len(k.log.records)
    k.unload("rk_ftrace")
    assert log(k, mark) == oracle_lines("oracle-job-5.out", "rmmod rk_ftrace")
    assert oracle_job("oracle-job-5.out", "kill after rmmod") == [
        "sh: can't kill pid 4242: No such process", "kill rc=1", "1000"]
    assert [r.shown for r in k.syscalls([("kill", 4242, 64), ("getuid",)], uid=1000)] == [
        "kill(4242, 64) = -1 ESRCH (No such process)", "getuid() = 1000"]


def test_ftrace_hooks_behaviour(k):
    k.load(RK / "rk_ftrace.ko")
    _ftrace_kills(k)
    hooks = [(e["what"], e["function"], e["line"], e["when"], e["ipmodify"])
             for e in k.behaviour if e["kind"] == "ftrace" and "ipmodify" in e]
    assert hooks == [
        ("ftrace hook registered on __x64_sys_kill (may redirect: IPMODIFY): "
         "fh_ftrace_thunk+0x0/0x5f [rk_ftrace]", "fh_install_hook", "rk_ftrace.c:77", "init",
         True),
        ("ftrace hook registered on __x64_sys_getuid (may redirect: IPMODIFY): "
         "fh_ftrace_thunk+0x0/0x5f [rk_ftrace]", "fh_install_hook", "rk_ftrace.c:77", "init",
         True),
        ("ftrace hook registered on __x64_sys_kill: trace_kill+0x0/0x20 [rk_ftrace]",
         "rk_ftrace_init", "rk_ftrace.c:185", "init", False)]
    redirects = [(e["what"], e["function"], e["when"]) for e in k.behaviour
                 if e["kind"] == "ftrace" and "hook" in e]
    assert redirects == [                    # the first time each hook gets a call
        ("__x64_sys_getuid redirected to hook_getuid+0x0/0x40 [rk_ftrace]", "fh_ftrace_thunk",
         "ftrace callback"),
        ("__x64_sys_kill redirected to hook_kill+0x0/0xe0 [rk_ftrace]", "fh_ftrace_thunk",
         "ftrace callback")]
    creds = [(e["what"], e["function"], e["when"]) for e in k.behaviour if e["kind"] == "creds"]
    assert creds == [("commit_creds(): sh's credentials replaced: uid 1000 -> 0, euid 1000 -> 0",
                      "hook_kill", "ftrace hook")]
    k.unload("rk_ftrace")
    assert not [f for f in k.findings if "ftrace" in str(f)]


def _ls(k, path: str, uid: int = 0) -> list[str]:
    res = k.syscalls([("openat", path, "O_RDONLY|O_DIRECTORY"), ("getdents64", 3, 32768),
                      ("getdents64", 3, 32768), ("close", 3)], uid=uid, comm="ls")
    assert res[2].ret == 0
    return res[1].data


def hidefile_lines(name: str, mark: str) -> list[str]:
    """The oracle's lines of rk_hidefile (the real kernel logs its own in between)."""
    return [line for line in oracle_lines(name, mark) if line.startswith("rk_hidefile: ")]


def test_getdents64_hidden_by_an_ftrace_hook(k):
    """rk_hidefile's ftrace hook calls the real getdents64 (at its address, saved from
    recursion by within_module()) and drops the "rk_" records from the process's
    buffer: ls of /sys/module no longer shows it, /proc/modules does, as on Linux."""
    k.load(RK / "rk_hidefile.ko")
    assert log(k) == hidefile_lines("oracle-job-6.out", "insmod rk_hidefile")
    mark = len(k.log.records)
    assert oracle_job("oracle-job-6.out", "ls /sys/module")[0] == "grep rc=1"
    for _ in range(2):                          # the oracle's two ls of /sys/module
        assert not [name for name in _ls(k, "/sys/module") if name.startswith("rk_")]
    assert log(k, mark) == hidefile_lines("oracle-job-6.out", "ls /sys/module")
    assert k.read_file("/proc/modules").decode().startswith("rk_hidefile ")
    mark = len(k.log.records)
    assert "rk_hidefile" not in _ls(k, "/sys/module/rk_hidefile/..", uid=1000)
    assert log(k, mark) == hidefile_lines("oracle-job-6.out", "ls as uid 1000")
    mark = len(k.log.records)
    k.unload("rk_hidefile")
    assert log(k, mark) == hidefile_lines("oracle-job-6.out", "rmmod rk_hidefile")
    assert _ls(k, "/sys/module") == [".", ".."]
    assert log(k, len(k.log.records)) == hidefile_lines("oracle-job-6.out", "ls after rmmod")
    hooks = [(e["what"], e["when"]) for e in k.behaviour if e["kind"] == "ftrace"]
    assert hooks == [("ftrace hook registered on __x64_sys_getdents64 (may redirect: "
                      "IPMODIFY): fh_ftrace_thunk+0x0/0x60 [rk_hidefile]", "init"),
                     ("__x64_sys_getdents64 redirected to hook_getdents64+0x0/0x121 "
                      "[rk_hidefile]", "ftrace callback")]


def test_getdents64_unhooked_lists_every_entry(k):
    k.load(RK / "rk_kill.ko")
    assert _ls(k, "/sys/module") == [".", "..", "rk_kill"]


def idt_lines(mark: str) -> list[str]:
    return [line for line in oracle_lines("oracle-job-7.out", mark) if line.startswith("rk_idt: ")]


def test_idt_through_sidt_and_idt_table(k):
    """store_idt() gives the cpu entry area's read-only alias, idt_table (kallsyms)
    the same gates: 6.1's handlers with their types, DPLs and IST stacks, the
    external vectors' stubs; a gate rewritten under a cleared CR0.WP is an event."""
    k.load(RK / "rk_idt.ko")
    assert log(k) == idt_lines("insmod rk_idt")
    k.unload("rk_idt")
    assert not [e for e in k.behaviour if e["kind"] == "idt"]
    mark = len(k.log.records)
    k.load(RK / "rk_idt.ko", "write=1")
    assert log(k, mark) == idt_lines("insmod rk_idt write=1")
    events = [(e["kind"], e["what"], e["function"], e["line"]) for e in k.behaviour
              if e["kind"] in ("idt", "cr0")]
    assert events[-3:] == [
        ("cr0", "CR0.WP cleared (mov to %cr0)", "rk_idt_init", "rk_idt.c:70"),
        ("idt", "idt_table[0x3] (asm_exc_int3) = asm_exc_int3+0x0/0x40", "rk_idt_init",
         "rk_idt.c:71"),
        ("cr0", "CR0.WP set (mov to %cr0)", "rk_idt_init", "rk_idt.c:72")]
    found = [e["what"] for e in k.behaviour if e["kind"] == "kallsyms"]
    assert 'kallsyms_lookup_name("idt_table") = idt_table+0x0/0x1000' in found


def test_idt_write_with_wp_set_faults(k):
    from kemu.stubs.arch.x86.kernel.idt import Idt
    k.load(TESTMODS / "hello.ko")
    idt = k.model(Idt)
    assert not idt.filled                    # no sidt in hello: the symbols stay unread
    idt.fill()
    with pytest.raises(MemoryFault):
        k.machine.call(k.machine.add_thunk("idt_poke", f"mov rax, {idt.addr:#x}\n"
                                           "mov qword ptr [rax + 48], 0\nret"), ())
    assert not [e for e in k.behaviour if e["kind"] == "idt"]


def test_ftrace_filters_by_address_name_and_notrace(k):
    """ftrace_location() maps the 5 bytes of a vmlinux function's fentry site to it;
    filters by address list, by name and glob; notrace removes a function; an
    IPMODIFY ops without a filter cannot register (6.1 refuses all-function IPMODIFY)."""
    from kemu.abi.toolkit import kzalloc, wr
    from kemu.stubs.kernel.kallsyms import vmlinux_addr
    from kemu.stubs.kernel.trace import ftrace as F
    k.load(RK / "rk_kill.ko")
    kill, getuid = vmlinux_addr(k, "__x64_sys_kill"), vmlinux_addr(k, "__x64_sys_getuid")
    assert [F.ftrace_location(k, kill + i) for i in (0, 4, 5)] == [kill, kill, 0]
    mod = k.modules["rk_kill"]
    assert F.ftrace_location(k, mod.symbol_addr("kill_pre")) == 0
    ops = kzalloc(k, k.target.sizeof("ftrace_ops"), "ftrace_ops")
    ips = kzalloc(k, 16, "ips")
    k.machine.write_u64(ips, kill + 2)
    k.machine.write_u64(ips + 8, getuid)
    assert F.ftrace_set_filter_ips(k, ops, ips, 2, 0, 0) == 0
    assert k.model(F.Ftrace).filters[ops] == {kill, getuid}
    assert F.ftrace_set_filter_ips(k, ops, ips, 1, 1, 0) == 0
    assert F.ftrace_set_filter_ips(k, ops, ips, 1, 1, 0) == -errno.ENOENT
    name = kzalloc(k, 64, "name")
    k.machine.write(name, b"__x64_sys_geteuid __x64_sys_kil?\0")
    assert F.ftrace_set_filter(k, ops, name, 32, 1) == 0
    assert k.model(F.Ftrace).filters[ops] == {kill, vmlinux_addr(k, "__x64_sys_geteuid")}
    k.machine.write(name, b"no_such_function\0")
    assert F.ftrace_set_filter(k, ops, name, 16, 0) == -errno.EINVAL
    k.machine.write(name, b"__x64_sys_kill\0")
    assert F.ftrace_set_notrace(k, ops, name, 14, 0) == 0
    assert F.register_ftrace_function(k, ops) == 0
    assert F.ops_on(k, kill) == [] and F.ops_on(k, vmlinux_addr(k, "__x64_sys_geteuid")) == [ops]
    assert F.register_ftrace_function(k, ops) == -errno.EBUSY
    assert F.unregister_ftrace_function(k, ops) == 0
    assert F.unregister_ftrace_function(k, ops) == -errno.EBUSY
    other = kzalloc(k, k.target.sizeof("ftrace_ops"), "ftrace_ops")
    wr(k, other, "ftrace_ops.flags", F.FL_IPMODIFY | F.FL_SAVE_REGS)
    assert F.register_ftrace_function(k, other) == -errno.EINVAL


def test_kprobe_runs_when_module_code_calls_the_function(k):
    """A kprobe on a vmlinux function is armed on its fentry site (6.1's kprobes on
    ftrace): module code calling the function runs the pre_handler (regs->ip one byte
    in) and, the pre_handler returning 0, the post_handler, then the function."""
    from kemu.abi.toolkit import kzalloc, rd
    from kemu.stubs.kernel.kallsyms import vmlinux_addr
    from kemu.stubs.kernel.kprobes import register_kprobe, unregister_kprobe
    k.load(RK / "rk_kill.ko")
    m = k.machine
    seen = kzalloc(k, 32, "seen")
    pre = m.add_thunk("test_pre", f"mov rax, {seen:#x}\ninc qword ptr [rax]\n"
                      f"mov rcx, [rsi + {k.target.offset('pt_regs.ip')}]\n"
                      "mov [rax + 8], rcx\nxor eax, eax\nret")
    post = m.add_thunk("test_post", f"mov rax, {seen:#x}\ninc qword ptr [rax + 16]\nret")
    kp = kzalloc(k, k.target.sizeof("kprobe"), "kprobe")
    getuid = vmlinux_addr(k, "__x64_sys_getuid")
    m.write_u64(kp + k.target.offset("kprobe.addr"), getuid)
    m.write_u64(kp + k.target.offset("kprobe.pre_handler"), pre)
    m.write_u64(kp + k.target.offset("kprobe.post_handler"), post)
    assert register_kprobe(k, kp) == 0
    regs = kzalloc(k, k.target.sizeof("pt_regs"), "pt_regs")
    assert m.call(getuid, (regs,)) == 0                         # insmod is root
    assert (m.read_u64(seen), m.read_u64(seen + 8), m.read_u64(seen + 16)) == \
        (1, getuid + 1, 1)
    unregister_kprobe(k, kp)
    m.call(getuid, (regs,))
    assert m.read_u64(seen) == 1
    assert rd(k, kp, "kprobe.addr") == getuid
