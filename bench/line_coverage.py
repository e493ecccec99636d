"""Line coverage's cost on a CPU-bound init: testmods/cpuloop.ko with and without it.

Each round loads cpuloop.ko into a fresh kernel twice, once with
``LineCoverage`` armed (a block hook over the module's text) and once
without, alternating which goes first; the figure is the ratio of the
medians of the init times (target: <= 1.3x). It also checks that coverage
counted the loop: the hottest line ran at least ``iters`` times.

usage: python3 bench/line_coverage.py [--iters N] [--repeat R]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import time

from kemu import Kernel
from kemu.coverage import LineCoverage
from kemu.module.loader import Loader

ROOT = pathlib.Path(__file__).resolve().parent.parent


def init_time(ko: str, iters: int, coverage: bool):
    k = Kernel(timeout_ms=600_000)
    cov = k.model(LineCoverage).arm() if coverage else None
    timed = {}
    original = Loader.do_init_module

    def timed_init(self, mod):
        t0 = time.perf_counter()
        original(self, mod)
        timed["init"] = time.perf_counter() - t0

    Loader.do_init_module = timed_init
    try:
        k.load(ko, f"iters={iters}")
    finally:
        Loader.do_init_module = original
    hottest = 0
    if cov is not None:
        files = cov.collect().files()
        hottest = max((c for f in files.values() for c in f.lines.values()), default=0)
    k.close()
    return timed["init"], hottest


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    ko = str(ROOT / "testmods" / "cpuloop.ko")
    plain, covered, hottest = [], [], 0
    for i in range(args.repeat):
        for coverage in ((False, True) if i % 2 == 0 else (True, False)):
            elapsed, hot = init_time(ko, args.iters, coverage)
            (covered if coverage else plain).append(elapsed)
            hottest = max(hottest, hot)
    off, on = statistics.median(plain), statistics.median(covered)
    print(f"init without coverage: {off * 1000:8.1f} ms (median of {args.repeat})")
    print(f"init with coverage:    {on * 1000:8.1f} ms (median of {args.repeat})")
    print(f"hottest line counted {hottest} times (iters={args.iters})")
    assert hottest >= args.iters, "coverage missed the loop"
    print(f"ratio with/without: {on / off:.3f}  (target <= 1.3)")


if __name__ == "__main__":
    main()
