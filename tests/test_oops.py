"""Reports for module code that goes wrong: oops, BUG, WARN, soft lockup."""
from __future__ import annotations

import pathlib
import re

import pytest

from conftest import EXPECTED, TESTMODS
from kemu import Kernel
from kemu.errors import KernelBug, Lockup, MemoryFault


def line_of(source: str, needle: str) -> int:
    """1-based line number of the first line of testmods/<source> containing needle."""
    for number, text in enumerate((TESTMODS / source).read_text().splitlines(), 1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {source}")


@pytest.mark.kemu_findings
def test_null_deref_in_helper(kernel, testmods):
    k = kernel
    with pytest.raises(MemoryFault) as info:
        k.load(str(testmods / "oops.ko"))
    report = info.value.report
    log = k.log.lines()
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000008" in log
    assert "#PF: supervisor write access in kernel mode" in log
    assert "#PF: error_code(0x0002) - not-present page" in log
    assert "Oops: 0002 [#1] PREEMPT SMP NOPTI" in log
    assert any(re.fullmatch(r"RIP: 0010:oops_helper\+0x[0-9a-f]+/0x[0-9a-f]+ \[oops\]", l)
               for l in log)
    store = line_of("oops.c", "thing->second = 42;")
    call = line_of("oops.c", "oops_helper(NULL);")
    assert any(l.startswith(" kemu: fault at oops_helper+") and l.endswith(f"(oops.c:{store})")
               for l in report)
    assert any(l.startswith(" oopsmod_init+") and l.endswith(f"[oops] (oops.c:{call})")
               for l in report)
    assert "Modules linked in: oops(OE+)" in log
    assert any("<-- trapping instruction" in l and "movq" in l for l in report)
    assert "D" in k.taints and "oops" not in k.modules


def test_orc_constants_match_installed_headers():
    """kemu/machine/unwind.py's ORC register numbers are those of orc_types.h."""
    from conftest import TESTMODS, module_release
    from kemu.machine import unwind
    from kemu.target import headers_for
    from kemu.target.gen import find_header
    kdir = headers_for(module_release(TESTMODS / "hello.ko"))
    assert kdir is not None, "the headers of testmods/ are needed (tests/run.sh installs them)"
    text = find_header(kdir, "arch/x86/include/asm/orc_types.h").read_text()
    for name, value in re.findall(r"#define (ORC_(?:REG|TYPE)_\w+)\s+(\d+)", text):
        if hasattr(unwind, name):
            assert getattr(unwind, name) == int(value), name


def _normalise(lines, testmods):
    out = []
    for line in lines:
        line = line.replace(str(testmods), "DIR").replace("/tmp/wb", "DIR")
        out.append(re.sub(r"PID: \d+", "PID: N", line))
    return out


# lines of a WARN/BUG report that do not depend on the machine the kernel runs on
_STABLE = re.compile(r"^(------------\[ cut here|WARNING: |kernel BUG at|invalid opcode|"
                     r"Modules linked in|RIP: 0010:|---\[ end trace|warnbug: )")


def test_warn_matches_real_kernel(testmods):
    oracle = (EXPECTED / "warnbug.oracle.txt").read_text().splitlines()
    want = _normalise([l for l in oracle[:oracle.index("ORACLE: bug")] if _STABLE.match(l)],
                      testmods)
    k = Kernel()                      # the oracle's kernel was fresh too
    mod = k.load(str(testmods / "warnbug.ko"), "mode=warn")
    k.unload("warnbug")
    got = _normalise([l for l in k.log.lines() if _STABLE.match(l)], testmods)
    assert got == want
    assert mod.init_ret == 0 and "W" in k.taints
    assert [f["kind"] for f in k.findings].count("warning") == 3     # WARN_ON twice, WARN_ONCE once


def test_bug_ends_init(testmods):
    oracle = (EXPECTED / "warnbug.oracle.txt").read_text().splitlines()
    bug = oracle[oracle.index("ORACLE: bug"):]
    want = [l for l in bug if _STABLE.match(l) and not l.startswith("Modules linked in")]
    k = Kernel()
    k.taints.update("OE")
    k.sig_warned = True
    with pytest.raises(KernelBug):
        k.load(str(testmods / "warnbug.ko"), "mode=bug")
    got = [l for l in k.log.lines() if _STABLE.match(l) and not l.startswith("Modules linked in")]
    assert _normalise(got, testmods) == _normalise(want, testmods)
    assert "warnbug: survived BUG" not in k.log.lines()
    assert "warnbug" not in k.modules and "D" in k.taints


def test_soft_lockup_names_where_it_spins(testmods):
    k = Kernel(timeout_ms=300)
    with pytest.raises(Lockup):
        k.load(str(testmods / "spin.ko"))
    log = k.log.lines()
    assert any(l.startswith("watchdog: BUG: soft lockup - CPU#0 stuck for 0.3s!") for l in log)
    assert any(re.match(r"RIP: 0010:spin\w*\+0x[0-9a-f]+/0x[0-9a-f]+ \[spin\]", l) for l in log)
    assert "L" in k.taints and "spin" not in k.modules


def test_clean_module_has_no_findings(kernel, testmods):
    """Through kemu's own pytest plugin: a finding would fail this test."""
    kernel.load(str(testmods / "hello.ko"))
    kernel.unload("hello")
    assert not any(l.startswith(("BUG", "WARNING", "Oops")) for l in kernel.dmesg)


def test_instruction_budget(testmods):
    k = Kernel()
    k.max_insns = 100_000
    with pytest.raises(Lockup, match="instruction budget of 100000 exhausted"):
        k.load(str(testmods / "spin.ko"))
    assert any(re.match(r"RIP: 0010:spin\w*\+0x[0-9a-f]+/0x[0-9a-f]+ \[spin\]", l) for l in k.dmesg)
    assert "spin" not in k.modules


def test_call_into_unloaded_module_is_named(testmods):
    k = Kernel()
    mod = k.load(str(testmods / "hello.ko"))
    stale = mod.symbol_addr("hello_exit")
    k.unload(mod)
    with pytest.raises(MemoryFault, match=r"in unloaded module hello \(hello_exit\+0x0/"):
        k.call(stale, entry="stale callback")
    assert any("is in unloaded module hello (hello_exit+0x0/" in l for l in k.dmesg)
    assert "#PF: supervisor instruction fetch in kernel mode" in k.dmesg


@pytest.mark.kemu_findings
def test_stack_protector(kernel, testmods):
    with pytest.raises(KernelBug, match=r"stack-protector: Kernel stack is corrupted in: "
                                        r"canary_smash\+0x[0-9a-f]+/0x[0-9a-f]+ \[canary\]"):
        kernel.load(testmods / "canary.ko", mode="canary")
    assert "canary" not in kernel.modules and "D" in kernel.taints


@pytest.mark.kemu_findings
def test_fortify_source(kernel, testmods):
    with pytest.raises(KernelBug, match="detected buffer overflow in memset"):
        kernel.load(testmods / "canary.ko", mode="fortify")
    assert "detected buffer overflow in memset" in kernel.dmesg


def test_stack_buffer_used_correctly(kernel, testmods):
    kernel.load(testmods / "canary.ko")
    assert "canary: 65" in kernel.dmesg
