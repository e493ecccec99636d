"""Load + init + exit cycles per second, each in a fresh kernel, in one process.

The module file is parsed once (kemu caches parsed images by content) and
every cycle creates a new Kernel, loads testmods/hello.ko, runs its init and
its exit. Target: >= 100 cycles per second.

usage: python3 bench/cycles.py [--cycles N] [--repeat R]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import time

from kemu import Kernel

ROOT = pathlib.Path(__file__).resolve().parent.parent


def rate(path: pathlib.Path, data: bytes, cycles: int) -> float:
    t0 = time.perf_counter()
    for _ in range(cycles):
        with Kernel() as k:
            k.unload(k.load(path, data=data))
    return cycles / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    path = ROOT / "testmods" / "hello.ko"
    data = path.read_bytes()
    rate(path, data, 5)                                   # warm: stubs imported, image parsed
    rates = [rate(path, data, args.cycles) for _ in range(args.repeat)]
    print(f"load+init+exit in a fresh kernel: median {statistics.median(rates):.0f} cycles/s, "
          f"best {max(rates):.0f} over {args.repeat}x{args.cycles}  (target >= 100)")


if __name__ == "__main__":
    main()
