"""Subsystems on a machine without the hardware (issue 16).

testmods/kemu_subsys.ko books an ISA DMA channel, allocates IRQ
descriptors, asks for GPIOs that no chip provides, allocates, registers and
unregisters an Ethernet device and registers a class interface: its whole
log must be the one the real Debian 6.1 kernel printed for it
(tests/expected/subsys/, from the oracle). What it leaves registered is
reported. Debian's own modules that gate whole families (snd and snd-pcm
for sound/, industrialio for iio/, mc for media/, comedi, pcmcia) load,
initialise and unload strict with nothing left behind.
"""
from __future__ import annotations

import re

import pytest

from conftest import EXPECTED, text_digest
from kemu import Kernel
from kemu.survey import shared_tree, survey_modules, tree_root

GOLDEN = EXPECTED / "subsys"


def _text_lines(k) -> list[str]:
    k.log.flush()
    return [r.text for r in k.log.records if r.facility == 0]


def test_kemu_subsys_log_is_the_real_kernels(testmods):
    """Every line, in order, of init and exit as Linux 6.1 printed them."""
    ko = testmods / "kemu_subsys.ko"
    recorded = dict(line.split("  ")[::-1] for line in
                    (GOLDEN / "modules.text-sha256").read_text().splitlines())
    assert text_digest(ko) == recorded["kemu_subsys.ko"], \
        "testmods/kemu_subsys.ko's code is not the code the golden was recorded with"
    k = Kernel()
    k.load(str(ko))
    k.unload("kemu_subsys")
    assert _text_lines(k) == (GOLDEN / "kemu_subsys.dmesg").read_text().splitlines()
    assert k.findings == []
    assert k.registrations == {}


def test_net_device_and_channel_left_registered_are_reported(testmods):
    k = Kernel()
    mod = k.load(str(testmods / "kemu_subsys.ko"), "leave=1")
    from kemu.stubs.net.core.netdevice import net_devices
    assert net_devices(k) == [("eth0", 2, "kemu_subsys")]
    assert k.proc_read("/proc/dma") == b" 3: kemu_subsys\n 4: cascade\n"
    net_dev = k.proc_read("/proc/net/dev").decode().splitlines()
    assert [line.split(":")[0].strip() for line in net_dev[2:]] == ["lo", "eth0"]
    assert net_dev[3] == "  eth0:" + " %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d" \
        % ((0,) * 16)
    from kemu.stubs.kernel.dma.isa import proc_dma
    k.unload(mod.name)
    left = sorted(f["message"] for f in k.findings)
    assert "kemu_subsys left net device eth0 registered after its exit" in left, left
    assert proc_dma(k) == " 4: cascade\n"           # exit freed channel 3 either way
    assert not [r for r in k.registrations.values() if r.kind == "isa dma"]


def test_irq_descriptors_are_allocated_past_the_ioapic_and_freed(testmods):
    k = Kernel()
    k.load(str(testmods / "kemu_subsys.ko"))
    from kemu.stubs.kernel.irq.manage import Irqs
    descs = sorted(k.model(Irqs).descs)
    assert descs == list(range(16)) + [24, 25, 26, 27]
    assert [r.what for r in k.registered("irq desc")] == \
        [f"irq descriptor {i}" for i in (24, 25, 26, 27)]
    k.unload("kemu_subsys")
    assert sorted(k.model(Irqs).descs) == list(range(16))


@pytest.fixture(scope="module")
def tree(debian_modules):
    return shared_tree(tree_root(str(debian_modules)))


@pytest.mark.parametrize("name", ["snd", "snd_pcm", "snd_timer", "snd_seq", "industrialio",
                                  "mc", "comedi", "pcmcia", "pcmcia_core"])
def test_gate_modules_are_clean(tree, name):
    """modprobe (dependencies first), init, exit: no findings, nothing left registered."""
    [r] = survey_modules(tree, [name])
    assert (r.outcome, r.findings) == ("ok", []), f"{r.detail} {r.missing[:8]}"


def test_library_calls_print_what_the_real_kernel_printed():
    """bitmap_cut, xa_store_range, gcd, the ethtool link-mode conversions, __get_task_comm,
    byte_rev_table, pgprot_writecombine (PAT), ip_compute_csum, crypto_has_skcipher,
    flush_signals and input_ff_create: the log of tests/expected/subsys/lib16.c's init is
    the oracle's (but the input device's number, which depends on the machine)."""
    from kemu.testing import build_module
    k = Kernel()
    k.unload(k.load(build_module({"lib16.c": (GOLDEN / "lib16.c").read_text()})))
    number = re.compile(r"^input input\d+: ")
    got = [number.sub("input inputN: ", line) for line in _text_lines(k)]
    want = [number.sub("input inputN: ", line)
            for line in (GOLDEN / "lib16.dmesg").read_text().splitlines()]
    assert got == want
    assert k.findings == [] and k.registrations == {}
