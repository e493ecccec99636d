"""The export fuzzer: every modelled function export called through its slot,
as module code calls it, with hostile arguments.

Each call enters the export's slot with ``Kernel.call`` from inside a loaded
module's entry (so the model sees a current module, as it would), the
arguments in the System V registers and on the stack. An argument is one of:
0, 1, -1, -EINVAL as a pointer, an unmapped, a misaligned and a non-canonical
kernel address, LIST_POISON1, an unmapped user address, a zeroed and an
all-ones mapped buffer (and their last byte), small, negative and huge
lengths. Which value each parameter gets is drawn from a generator seeded by
(seed, round, export), so a finding is replayed by its three numbers.

What kemu may answer: a return value, or one of its own reported kernel errors
(a fault report, a BUG, a lockup: any :class:`kemu.errors.KemuError`). Any
other Python exception is an *internal error*; a call still running after
``budget`` seconds of wall-clock time is a *hang*. Both are defects.

Run long::

    python3 tests/fuzz/export_fuzz.py --rounds 100 [--seed N] [--only NAME,...] [-v]

The CI form (tests/test_fuzz_exports.py) runs a fixed seed for a few rounds.
"""
from __future__ import annotations

import argparse
import errno
import os
import pathlib
import random
import resource
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kemu.errors import KemuError, ModelError  # noqa: E402

U64 = (1 << 64) - 1
CALLS_PER_KERNEL = 150          # a fresh kernel after this many calls (state stays small)
BUF_SIZE = 4096


class FuzzTimeout(BaseException):
    """Raised by the per-call alarm: the export did not return within its budget."""


@dataclass
class Finding:
    """One defect: an internal error or a hang."""
    kind: str              # "internal" or "hang"
    export: str
    round: int
    args: list
    error: str
    where: str = ""
    trace: str = ""            # the Python stack, for -v

    def line(self) -> str:
        args = ", ".join(f"{a:#x}" for a in self.args)
        return f"{self.kind}: {self.export}({args}) round {self.round}: {self.error} [{self.where}]"


@dataclass
class Result:
    """What a fuzzing run did and found."""
    calls: int = 0
    returned: int = 0
    reported: int = 0          # kemu's own kernel errors (oops, BUG, lockup)
    findings: list = field(default_factory=list)
    seconds: float = 0.0

    def kinds(self) -> dict:
        """Distinct defects: (kind, error type, where) -> exports."""
        out: dict = {}
        for f in self.findings:
            key = (f.kind, f.error.split(":")[0], f.where)
            out.setdefault(key, []).append(f.export)
        return out


_UNRAISABLE: list = []


def _on_unraisable(info) -> None:
    _UNRAISABLE.append(f"{type(info.exc_value).__name__}: {str(info.exc_value)[:160]}")


def _drain_unraisable() -> list:
    out = list(_UNRAISABLE)
    _UNRAISABLE.clear()
    return out


sys.unraisablehook = _on_unraisable     # Python swallows these (hook callbacks): count them


def _where(exc: BaseException) -> str:
    """The innermost frame of kemu's or the stubs' code the exception went through."""
    frames = traceback.extract_tb(exc.__traceback__)
    for fr in reversed(frames):
        if "/stubs/" in fr.filename or "/kemu/" in fr.filename:
            rel = fr.filename.split("/work/")[-1]
            return f"{rel.split('/', 1)[-1]}:{fr.lineno}"
    return ""


class Fuzzer:
    """Calls exports with hostile arguments in kernels that have ``module`` loaded."""

    def __init__(self, module: pathlib.Path, seed: int = 0, budget: float = 2.0,
                 verbose: bool = False):
        self.module, self.seed, self.budget, self.verbose = module, seed, budget, verbose
        self.armed = False            # a call's time budget is running (the alarm may fire)
        self.k = None
        self.calls_here = 0

    # -------------------------------------------------------------- kernel
    def _fresh_kernel(self) -> None:
        import gc
        from kemu import Kernel
        if self.k is not None:
            self.k.close()
        self.k = self.mod = None
        gc.collect()                  # an emulator holds ~1 GiB of address space
        k = self.k = Kernel(timeout_ms=int(self.budget * 500))   # its watchdog fires first
        self.mod = k.load(str(self.module))
        m, heap = k.machine, k.heap
        self.zeroed = heap.alloc(BUF_SIZE, zero=True)
        m.write(self.zeroed, bytes(BUF_SIZE))
        self.ones = heap.alloc(BUF_SIZE)
        m.write(self.ones, b"\xff" * BUF_SIZE)
        self.calls_here = 0

    def hostile_named(self) -> dict:
        """The values a parameter is drawn from, by name (buffers of this kernel)."""
        from kemu.machine.emulator import DIRECT_MAP_ADDR, VMALLOC_ADDR
        z, o = self.zeroed, self.ones
        return {
            "0": 0, "1": 1, "-1": U64, "-EINVAL": -errno.EINVAL & U64, "INT_MAX": 0x7FFFFFFF,
            "UINT_MAX": 0xFFFFFFFF, "2^31": 0x80000000, "2^62": 1 << 62,
            "LONG_MAX": (1 << 63) - 1, "2^40": 1 << 40, "64K": 0x10000, "64": 64,
            "unmapped-direct": DIRECT_MAP_ADDR + 0x7F00000,
            "unmapped-vmalloc": VMALLOC_ADDR + (1 << 39),
            "noncanon-high": 0x8000000000000000, "noncanon-low": 0x0000800000000000,
            "LIST_POISON1": 0xDEAD000000000100, "unmapped-user": 0x1000,
            "zeroed": z, "zeroed+1": z + 1, "zeroed-end": z + BUF_SIZE - 1,
            "ones": o, "ones+3": o + 3, "ones-end": o + BUF_SIZE - 1,
        }

    def hostile(self) -> list[int]:
        """The values a parameter is drawn from (addresses of this kernel's buffers)."""
        return list(self.hostile_named().values())

    def replay(self, name: str, arg_names: list[str]) -> Result:
        """One call of ``name`` with named hostile arguments, in a fresh kernel."""
        self.k = None
        self._fresh_kernel()
        table = self.hostile_named()
        result = Result()

        def alarm(signum, frame):
            if self.armed:            # a late signal of a call already over is ignored
                self.armed = False
                raise FuzzTimeout()
        old = signal.signal(signal.SIGALRM, alarm)
        try:
            self._call_with(name, -1, [table[a] for a in arg_names], result)
        finally:
            signal.signal(signal.SIGALRM, old)
        return result

    # ----------------------------------------------------------------- run
    def call(self, name: str, rnd: int, result: Result) -> None:
        """Call export ``name`` once with the arguments of round ``rnd``."""
        from kemu.abi.exports import REGISTRY
        if self.k is None or self.calls_here >= CALLS_PER_KERNEL or self.k.machine.running:
            self._fresh_kernel()
        k = self.k
        defn = REGISTRY[name]
        rng = random.Random(f"{self.seed}:{rnd}:{name}")
        values = self.hostile()
        try:
            nparams = len(defn.proto.params) if defn.convention is None else 2
        except Exception as exc:                     # noqa: BLE001 (a bad prototype)
            result.findings.append(Finding("internal", name, rnd, [], f"prototype: {exc}"))
            return
        args = [rng.choice(values) for _ in range(nparams + (3 if defn.proto.variadic else 0))]
        self._call_with(name, rnd, args, result)

    def _call_with(self, name: str, rnd: int, args: list, result: Result) -> None:
        from kemu.abi.exports import REGISTRY
        k, defn = self.k, REGISTRY[name]
        if defn.convention is not None:               # put_user/get_user: value/pointer in RAX, RCX
            k.machine.set_reg("rax", args[0])
            k.machine.set_reg("rcx", args[1])
        self.calls_here += 1
        result.calls += 1
        try:
            slot = k.export_addr(name)
        except Exception as exc:                     # noqa: BLE001
            result.findings.append(Finding("internal", name, rnd, args,
                                           f"{type(exc).__name__}: {exc}", _where(exc)))
            self.k = None
            return
        try:
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, self.budget)
            k.call(slot, *args, entry=f"fuzz:{name}", module=self.mod)
            result.returned += 1
        except ModelError as exc:                    # the slot's last line of defence caught it
            cause = exc.cause
            result.findings.append(Finding("internal", name, rnd, args,
                                           f"{type(cause).__name__}: {str(cause)[:200]}",
                                           _where(cause)))
            self.k = None
        except KemuError:
            result.reported += 1
        except FuzzTimeout as exc:
            result.findings.append(Finding("hang", name, rnd, args,
                                           f"no answer within {self.budget:g}s", _where(exc),
                                           "".join(traceback.format_tb(exc.__traceback__)[-12:])))
            self.k = None                              # its state is unknown
        except Exception as exc:                     # noqa: BLE001: what the fuzzer looks for
            result.findings.append(Finding("internal", name, rnd, args,
                                           f"{type(exc).__name__}: {str(exc)[:200]}",
                                           _where(exc)))
            self.k = None
        finally:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        for info in _drain_unraisable():           # an exception a ctypes callback dropped
            result.findings.append(Finding("internal", name, rnd, args, info, "unraisable"))
        if self.verbose and result.findings and result.findings[-1].export == name \
                and result.findings[-1].round == rnd:
            print(result.findings[-1].line(), flush=True)
            if result.findings[-1].trace:
                print(result.findings[-1].trace, flush=True)

    def run(self, rounds: int, names=None, first_round: int = 0) -> Result:
        """``rounds`` rounds over ``names`` (default: every function export)."""
        from kemu.abi.exports import REGISTRY, lookup
        from kemu.kernel.facade import import_stub_package
        import_stub_package("kemu.stubs")
        from kemu.module.elf import read_vermagic
        from kemu.target import find_target, release_of_vermagic
        release = release_of_vermagic(read_vermagic(pathlib.Path(self.module).read_bytes()))
        version = find_target(release).line.version    # the exports of the module's line
        names = sorted(names or [n for n, d in REGISTRY.items() if d.kind == "func"
                                 and lookup(n, version) is not None])
        result = Result()
        start = time.monotonic()

        def alarm(signum, frame):
            if self.armed:            # a late signal of a call already over is ignored
                self.armed = False
                raise FuzzTimeout()
        old = signal.signal(signal.SIGALRM, alarm)
        try:
            for rnd in range(first_round, first_round + rounds):
                order = list(names)
                random.Random(f"{self.seed}:{rnd}").shuffle(order)
                for name in order:
                    self.call(name, rnd, result)
        finally:
            signal.signal(signal.SIGALRM, old)
            if self.k is not None:
                self.k.close()
        result.seconds = time.monotonic() - start
        return result


def limit_memory(gib: float) -> None:
    """Cap this process's address space: a model sized by a hostile length fails fast."""
    cap = int(gib * (1 << 30))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--first-round", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=2.0, help="seconds per call")
    ap.add_argument("--only", default="", help="comma-separated export names")
    ap.add_argument("--module", default=str(ROOT / "testmods" / "hello.ko"))
    ap.add_argument("--mem-gib", type=float, default=6.0)
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args(argv)
    limit_memory(opts.mem_gib)
    fuzzer = Fuzzer(pathlib.Path(opts.module), opts.seed, opts.budget, opts.verbose)
    names = [n for n in opts.only.split(",") if n] or None
    res = fuzzer.run(opts.rounds, names, opts.first_round)
    for (kind, err, where), exports in sorted(res.kinds().items()):
        print(f"{kind:8} {err:28} {where:40} {len(exports):4}  {', '.join(sorted(set(exports))[:6])}")
    print(f"{res.calls} calls in {res.seconds:.1f}s: {res.returned} returned, "
          f"{res.reported} reported kernel errors, "
          f"{sum(f.kind == 'internal' for f in res.findings)} internal errors, "
          f"{sum(f.kind == 'hang' for f in res.findings)} hangs")
    return 1 if res.findings else 0


if __name__ == "__main__":
    sys.exit(main())
