"""How much of Debian's real kernel kemu runs: ``kemu survey`` by category.

Each module is modprobed into a fresh kernel (soft and hard dependencies
first, request_module() served from the tree), initialised and unloaded, in
strict mode. A module counts as *clean* when all of that worked and nothing
was found left behind. The categories are those of issue 4's held-out set,
then the subsystem families of issue 16 (sound/, iio, hid, watchdog, media
core).

usage: python3 bench/coverage.py [--jobs N] [--json FILE] [KERNEL_DIR]
(KERNEL_DIR defaults to what tests/fetch-debian-modules.sh fetched)
"""
from __future__ import annotations

import argparse
import collections
import fnmatch
import json
import os
import subprocess
import sys
import time

from kemu.module.kmodfile import strip_suffix
from kemu.survey import shared_tree, survey_modules, tree_root

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CATEGORIES = {
    "crypto algorithms": ["crypto/*.ko", "arch/x86/crypto/*.ko"],
    "CRC libraries": ["lib/crc*.ko", "lib/libcrc32c.ko", "arch/x86/crypto/crc*.ko",
                      "crypto/crc*.ko"],
    "NLS tables": ["fs/nls/*.ko"],
    "filesystems": ["fs/*/*.ko", "fs/*.ko", "!fs/nls/*.ko"],
    "netfilter matches": ["net/netfilter/xt_[a-z]*.ko", "net/ipv4/netfilter/ipt_*.ko",
                          "net/ipv6/netfilter/ip6t_*.ko"],
    "netfilter (all)": ["net/netfilter/*.ko", "net/netfilter/*/*.ko",
                        "net/ipv4/netfilter/*.ko", "net/ipv6/netfilter/*.ko",
                        "net/bridge/netfilter/*.ko"],
    "misc drivers": ["drivers/misc/*.ko", "drivers/misc/*/*.ko"],
    "char drivers": ["drivers/char/*.ko", "drivers/char/*/*.ko"],
    "lib": ["lib/*.ko", "lib/*/*.ko"],
    # issue 16's subsystems
    "sound": ["sound/*.ko", "sound/*/*.ko", "sound/*/*/*.ko", "sound/*/*/*/*.ko"],
    "iio drivers": ["drivers/iio/*.ko", "drivers/iio/*/*.ko", "drivers/iio/*/*/*.ko"],
    "hid drivers": ["drivers/hid/*.ko", "drivers/hid/*/*.ko"],
    "watchdog drivers": ["drivers/watchdog/*.ko"],
    "media core": ["drivers/media/mc/*.ko", "drivers/media/v4l2-core/*.ko"],
}


def category_names(kernel: str, patterns: list[str], tree) -> list[str]:
    """Module names of the tree whose path (relative to ``kernel``) matches."""
    names = []
    for name, entry in tree.entries.items():
        rel = strip_suffix(os.path.relpath(entry.path, kernel)) + ".ko"   # .ko.xz too

        def match(p):
            return fnmatch.fnmatch(rel, p) and rel.count("/") == p.count("/")
        if any(match(p) for p in patterns if not p.startswith("!")) and \
                not any(match(p[1:]) for p in patterns if p.startswith("!")):
            names.append(name)
    return sorted(names)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kernel", nargs="?")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--only", action="append", default=[], help="category (repeatable)")
    args = p.parse_args()
    kernel = args.kernel or subprocess.run(
        ["bash", os.path.join(ROOT, "tests/fetch-debian-modules.sh")],
        capture_output=True, text=True, check=True).stdout.strip()
    tree = shared_tree(tree_root(kernel))
    report = {}
    print(f"{'category':<20} {'modules':>7} {'ok':>5} {'clean':>6} {'clean %':>8} {'s':>6}")
    for cat, patterns in CATEGORIES.items():
        if args.only and cat not in args.only:
            continue
        names = category_names(kernel, patterns, tree)
        t0 = time.perf_counter()
        results = survey_modules(tree, names, jobs=args.jobs)
        took = time.perf_counter() - t0
        ok = sum(r.outcome == "ok" for r in results)
        clean = [r.module for r in results if r.outcome == "ok" and not r.findings]
        wanted = collections.Counter(m for r in results for m in set(r.missing))
        report[cat] = {"modules": len(results), "ok": ok, "clean": len(clean),
                       "clean_modules": sorted(clean),
                       "seconds": round(took, 1), "most_wanted": wanted.most_common(10),
                       "not_clean": {r.module: (r.outcome, r.first_missing or r.detail[:160],
                                                r.findings[:3])
                                     for r in results if r.module not in clean}}
        pct = 100 * len(clean) / max(1, len(results))
        print(f"{cat:<20} {len(results):>7} {ok:>5} {len(clean):>6} {pct:>7.0f}% {took:>6.1f}",
              flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
