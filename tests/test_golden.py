"""kemu's kernel log against the real Linux 6.1 kernel's, byte for byte.

Every step in tests/expected/ was run on the real Debian kernel
(tests/expected/README.md); here the same module with the same parameter
words runs under kemu and must print the same lines at the same levels and
fail with the same errno.
"""
from __future__ import annotations

import errno
import hashlib
import re

import pytest

from conftest import EXPECTED, TESTMODS, dmesg_lines
from kemu.errors import KemuError
from kemu.kernel.taint import module_flags_taint

# the plain load steps (issue 2); lifecycle steps have their own tests
LOAD_STEP = re.compile(r"^(hello-(default|set)|params-[^.]*|formats|initfail|positive|percpu|"
                       r"cpuloop-[^.]*|kcalls|missingsym|commonsym|nongpl|noexit|pinself)$")
STEPS = sorted(p.stem for p in EXPECTED.glob("*.dmesg")
               if LOAD_STEP.match(p.stem) and (EXPECTED / f"{p.stem}.status").exists())
# dump_stack() prints the real kernel's own call chain, PID and registers
NOT_REPRODUCIBLE = {"positive": re.compile(rb"^<4>(CPU: |Hardware name|Call Trace|RIP: 0033|"
                                             rb"Code: |RSP: |RAX: |RDX: |RBP: |R10: |R13: | )")}


def _recorded_sha256() -> dict:
    out = {}
    for line in (EXPECTED / "modules.sha256").read_text().splitlines():
        digest, _, name = line.partition("  ")
        out[name.strip().removeprefix("./")] = digest
    return out


_PS_OFFSETS = re.compile(rb"\+0x[0-9a-f]+/0x[0-9a-f]+")


def layout_dependent(step: str, testmods) -> bool:
    """True when the .ko differs from the one the goldens were recorded with.

    ``%pS`` prints offsets and sizes from the compiled code; a module built
    by another compiler or header release cannot reproduce them, while every
    other byte of the log must still match.
    """
    name = f"{module_of(step)}.ko"
    digest = hashlib.sha256((testmods / name).read_bytes()).hexdigest()
    return _recorded_sha256().get(name) != digest


def module_of(step: str) -> str:
    return step.split("-")[0]


def args_of(step: str) -> str:
    path = EXPECTED / f"{step}.args"
    if not path.exists():
        return ""
    words = path.read_text().splitlines()
    return " ".join(words) + " "          # busybox insmod's joining, trailing space included


def expected_errno(step: str) -> int:
    first = (EXPECTED / f"{step}.status").read_text().splitlines()[0]
    return int(first.removeprefix("exit="))


@pytest.mark.parametrize("step", STEPS)
def test_load_matches_real_kernel(step, testmods, tainted_kernel):
    k = tainted_kernel()
    err = 0
    try:
        k.load(str(testmods / f"{module_of(step)}.ko"), args_of(step))
    except KemuError as exc:
        err = exc.errno
    want = (EXPECTED / f"{step}.dmesg").read_bytes().splitlines()
    got = dmesg_lines(k)
    skip = NOT_REPRODUCIBLE.get(step)
    if skip:
        want = [line for line in want if not skip.match(line)]
        got = [line for line in got if not skip.match(line)]
    if layout_dependent(step, testmods):
        want = [_PS_OFFSETS.sub(b"+OFF/SIZE", line) for line in want]
        got = [_PS_OFFSETS.sub(b"+OFF/SIZE", line) for line in got]
    assert got == want
    assert err == expected_errno(step), errno.errorcode.get(err, err)


def test_first_load_taints_fresh_kernel(testmods):
    """A fresh kernel prints the one-time O and E taint lines before anything else."""
    from kemu import Kernel
    k = Kernel()
    k.load(str(testmods / "hello.ko"))
    first = (EXPECTED / "first-load-taint.dmesg").read_bytes().splitlines()
    assert dmesg_lines(k)[:2] == first


def test_fresh_nongpl_order(testmods):
    """Out-of-tree, license, lock debugging off, signature: the real kernel's order."""
    from kemu import Kernel
    k = Kernel()
    k.load(str(testmods / "nongpl.ko"))
    assert dmesg_lines(k) == (EXPECTED / "fresh-nongpl.dmesg").read_bytes().splitlines()
    assert module_flags_taint(k.modules["nongpl"]) == "POE"


@pytest.mark.parametrize("iters", [1, 1000, 100_000, 2_000_000])
def test_cpuloop_bit_exact_with_native(iters, testmods, tainted_kernel):
    """The same C loop, compiled natively and as a module, gives the same result."""
    import subprocess
    native = subprocess.run([str(testmods / "native" / "cpuloop_native"), str(iters)],
                            capture_output=True, text=True, check=True).stdout.strip()
    k = tainted_kernel()
    k.load(str(testmods / "cpuloop.ko"), f"iters={iters}")
    assert native.startswith("cpuloop: result=")
    assert k.log.lines()[-1] == native
