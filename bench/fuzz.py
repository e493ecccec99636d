"""Issue 17's figures: internal errors and hangs of the two fuzzers, with counts and time.

    python3 bench/fuzz.py [--rounds 100] [--cases 100000] [--seed 0]

Target: 0 internal errors and 0 hangs in 100 rounds of the export fuzzer and
100,000 mutated modules. Smaller runs (--rounds 10 --cases 2000) take minutes.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fuzz"))

import export_fuzz  # noqa: E402
import module_fuzz  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    opts = ap.parse_args()
    export_fuzz.limit_memory(6.0)
    fuzz = export_fuzz.Fuzzer(HERE.parent / "testmods" / "hello.ko", opts.seed)
    ex = fuzz.run(opts.rounds)
    mf = module_fuzz.run_forked(module_fuzz.Fuzzer(module_fuzz.seed_modules(), opts.seed),
                                opts.cases, 0, 500)
    bad_ex = sum(f.kind == "internal" for f in ex.findings), sum(f.kind == "hang" for f in ex.findings)
    bad_mf = (sum(f.kind == "internal" for f in mf.findings), sum(f.kind == "hang" for f in mf.findings),
              sum(f.kind == "crash" for f in mf.findings))
    print(f"export fuzzer: {opts.rounds} rounds, {ex.calls} calls in {ex.seconds:.0f}s: "
          f"{bad_ex[0]} internal errors, {bad_ex[1]} hangs (target 0, 0)")
    print(f"loader fuzzer: {mf.cases} mutated modules in {mf.seconds:.0f}s: {mf.loaded} loaded, "
          f"{mf.refused} refused, {mf.reported} reported: {bad_mf[0]} internal errors, "
          f"{bad_mf[1]} hangs, {bad_mf[2]} crashes (target 0, 0, 0)")
    for f in ex.findings + mf.findings:
        print(" ", f.line())
    return 1 if ex.findings or mf.findings else 0


if __name__ == "__main__":
    sys.exit(main())
