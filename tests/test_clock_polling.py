"""Module code that polls a clock sees time pass (Scheduler.poll_clock())."""
from kemu.kernel.facade import Kernel


def _strict(k, path):
    mod = k.load(str(path))
    k.unload(mod.name)
    assert k.findings == [] and k.registrations == {}
    return list(k.dmesg)


def test_xor_benchmark_on_ktime_get_finishes(debian_modules):
    # calibrate_xor_blocks() spins until ktime_get() changes, then times 800 xors
    k = Kernel(timeout_ms=60_000)
    log = _strict(k, debian_modules / "crypto/xor.ko")
    assert any("xor: using function:" in line for line in log), log


def test_raid6_benchmark_on_jiffies_finishes_deterministically(debian_modules):
    # raid6_choose_gen() spins on a load of jiffies, then counts gen_syndrome()
    # runs for 16 jiffies: with polling reads moving time on, both loops end
    logs = []
    for _ in range(2):
        k = Kernel(timeout_ms=60_000)
        log = _strict(k, debian_modules / "lib/raid6/raid6_pq.ko")
        assert any("raid6: using algorithm" in line for line in log), log
        logs.append(log)
    assert logs[0] == logs[1]


def test_a_clock_read_moves_time_only_if_nothing_else_did(debian_modules):
    from kemu.stubs.kernel.sched.core import sched
    from kemu.stubs.kernel.time.timekeeping import now
    k = Kernel()
    s = sched(k)
    t0 = now(k)
    t1 = now(k)
    assert t1 - t0 == s.tick_ns // 16           # polled: 1/16 tick passed
    k.advance(10)
    t2 = now(k)
    assert t2 - t1 == 10_000_000                # the clock had moved: no extra time
