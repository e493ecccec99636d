"""Modules that misbehave at run time: weak references, lockups, oopses.

testmods/weakref.c, spin.c and oops.c. A module whose code does not return
or faults must leave the kernel usable: the module is gone and the next load
works.
"""
from __future__ import annotations

import re
import time

import pytest

from kemu import Kernel
from kemu.errors import EmulationError, Lockup, MemoryFault


def test_unresolved_weak_symbol_is_null(testmods):
    k = Kernel()
    mod = k.load(str(testmods / "weakref.ko"))
    k.log.flush()
    assert "weakref: missing=1" in k.log.lines()
    assert mod.state.name == "LIVE"
    assert not any("Unknown symbol" in line for line in k.log.lines())


def test_weak_symbol_that_exists_is_linked(testmods):
    """The same module against a kernel that does export the symbol sees it non-NULL."""
    k = Kernel(allow_missing=True)          # the stub makes kemu_weak_missing exist
    k.load(str(testmods / "weakref.ko"))
    k.log.flush()
    assert "weakref: missing=0" in k.log.lines()


def test_spin_forever_is_a_lockup_and_the_kernel_survives(testmods):
    k = Kernel(timeout_ms=500)
    start = time.monotonic()
    with pytest.raises(Lockup) as info:
        k.load(str(testmods / "spin.ko"))
    elapsed = time.monotonic() - start
    assert 0.4 < elapsed < 5
    assert "soft lockup" in str(info.value) and "\n" not in str(info.value)
    assert k.modules == {}
    k.log.flush()
    assert "spin: spinning" in k.log.lines()
    assert "spin: done" not in k.log.lines()
    # the report names where the CPU was stuck: in spin's init
    assert any(re.fullmatch(r"RIP: 0010:spin_init\+0x[0-9a-f]+/0x[0-9a-f]+ \[spin\]", line)
               for line in k.log.lines())
    # the same kernel keeps working
    mod = k.load(str(testmods / "hello.ko"))
    assert mod.state.name == "LIVE"
    k.log.flush()
    assert "hello: hello, world (count=1)" in k.log.lines()
    assert list(k.modules) == ["hello"]


def test_spin_with_the_parameter_cleared_returns(testmods):
    k = Kernel(timeout_ms=2000)
    mod = k.load(str(testmods / "spin.ko"), "spin_forever=0")
    k.log.flush()
    assert "spin: done" in k.log.lines() and mod.state.name == "LIVE"


def test_spin_can_be_loaded_again_after_the_lockup(testmods):
    k = Kernel(timeout_ms=300)
    with pytest.raises(Lockup):
        k.load(str(testmods / "spin.ko"))
    mod = k.load(str(testmods / "spin.ko"), "spin_forever=N")
    assert mod.state.name == "LIVE"


def test_null_pointer_write_oopses(testmods):
    k = Kernel()
    with pytest.raises(MemoryFault) as info:
        k.load(str(testmods / "oops.ko"))
    exc = info.value
    assert isinstance(exc, EmulationError)
    assert exc.addr == 8 and exc.access == "write"
    assert exc.report[0] == "BUG: kernel NULL pointer dereference, address: 0000000000000008"
    assert "#PF: supervisor write access in kernel mode" in exc.report
    assert any(re.fullmatch(r"RIP: 0010:oops_helper\+0x[0-9a-f]+/0x[0-9a-f]+ \[oops\]", line)
               for line in exc.report), exc.report
    # the report is in the kernel log too, after init's own line, and taints D
    k.log.flush()
    lines = k.log.lines()
    assert lines.index("oops: crash=1") < lines.index(exc.report[0])
    assert "oops: still alive" not in lines
    assert (1, exc.report[0]) in [(r.level, r.text) for r in k.log.records]
    assert "D" in k.taints
    assert k.modules == {}
    # and the kernel keeps working
    k.load(str(testmods / "hello.ko"))
    assert list(k.modules) == ["hello"]


def test_oops_parameter_off_loads(testmods):
    k = Kernel()
    mod = k.load(str(testmods / "oops.ko"), "crash=0")
    k.log.flush()
    assert k.log.lines()[-2:] == ["oops: crash=0", "oops: still alive"]
    assert mod.state.name == "LIVE" and "D" not in k.taints

