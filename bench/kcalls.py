"""Kernel-call throughput: export calls per second from module code.

testmods/kcalls.ko's init loops n times over kmalloc -> strscpy -> strlen ->
kfree: four export calls per iteration; kmalloc and kfree are Python models
behind export slots, strscpy and strlen (strnlen, fortified) run as machine
code (``native=``). The calls are counted once with the tracer on (which sends
every call through its model), then timed without it. Target (issue 20):
>= 300,000 export calls per second.

usage: python3 bench/kcalls.py [--n N] [--repeat R]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import time

from kemu import Kernel

ROOT = pathlib.Path(__file__).resolve().parent.parent


def count_calls(n: int) -> int:
    """Export calls of one load, counted by the tracer."""
    k = Kernel(timeout_ms=600_000)
    k.tracer.start()
    k.load(str(ROOT / "testmods" / "kcalls.ko"), f"n={n}")
    return len(k.trace)


def one_round(n: int, calls: int):
    k = Kernel(timeout_ms=600_000)
    t0 = time.perf_counter()
    k.load(str(ROOT / "testmods" / "kcalls.ko"), f"n={n}")
    elapsed = time.perf_counter() - t0
    return calls, elapsed, k.log.lines()[-1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    calls = count_calls(args.n)
    rounds = [one_round(args.n, calls) for _ in range(args.repeat)]
    rates = [calls / elapsed for calls, elapsed, _ in rounds]
    print(f"module output: {rounds[0][2]}")
    print(f"export calls per load: {rounds[0][0]:,} (load + init included in the time)")
    print(f"throughput: median {statistics.median(rates):,.0f} calls/s, "
          f"best {max(rates):,.0f} calls/s over {args.repeat} runs  (target >= 300,000)")


if __name__ == "__main__":
    main()
