"""Whole-process time of ``kemu run --sample`` (target: <= 0.4 s).

Starts a fresh interpreter each time, as a user's shell would, so imports,
kernel creation, loading, init and printing all count.

usage: python3 bench/run_sample.py [--repeat R]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=10)
    args = p.parse_args()
    cmd = [sys.executable, "-m", "kemu", "run", "--sample"]
    subprocess.run(cmd, check=True, capture_output=True)          # warm the page cache
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    print(f"kemu run --sample: median {statistics.median(times) * 1000:.0f} ms, "
          f"best {min(times) * 1000:.0f} ms over {args.repeat} runs  (target <= 400 ms)")


if __name__ == "__main__":
    main()
