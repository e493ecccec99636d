"""The loader fuzzer: real modules, mutated, loaded, run and unloaded.

Each case takes one seed module (testmods/ and a set of Debian's real modules
that load alone) and applies one to four mutations drawn from a generator
seeded by (seed, case): a byte of the ELF header; a field of a section
header; a field of a symbol; a field of a relocation; a byte of .modinfo; a
byte of an allocated section (code or data, so the module runs changed
code); a byte anywhere. The mutated image is loaded into a kemu kernel
(``Kernel.load(data=...)``), its init runs, and, if it loaded, it is unloaded.

What kemu may answer: success, or its own reported errors (load refused
with the kernel's errno and message, an oops, a BUG, a lockup: any
:class:`kemu.errors.KemuError`). Any other Python exception (including a
:class:`kemu.errors.ModelError`, a model failing in Python) is an *internal
error*; a case still running after ``budget`` seconds is a *hang*.

A finding is replayed by its module, seed and case number; recipes of the
crashes found so far are kept in ``tests/fuzz/regressions.json`` and replayed
by tests/test_hostile.py. Run long::

    python3 tests/fuzz/module_fuzz.py --cases 100000 [--seed N] [-v]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import pathlib
import random
import signal
import struct
import sys
import time
import traceback
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kemu.errors import KemuError, ModelError  # noqa: E402

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM, RELA = struct.Struct("<IBBHQQ"), struct.Struct("<QQq")
SHT_SYMTAB, SHT_RELA = 2, 4
SHF_ALLOC = 0x2
CASES_PER_KERNEL = 40
INTERESTING = (0, 1, 2, 7, 8, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
               (1 << 63) - 1, 1 << 63, (1 << 64) - 1, (1 << 64) - 8, 0x1000, 0x10000)
# Debian modules that load alone (no dependency on other modules)
DEBIAN_SEEDS = ("lib/crc7.ko", "lib/crc8.ko", "lib/crc-itu-t.ko", "lib/math/cordic.ko",
                "lib/crc64.ko", "lib/ts_kmp.ko", "lib/crypto/libarc4.ko", "lib/bch.ko",
                "lib/lru_cache.ko", "crypto/crypto_null.ko", "crypto/md4.ko", "fs/nls/nls_cp437.ko")


class FuzzTimeout(BaseException):
    """Raised by the per-case alarm."""


@dataclass
class Finding:
    kind: str            # "internal" or "hang"
    module: str
    seed: int
    case: int
    error: str
    where: str = ""

    def line(self) -> str:
        return f"{self.kind}: {self.module} seed {self.seed} case {self.case}: {self.error} [{self.where}]"


@dataclass
class Result:
    cases: int = 0
    loaded: int = 0
    refused: int = 0           # LoadError and the like
    reported: int = 0          # oops/BUG/lockup during init or exit
    findings: list = field(default_factory=list)
    seconds: float = 0.0


def _sections(data: bytes):
    """(index, header dict) of each section, read with struct (not kemu's parser)."""
    try:
        e = EHDR.unpack_from(data)
    except struct.error:
        return []
    shoff, shnum = e[6], e[12]
    out = []
    for i in range(min(shnum, 4096)):
        off = shoff + i * SHDR.size
        if off + SHDR.size > len(data):
            break
        sh = SHDR.unpack_from(data, off)
        out.append((i, off, sh))
    return out


def _u(rng: random.Random, bits: int) -> int:
    v = rng.choice(INTERESTING) if rng.random() < 0.6 else rng.getrandbits(bits)
    return v & ((1 << bits) - 1)


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """One to four mutations of ``data``; returns the image and what was done."""
    buf = bytearray(data)
    done = []
    secs = _sections(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(("ehdr", "shdr", "sym", "rela", "modinfo", "alloc", "any"))
        if kind == "ehdr":
            i = rng.randrange(EHDR.size)
            buf[i] = _u(rng, 8)
        elif kind == "shdr" and secs:
            idx, off, sh = rng.choice(secs)
            fieldno = rng.randrange(10)
            fmt = SHDR.format[1:][fieldno]
            pos = off + struct.calcsize("<" + SHDR.format[1:][:fieldno])
            struct.pack_into("<" + fmt, buf, pos, _u(rng, 8 * struct.calcsize(fmt)))
            i = f"{idx}.{fieldno}"
        elif kind in ("sym", "rela"):
            want = SHT_SYMTAB if kind == "sym" else SHT_RELA
            cands = [(off, sh) for _, off, sh in secs if sh[1] == want and sh[5]]
            if not cands:
                continue
            _, sh = rng.choice(cands)
            ent = SYM if kind == "sym" else RELA
            n = sh[5] // ent.size
            if not n or sh[4] + sh[5] > len(buf):
                continue
            base = sh[4] + rng.randrange(n) * ent.size
            fieldno = rng.randrange(len(ent.format) - 1)
            fmt = ent.format[1:][fieldno]
            pos = base + struct.calcsize("<" + ent.format[1:][:fieldno])
            struct.pack_into("<" + fmt.lower() if fmt == "q" else "<" + fmt, buf, pos,
                             _u(rng, 8 * struct.calcsize(fmt)) if fmt != "q" else
                             _u(rng, 64) - (1 << 63))
            i = pos
        elif kind in ("modinfo", "alloc"):
            cands = []
            names = None
            shstr = None
            try:
                e = EHDR.unpack_from(data)
                shstr = secs[e[13]][2] if e[13] < len(secs) else None
            except (struct.error, IndexError):
                pass
            for _, off, sh in secs:
                if not (sh[5] and sh[4] + sh[5] <= len(buf) and sh[1] != 8):
                    continue
                if kind == "alloc" and sh[2] & SHF_ALLOC:
                    cands.append(sh)
                elif kind == "modinfo" and shstr is not None:
                    names = data[shstr[4]:shstr[4] + shstr[5]]
                    if names[sh[0]:sh[0] + 9] == b".modinfo\0":
                        cands.append(sh)
            if not cands:
                continue
            sh = rng.choice(cands)
            i = sh[4] + rng.randrange(sh[5])
            buf[i] = rng.choice((0, ord("="), ord(" "), 0xFF, rng.getrandbits(8)))
        else:
            i = rng.randrange(len(buf))
            buf[i] = rng.getrandbits(8)
        done.append(f"{kind}@{i}")
    return bytes(buf), done


_UNRAISABLE: list = []


def _on_unraisable(info) -> None:
    _UNRAISABLE.append(f"{type(info.exc_value).__name__}: {str(info.exc_value)[:160]}")


def _drain_unraisable() -> list:
    out = list(_UNRAISABLE)
    _UNRAISABLE.clear()
    return out


sys.unraisablehook = _on_unraisable     # Python swallows these (hook callbacks): count them


def _where(exc: BaseException) -> str:
    for fr in reversed(traceback.extract_tb(exc.__traceback__)):
        if "/stubs/" in fr.filename or "/kemu/" in fr.filename:
            rel = fr.filename.split("/work/")[-1]
            return f"{rel.split('/', 1)[-1]}:{fr.lineno}"
    return ""


def seed_modules(debian: str | None = None) -> list[pathlib.Path]:
    """The modules cases are made from: testmods/*.ko, and Debian's if available."""
    mods = sorted((ROOT / "testmods").glob("*.ko"))
    debian = debian or os.environ.get("KEMU_DEBIAN_MODULES")
    if debian:
        mods += [pathlib.Path(debian) / rel for rel in DEBIAN_SEEDS
                 if (pathlib.Path(debian) / rel).exists()]
    return mods


class Fuzzer:
    def __init__(self, modules, seed: int = 0, budget: float = 5.0, verbose: bool = False):
        self.modules = [pathlib.Path(m) for m in modules]
        self.images = {m: m.read_bytes() for m in self.modules}
        self.seed, self.budget, self.verbose = seed, budget, verbose
        self.armed = False            # a case's time budget is running (the alarm may fire)
        self.k = None
        self.used = 0

    def _kernel(self):
        from kemu import Kernel
        if self.k is None or self.used >= CASES_PER_KERNEL:
            if self.k is not None:
                self.k.close()
            self.k = None
            gc.collect()
            self.k = Kernel(timeout_ms=int(self.budget * 300), modules=False)
            self.used = 0
        self.used += 1
        return self.k

    def case_input(self, case: int) -> tuple[pathlib.Path, bytes, list[str]]:
        """The module and mutated image of case ``case`` (deterministic)."""
        rng = random.Random(f"{self.seed}:{case}")
        mod = self.modules[rng.randrange(len(self.modules))]
        data, recipe = mutate(self.images[mod], rng)
        return mod, data, recipe

    def run_case(self, case: int, result: Result) -> None:
        mod, data, recipe = self.case_input(case)
        k = self._kernel()
        result.cases += 1
        name = mod.name
        try:
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, self.budget)
            try:
                loaded = k.load(str(mod), data=data)
            except KemuError as exc:
                from kemu.errors import LoadError
                if isinstance(exc, ModelError):
                    raise
                if isinstance(exc, LoadError):
                    result.refused += 1
                else:
                    result.reported += 1
                    self.k = None          # an oops during init: start afresh
                return
            result.loaded += 1
            try:
                k.unload(loaded)
            except ModelError:
                raise
            except KemuError:
                result.reported += 1
                self.k = None
        except FuzzTimeout as exc:
            result.findings.append(Finding("hang", name, self.seed, case,
                                           f"no answer within {self.budget:g}s {recipe}",
                                           _where(exc)))
            self.k = None
        except ModelError as exc:
            result.findings.append(Finding("internal", name, self.seed, case,
                                           f"{type(exc.cause).__name__}: {str(exc.cause)[:160]} "
                                           f"{recipe}", _where(exc.cause)))
            self.k = None
        except Exception as exc:                     # noqa: BLE001: what the fuzzer looks for
            result.findings.append(Finding("internal", name, self.seed, case,
                                           f"{type(exc).__name__}: {str(exc)[:160]} {recipe}",
                                           _where(exc)))
            self.k = None
        finally:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        for unraisable in _drain_unraisable():     # an exception a ctypes callback dropped
            result.findings.append(Finding("internal", name, self.seed, case,
                                           f"{unraisable} {recipe}", "unraisable"))
        if self.verbose and result.findings and result.findings[-1].case == case:
            print(result.findings[-1].line(), flush=True)

    def run(self, cases: int, first: int = 0, only=None) -> Result:
        result = Result()
        start = time.monotonic()

        def alarm(signum, frame):
            if self.armed:            # a late signal of a call already over is ignored
                self.armed = False
                raise FuzzTimeout()
        old = signal.signal(signal.SIGALRM, alarm)
        try:
            for case in (only if only is not None else range(first, first + cases)):
                self.run_case(case, result)
        finally:
            signal.signal(signal.SIGALRM, old)
            if self.k is not None:
                self.k.close()
        result.seconds = time.monotonic() - start
        return result


def run_forked(fuzzer: Fuzzer, cases: int, first: int = 0, chunk: int = 200) -> Result:
    """``fuzzer.run`` in forked children of ``chunk`` cases each: a case that
    kills the process (a signal) is a *crash* finding naming the run of cases
    that led to it (replayable as a tests/fuzz/regressions.json entry)."""
    total = Result()
    start_time = time.monotonic()
    for start in range(first, first + cases, chunk):
        n = min(chunk, first + cases - start)
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:                                   # the child
            os.close(rfd)
            try:
                res = fuzzer.run(n, start)
                out = {"counts": [res.cases, res.loaded, res.refused, res.reported],
                       "findings": [f.__dict__ for f in res.findings]}
                os.write(wfd, json.dumps(out).encode())
            finally:
                os._exit(0)
        os.close(wfd)
        chunks = []
        while True:
            block = os.read(rfd, 1 << 16)
            if not block:
                break
            chunks.append(block)
        os.close(rfd)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) or not chunks:
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
            total.findings.append(Finding("crash", "?", fuzzer.seed, start,
                                          f"process killed (signal {sig}) in cases "
                                          f"{start}..{start + n - 1}", "replay: first/cases"))
            total.cases += n
            continue
        out = json.loads(b"".join(chunks))
        c, lo, rf, rp = out["counts"]
        total.cases += c
        total.loaded += lo
        total.refused += rf
        total.reported += rp
        total.findings += [Finding(**f) for f in out["findings"]]
        if fuzzer.verbose:
            for f in total.findings[-len(out["findings"]):] if out["findings"] else []:
                print(f.line(), flush=True)
    total.seconds = time.monotonic() - start_time
    return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=5.0, help="seconds per case")
    ap.add_argument("--debian", default=None, help="Debian module tree (default $KEMU_DEBIAN_MODULES)")
    ap.add_argument("--mem-gib", type=float, default=6.0)
    ap.add_argument("--record", default="", help="append findings' recipes to this JSON file")
    ap.add_argument("--fork", type=int, default=0, metavar="N",
                    help="run N cases per forked child (a crash then ends only its child)")
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args(argv)
    from export_fuzz import limit_memory
    limit_memory(opts.mem_gib)
    fuzzer = Fuzzer(seed_modules(opts.debian), opts.seed, opts.budget, opts.verbose)
    res = run_forked(fuzzer, opts.cases, opts.first, opts.fork) if opts.fork else \
        fuzzer.run(opts.cases, opts.first)
    kinds: dict = {}
    for f in res.findings:
        kinds.setdefault((f.kind, f.error.split(":")[0], f.where), []).append(f)
    for (kind, err, where), fs in sorted(kinds.items()):
        print(f"{kind:8} {err:24} {where:40} {len(fs):4}  e.g. {fs[0].module} case {fs[0].case}")
    if opts.record and res.findings:
        path = pathlib.Path(opts.record)
        old = json.loads(path.read_text()) if path.exists() else []
        old += [{"module": f.module, "seed": f.seed, "case": f.case, "error": f.error}
                for f in res.findings]
        path.write_text(json.dumps(old, indent=1) + "\n")
    print(f"{res.cases} cases in {res.seconds:.1f}s: {res.loaded} loaded, {res.refused} refused, "
          f"{res.reported} reported kernel errors, "
          f"{sum(f.kind == 'internal' for f in res.findings)} internal errors, "
          f"{sum(f.kind == 'hang' for f in res.findings)} hangs, "
          f"{sum(f.kind == 'crash' for f in res.findings)} crashes")
    return 1 if res.findings else 0


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    sys.exit(main())
