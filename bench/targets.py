"""What following the module's release costs (issue 11: "about 2 s" to describe
a release once; nothing noticeable after that).

* describe: a release's description made from its headers into an empty
  cache (the Kbuild probe build and the DWARF read), as the first module of a
  release a machine has never seen triggers it;
* first load, cached: ``Kernel()`` + load of testmods/hello.ko in a fresh
  process with the description already cached, against the same with the
  kernel's release given (``KEMU_TARGET``): the price of finding the release.

usage: python3 bench/targets.py [--repeat R] [--kdir DIR]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELLO = os.path.join(ROOT, "testmods", "hello.ko")
LOAD = "from kemu import Kernel; k = Kernel(); k.load({!r}); assert k.dmesg".format(HELLO)


def timed(cmd, env) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--kdir", default=os.environ.get("KDIR"))
    args = p.parse_args()
    from kemu.module.elf import read_vermagic
    from kemu.target import headers_for, release_of_vermagic
    with open(HELLO, "rb") as fh:
        release = release_of_vermagic(read_vermagic(fh.read()))
    kdir = args.kdir or headers_for(release)
    with tempfile.TemporaryDirectory() as tmp:
        describe = []
        for i in range(args.repeat):
            env = {**os.environ, "KEMU_CACHE": os.path.join(tmp, f"c{i}")}
            describe.append(timed([sys.executable, "-m", "kemu", "targets", "--generate",
                                   str(kdir)], env))
        cached_env = {**os.environ, "KEMU_CACHE": os.path.join(tmp, "c0")}
        cached_env.pop("KEMU_TARGET", None)
        given_env = {**cached_env, "KEMU_TARGET": release}
        follow, given = [], []
        for _ in range(args.repeat):
            follow.append(timed([sys.executable, "-c", LOAD], cached_env))
            given.append(timed([sys.executable, "-c", LOAD], given_env))
    print(f"release {release} from {kdir}")
    print(f"describe a release once: median {statistics.median(describe):.2f} s "
          f"(min {min(describe):.2f}, max {max(describe):.2f}; target about 2 s)")
    print(f"first load, release from the module: median {statistics.median(follow):.3f} s; "
          f"release given: {statistics.median(given):.3f} s "
          f"(ratio {statistics.median(follow) / statistics.median(given):.2f}x)")


if __name__ == "__main__":
    main()
