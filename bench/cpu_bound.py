"""CPU-bound init under kemu vs bare Unicorn running the same relocated code.

testmods/cpuloop.ko's init is a tight integer loop. kemu loads it and, just
before do_init_module(), every mapped region of the emulator (the relocated
module, thunks, export slots, per-CPU area, stack) is copied into a second,
bare Unicorn with no hooks at all. Both then run init from the same state;
the ratio of their wall times is kemu's overhead (target: <= 1.25x).

usage: python3 bench/cpu_bound.py [--iters N] [--repeat R]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import time

from unicorn import UC_ARCH_X86, UC_MODE_64, UC_TLB_VIRTUAL, Uc
from unicorn import x86_const as X

from kemu import Kernel
from kemu.module.loader import Loader
from kemu.machine.emulator import MSR_GS_BASE, THREAD_SIZE

ROOT = pathlib.Path(__file__).resolve().parent.parent


def snapshot(machine):
    """Every mapped region and its bytes."""
    return [(begin, end, perms, bytes(machine.uc.mem_read(begin, end - begin + 1)))
            for begin, end, perms in machine.uc.mem_regions()]


def run_bare(regions, machine, init_addr: int) -> float:
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
    for begin, end, perms, data in regions:
        uc.mem_map(begin, end - begin + 1, perms)
        uc.mem_write(begin, data)
    rsp = machine.stack_addr + THREAD_SIZE - 72
    uc.mem_write(rsp, machine.stop_addr.to_bytes(8, "little"))
    uc.reg_write(X.UC_X86_REG_RSP, rsp)
    uc.msr_write(MSR_GS_BASE, machine.percpu_addr)
    t0 = time.perf_counter()
    uc.emu_start(init_addr, machine.stop_addr)
    elapsed = time.perf_counter() - t0
    assert uc.reg_read(X.UC_X86_REG_RIP) == machine.stop_addr
    return elapsed


def one_round(ko: str, iters: int):
    k = Kernel(timeout_ms=600_000)
    captured = {}
    original = Loader.do_init_module

    def capture_then_init(self, mod):
        captured["regions"] = snapshot(self.m)
        captured["init"] = mod.init_addr
        t0 = time.perf_counter()
        original(self, mod)
        captured["kemu"] = time.perf_counter() - t0

    Loader.do_init_module = capture_then_init
    try:
        k.load(ko, f"iters={iters}")
    finally:
        Loader.do_init_module = original
    result = k.log.lines()[-1]
    bare = run_bare(captured["regions"], k.machine, captured["init"])
    return captured["kemu"], bare, result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    ko = str(ROOT / "testmods" / "cpuloop.ko")
    rounds = [one_round(ko, args.iters) for _ in range(args.repeat)]
    kemu_t = statistics.median(r[0] for r in rounds)
    bare_t = statistics.median(r[1] for r in rounds)
    print(f"module output: {rounds[0][2]}")
    print(f"kemu init:     {kemu_t * 1000:8.1f} ms (median of {args.repeat})")
    print(f"bare unicorn:  {bare_t * 1000:8.1f} ms (median of {args.repeat})")
    print(f"ratio kemu/bare: {kemu_t / bare_t:.3f}  (target <= 1.25)")


if __name__ == "__main__":
    main()
