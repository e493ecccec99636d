"""String and memory functions that run as machine code inside the emulator
(``native=`` in kemu/stubs/lib/string.py) against their Python models, which stay
their definition: the same return value and the same memory afterwards, on
random and edge-case inputs, through the same export address a module links to."""
from __future__ import annotations

import random

import pytest

from conftest import TESTMODS, module_release
from kemu import Kernel
from kemu.abi.exports import REGISTRY, LINE_VARIANTS, lookup
from kemu.errors import MemoryFault
from kemu.kernel.facade import import_stub_package
from kemu.target import find_target

import_stub_package()
# the native functions of the line the test modules were built for
VERSION = find_target(module_release(TESTMODS / "hello.ko")).line.version
NATIVES = sorted(n for n in set(REGISTRY) | set(LINE_VARIANTS)
                 if (d := lookup(n, VERSION)) is not None and d.kind == "func" and d.native)
BUF = 512


@pytest.fixture(scope="module")
def k():
    k = Kernel()
    k.load(str(TESTMODS / "hello.ko"))
    return k


def _buffers(k, rng):
    a, b = k.heap.alloc(BUF, zero=True), k.heap.alloc(BUF, zero=True)
    alphabet = b"ab\0" if rng.random() < 0.5 else bytes(range(256))
    for addr in (a, b):
        k.machine.write(addr, bytes(rng.choice(alphabet) for _ in range(BUF - 1)) + b"\0")
    if rng.random() < 0.3:                        # equal prefixes, so comparisons go deep
        k.machine.write(b, k.machine.read(a, rng.randrange(BUF)))
    return a, b


def _args(name, rng, a, b):
    n = rng.choice([0, 1, 2, 7, 8, 9, 63, 64, 100, BUF // 2])
    c = rng.choice([0, ord("a"), ord("b"), 0x1FF, -1 & 0xFFFFFFFF])
    proto = lookup(name, VERSION).proto
    out = []
    for p in proto.params:
        pname = p.name
        if pname in ("dest", "s", "cs", "a", "s1", "start", "addr"):
            out.append(a)
        elif pname in ("src", "ct", "b", "s2"):
            out.append(b + rng.randrange(4) if name.startswith("mem") and name != "memmove"
                       else b)
        elif pname == "c":
            out.append(c)
        else:
            out.append(n)
    if name in ("memmove", "__memmove") and rng.random() < 0.7:   # overlapping, both ways
        shift = rng.randrange(-16, 17)
        out[1] = a + shift if shift >= 0 else a
        out[0] = a if shift >= 0 else a - shift
    if name in ("strcat",):
        k_trim = rng.randrange(BUF // 4)          # room for the source at the end
        out.append(("trim", k_trim))
    return out


def _run(k, addr, args, a, b):
    snap = {x: k.machine.read(x, BUF) for x in (a, b)}
    trims = [x for x in args if isinstance(x, tuple)]
    args = [x for x in args if not isinstance(x, tuple)]
    for _, t in trims:                            # strcat: a short destination string
        k.machine.write(a + t, b"\0")
        k.machine.write(b + BUF // 2, b"\0")
    ret = k.call(addr, *args)
    after = {x: k.machine.read(x, BUF) for x in (a, b)}
    for x, data in snap.items():                  # put the buffers back for the other run
        k.machine.write(x, data)
    return ret, after


@pytest.mark.parametrize("name", NATIVES)
def test_native_function_is_its_model(k, name):
    native = k.export_addr(name)
    assert k.machine.native_at(native)[0] == name
    model = k.machine.natives[name].model
    rng = random.Random(name)
    width = 32 if lookup(name, VERSION).proto.ret.size == 4 else 64
    for _ in range(150):
        a, b = _buffers(k, rng)
        args = _args(name, rng, a, b)
        got, mem_got = _run(k, native, args, a, b)
        want, mem_want = _run(k, model, args, a, b)
        mask = (1 << width) - 1
        assert (got & mask, mem_got) == (want & mask, mem_want), (name, args)
        k.heap.free(a)
        k.heap.free(b)


def test_the_module_links_to_machine_code_and_the_tracer_sees_the_calls(tmp_path):
    """kcalls.ko's strscpy and (fortified) strnlen run as machine code: no Python
    call; with the tracer on, every call goes through the model and is traced."""
    k = Kernel()
    k.load(str(TESTMODS / "kcalls.ko"), "n=100")
    slots = {n: fn for n, fn in zip(k.machine.slot_names, k.machine.slot_fns)}
    assert {"memcpy", "memset", "strlen", "strscpy", "strcmp"} <= set(NATIVES)
    assert slots["strscpy"].calls == slots["strnlen"].calls == 0
    assert slots["kmalloc_trace"].calls == slots["kfree"].calls == 100
    assert k.log.lines()[-1] == "kcalls: n=100 total=3600"
    t = Kernel()
    t.tracer.start()
    t.load(str(TESTMODS / "kcalls.ko"), "n=100")
    traced = [call["fn"] for call in t.trace]
    assert traced.count("strscpy") == traced.count("strnlen") == 100
    assert t.log.lines()[-1] == "kcalls: n=100 total=3600"


def test_a_fault_in_machine_code_is_reported_in_the_function():
    k = Kernel()
    k.load(str(TESTMODS / "hello.ko"))
    with pytest.raises(MemoryFault):
        k.call(k.export_addr("strlen"), 0)
    text = "\n".join(k.log.lines())
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000000" in text
    assert "RIP: 0010:strlen+0x" in text
