"""Fault injection: --fail-nth, faultsweep, its Python API and pytest fixture.

testmods/faulty.c leaks its first buffer when its second allocation fails;
kemu_proc.c's error path removes a /proc/net entry it never created (the WARN
of remove_proc_entry), whichever proc_create_* before that one fails.
"""
from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from kemu import InitError, Kernel
from kemu.abi.exports import REGISTRY, parse_failure
from kemu.kernel.faultinject import FaultInjection, faultsweep
from kemu.kernel.facade import import_stub_package
from kemu.target.lines import line_of

from conftest import TESTMODS, module_release

# the export a kmalloc() of a constant size calls on the line testmods/ were built
# for: kmem_cache_alloc_trace (5.10), kmalloc_trace (6.1), __kmalloc_cache_noprof (6.11)
_LINE = line_of(module_release(TESTMODS / "hello.ko") if (TESTMODS / "hello.ko").exists()
                else "6.1").version
KMALLOC_TRACE = ("kmem_cache_alloc_trace" if _LINE < (6, 1) else
                 "kmalloc_trace" if _LINE < (6, 11) else "__kmalloc_cache_noprof")

STAMP = re.compile(r"^\[\s*\d+\.\d{6}\] ")


def source_line(testmods, name: str, text: str) -> int:
    """The line of ``text`` in testmods/NAME.c (so no line number is hard-coded)."""
    lines = (testmods / f"{name}.c").read_text().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if text in line]
    assert len(hits) == 1, (text, hits)
    return hits[0]


def kemu(*argv, session):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "KEMU_DEBUG")}
    env.update(NO_COLOR="1", TERM="dumb", KEMU_SESSION=str(session))
    proc = subprocess.run([sys.executable, "-m", "kemu", *argv], env=env, capture_output=True,
                          text=True, timeout=120)
    # a kernel description made for this checkout the first time it is needed says so
    proc.stderr = "".join(line for line in proc.stderr.splitlines(keepends=True)
                          if not line.startswith("kemu: describing Linux "))
    return proc


def test_failure_declarations_are_parsed_once_next_to_the_prototype():
    import_stub_package()
    assert REGISTRY["__kmalloc"].fails.text == "NULL"
    assert REGISTRY["misc_register"].fails.value([0]) == -errno.EBUSY
    assert REGISTRY["kthread_create_on_node"].fails.value([0] * 5) == \
        (-errno.ENOMEM) & 0xFFFFFFFFFFFFFFFF
    assert REGISTRY["_copy_from_user"].fails.value([0x10, 0x20, 48]) == 48
    assert REGISTRY["kfree"].fails is None
    with pytest.raises(ValueError, match="not NULL, -EXXX"):
        parse_failure("-ENOTANERRNO", "int f(int x)")


def test_faultsweep_names_the_leaked_allocation(testmods):
    first = source_line(testmods, "faulty", "faulty_buf = kzalloc(64")
    second = source_line(testmods, "faulty", "faulty_table = kmalloc(256")
    third = source_line(testmods, "faulty", "faulty_name = kstrdup(")
    reg = source_line(testmods, "faulty", "ret = misc_register(")
    report = faultsweep(str(testmods / "faulty.ko"))
    assert report.baseline.ok and report.baseline.init_ret == 0
    assert [(c.export, c.failure) for c in report.calls] == [
        (KMALLOC_TRACE, "NULL"), (KMALLOC_TRACE, "NULL"), ("kstrdup", "NULL"),
        ("misc_register", "-EBUSY")]
    sites = [str(p.call.site) for p in report.paths]
    assert [s.rsplit("(", 1)[1] for s in sites] == [
        f"faulty.c:{first})", f"faulty.c:{second})", f"faulty.c:{third})", f"faulty.c:{reg})"]
    assert all(s.startswith("faulty_init+") for s in sites)
    assert [p.init_ret for p in report.paths] == [-errno.ENOMEM, -errno.ENOMEM, -errno.ENOMEM,
                                                  -errno.EBUSY]
    assert [p.ok for p in report.paths] == [True, False, True, True]
    leak, = report.paths[1].findings
    assert leak["kind"] == "leak" and leak["size"] == 64
    assert leak["caller"].endswith(f"[faulty] (faulty.c:{first})")
    assert not report.ok
    assert report.lines()[-1] == "1 of 4 failure paths misbehave"


def test_fail_nth_reproduces_a_path_in_the_api(testmods):
    first = source_line(testmods, "faulty", "faulty_buf = kzalloc(64")
    with Kernel() as k:
        fi = k.model(FaultInjection).arm(str(testmods / "faulty.ko"), 2)
        with pytest.raises(InitError) as failed:
            k.load(testmods / "faulty.ko")
        assert failed.value.errno == errno.ENOMEM
        assert fi.injected.nth == 2 and fi.injected.export == KMALLOC_TRACE
        assert [f["kind"] for f in k.findings] == ["leak"]
        assert "    [<" in k.dmesg[-1] and k.dmesg[-1].endswith(f"(faulty.c:{first})")
        assert "faulty" not in k.modules


def test_a_fault_injection_counts_only_the_modules_own_calls(testmods):
    with Kernel() as k:
        fi = k.model(FaultInjection).arm(str(testmods / "faulty.ko"), 0)
        k.load(testmods / "hello.ko")            # another module: not counted
        assert fi.calls == []
        k.load(testmods / "faulty.ko")
        assert len(fi.calls) == 4 and fi.injected is None


def test_faultsweep_finds_the_proc_error_path_warning(testmods):
    report = faultsweep(str(testmods / "kemu_proc.ko"))
    # the duplicate "single" entry WARNs on every run: reported once, for the baseline
    assert [f["kind"] for f in report.baseline.findings] == ["warning"]
    bad = [p.call.export for p in report.paths if not p.ok]
    assert bad == ["proc_create_seq_private", "proc_create_single_data", "proc_create_data",
                   "proc_create_single_data", "proc_create", "proc_create_net_single"]
    for p in report.paths:
        if not p.ok:
            assert [f["message"] for f in p.findings] == [
                "WARNING at fs/proc/generic.c:708 remove_proc_entry+0x16f/0x180: name 'kemu_net'"]
            assert p.init_ret == -errno.ENOMEM


def test_faultsweep_of_a_callback(testmods):
    line = source_line(testmods, "kemu_proc", "if (copy_from_user(tmp, buf, count))")
    report = faultsweep(str(testmods / "kemu_proc.ko"), scope="callbacks",
                        scenario=lambda k, mod: k.proc_write("/proc/kemu_proc/rw", b"7"))
    path, = report.paths
    assert path.call.export == "_copy_from_user" and path.call.failure == "n"
    assert str(path.call.site).startswith("rw_write+") and \
        str(path.call.site).endswith(f"(kemu_proc.c:{line})")
    assert "write: Bad address" in path.outcome and path.ok
    assert "kemu_proc: value set to 7" in report.baseline.log
    assert "kemu_proc: value set to 7" not in path.log


def test_cli_faultsweep_and_fail_nth(testmods, tmp_path):
    first = source_line(testmods, "faulty", "faulty_buf = kzalloc(64")
    second = source_line(testmods, "faulty", "faulty_table = kmalloc(256")
    sweep = kemu("faultsweep", str(testmods / "faulty.ko"), session=tmp_path / "s")
    assert sweep.returncode == 1, sweep.stderr
    out = sweep.stdout.splitlines()
    assert out[0] == ("faulty: 4 fallible calls in init, 4 call sites; without faults: "
                      "init returned 0, unloaded")
    assert re.fullmatch(rf"\[FAIL\] fail-nth 2: {KMALLOC_TRACE}\(\) -> NULL at faulty_init\+0x\w+/"
                        rf"0x\w+ \[faulty\] \(faulty.c:{second}\): init returned -12 \(ENOMEM\)",
                        out[2]), out[2]
    assert out[3].startswith("    leak: faulty leaked 64 bytes (kmalloc) allocated at "
                             "faulty_init+") and out[3].endswith(f"(faulty.c:{first})")
    assert [line[:6] for line in out[1:] if line.startswith("[")] == \
        ["[ok] f", "[FAIL]", "[ok] f", "[ok] f"]
    doc = json.loads(kemu("faultsweep", "--json", str(testmods / "faulty.ko"),
                          session=tmp_path / "s").stdout)
    assert [p["ok"] for p in doc["paths"]] == [True, False, True, True]
    assert kemu("faultsweep", str(testmods / "hello.ko"), session=tmp_path / "s").returncode == 0

    run = kemu("run", str(testmods / "faulty.ko"), "--fail-nth", "2", session=tmp_path / "s")
    assert run.returncode == 1
    log = [STAMP.sub("", line) for line in run.stdout.splitlines()]
    assert log[-7:] == [
        "unreferenced object 0xffff888008041fc0 (size 64):",
        '  comm "insmod", pid 1, jiffies 4294892796',
        "  hex dump (first 32 bytes):",
        "    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................",
        "    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................",
        "  backtrace:", log[-1]]
    assert log[-1].endswith(f"[faulty] (faulty.c:{first})")
    err = run.stderr.splitlines()
    assert err[0].startswith(f"kemu: fault injected: call 2 of init, {KMALLOC_TRACE}() returned "
                             "NULL at faulty_init+") and err[0].endswith(f"(faulty.c:{second})")
    assert err[1:] == [
        f"kemu: ERROR: could not insert module {testmods / 'faulty.ko'}: Cannot allocate memory",
        err[2]]
    assert err[2].startswith("kemu: finding: leak: faulty leaked 64 bytes (kmalloc) allocated "
                             "at faulty_init+") and err[2].endswith(f"(faulty.c:{first})")
    # the journal replays the injected fault: the next command's kernel has no faulty
    lsmod = kemu("lsmod", session=tmp_path / "s")
    assert "faulty" not in lsmod.stdout
    # the leak was reported once: a clean instance unloads clean
    again = kemu("run", str(testmods / "faulty.ko"), "--unload", session=tmp_path / "s")
    assert again.returncode == 0 and "unreferenced" not in again.stdout, again.stdout

    late = kemu("run", str(testmods / "faulty.ko"), "--fail-nth", "9", session=tmp_path / "t")
    assert late.returncode == 0
    assert "kemu: fault injection: init made 4 fallible calls; call 9 never came" in late.stderr
    bad = kemu("run", str(testmods / "faulty.ko"), "--fail-nth", "-1", session=tmp_path / "t")
    assert bad.returncode == 2 and bad.stderr == "kemu: --fail-nth -1: must be at least 1\n"
    missing = kemu("faultsweep", str(tmp_path / "none.ko"), session=tmp_path / "t")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.endswith("No such file or directory\n")


def test_pytest_fixture(testmods, tmp_path):
    (tmp_path / "test_sweep.py").write_text(textwrap.dedent(f"""
        def test_hello_is_clean(kemu_faultsweep):
            report = kemu_faultsweep("{testmods / 'hello.ko'}")
            assert len(report.paths) == 1 and report.ok

        def test_faulty_leaks(kemu_faultsweep):
            kemu_faultsweep("{testmods / 'faulty.ko'}")
    """))
    env = {**os.environ, "PYTHONPATH": str(testmods.parent)}     # this checkout's plugin
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(tmp_path / "test_sweep.py")], capture_output=True, text=True,
                            cwd=tmp_path, env=env)
    assert "1 failed, 1 passed" in result.stdout, result.stdout
    assert "kemu faultsweep: a failure path misbehaves" in result.stdout
    assert f"[FAIL] fail-nth 2: {KMALLOC_TRACE}() -> NULL" in result.stdout


def test_faultsweep_of_a_debian_module_loads_its_dependencies(debian_modules):
    """vfat.ko needs fat.ko (loaded first, as modprobe would); its init ends in a
    tail call to register_filesystem(), which fails with -EBUSY."""
    report = faultsweep(str(debian_modules / "fs" / "fat" / "vfat.ko"))
    assert report.baseline.init_ret == 0 and report.baseline.ok
    path, = report.paths
    assert (path.call.export, path.call.failure, str(path.call.site)) == \
        ("register_filesystem", "-EBUSY", "a tail call ending vfat init")
    assert path.init_ret == -errno.EBUSY and path.ok
