"""Whole-process time of ``kemu run --sample`` (target: <= 0.4 s).

Starts a fresh interpreter each time, as a user's shell would, so imports,
kernel creation, loading, init and printing all count. kemu's and the
models' bytecode is compiled first, as ``pip install`` does (a Python run
with PYTHONDONTWRITEBYTECODE=1 would otherwise recompile ~300 modules on
every start); ``--no-bytecode`` measures without it.

usage: python3 bench/run_sample.py [--repeat R]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--no-bytecode", action="store_true",
                   help="do not compile bytecode first (measure source compilation too)")
    args = p.parse_args()
    if not args.no_bytecode:
        import compileall
        import kemu
        compileall.compile_dir(os.path.dirname(kemu.__file__), quiet=1)   # with kemu/stubs
    cmd = [sys.executable, "-m", "kemu", "run", "--sample"]
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat + 1):                      # the first run warms the cache
            env = {**os.environ, "KEMU_SESSION": os.path.join(tmp, f"s{i}")}   # a fresh session
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            if i:
                times.append(time.perf_counter() - t0)
    print(f"kemu run --sample: median {statistics.median(times) * 1000:.0f} ms, "
          f"best {min(times) * 1000:.0f} ms over {args.repeat} runs  (target <= 400 ms)")


if __name__ == "__main__":
    main()
