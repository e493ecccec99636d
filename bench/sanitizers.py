"""Cost of kemu's sanitizers (target: <= 1.5x on a CPU-bound module).

Runs testmods/cpuloop.ko (CPU-bound) and testmods/kcalls.ko (allocation-
heavy: kmalloc/kfree in a loop) with the heap checks on (the default) and
off, and prints the ratios.

usage: python3 bench/sanitizers.py [--repeat R]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import time

from kemu import Kernel

ROOT = pathlib.Path(__file__).resolve().parent.parent


def timed(module: str, args: str, sanitize: bool) -> float:
    k = Kernel(sanitize=sanitize, timeout_ms=600_000)
    t0 = time.perf_counter()
    k.load(str(ROOT / "testmods" / module), args)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    for module, params in (("cpuloop.ko", "iters=10000000"), ("kcalls.ko", "n=50000")):
        on, off = [], []
        for _ in range(args.repeat):                      # interleaved: fair to both
            on.append(timed(module, params, True))
            off.append(timed(module, params, False))
        a, b = statistics.median(on), statistics.median(off)
        print(f"{module:12} sanitizers on {a * 1000:8.1f} ms, off {b * 1000:8.1f} ms, "
              f"ratio {a / b:.3f}" + ("  (target <= 1.5)" if module == "cpuloop.ko" else ""))


if __name__ == "__main__":
    main()
