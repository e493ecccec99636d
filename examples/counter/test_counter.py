"""Regression tests of counter.c, run under kemu: `pytest examples/counter`."""
import errno
import os

import pytest

from kemu import InitError, LoadError


@pytest.fixture
def counter_ko(kemu_build):
    # COUNTER_CFLAGS=-DCOUNTER_BROKEN builds the broken variant
    return kemu_build(["counter.c"], cflags=os.environ.get("COUNTER_CFLAGS", ""))


def test_init_logs_start(kernel, counter_ko):
    kernel.load(counter_ko, start=5)
    assert "counter: loaded, start=5" in kernel.dmesg


def test_add(kernel, counter_ko):
    mod = kernel.load(counter_ko, start=10)
    assert kernel.call_symbol(mod, "counter_add", 5) == 15
    assert kernel.call_symbol(mod, "counter_add", -20) == 2**64 - 5      # RAX as u64


def test_exit_logs_and_frees(kernel, counter_ko):
    mod = kernel.load(counter_ko, start=1)
    kernel.call_symbol(mod, "counter_add", 2)
    kernel.unload(mod)
    assert kernel.dmesg[-1] == "counter: unloading at 3"
    assert not [a for a in kernel.heap.live.values() if a.owner == "counter"]


def test_negative_start_fails_init(kernel, counter_ko):
    with pytest.raises(InitError) as failed:
        kernel.load(counter_ko, start=-1)
    assert failed.value.errno == errno.EINVAL
    assert "counter: start must not be negative (-1)" in kernel.dmesg
    assert "counter" not in kernel.modules


def test_bad_parameter(kernel, counter_ko):
    with pytest.raises(LoadError) as bad:
        kernel.load(counter_ko, start="many")
    assert bad.value.errno == errno.EINVAL
    assert "counter: `many' invalid for parameter `start'" in kernel.dmesg


@pytest.mark.parametrize("start", [0, 1, 41, 2**31 - 1])
def test_start_values(kernel, counter_ko, start):
    kernel.load(counter_ko, start=start)
    assert f"counter: loaded, start={start}" in kernel.dmesg
