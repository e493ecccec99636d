"""Locking, scheduling, time and deferred work (stubs/kernel/{sched,locking,time},
rcu.py, workqueue.py, softirq.py, kthread.py).

testmods/timerwork.ko runs a periodic timer, a tasklet, work on an ordered
workqueue, a delayed work, an hrtimer and a kthread on the virtual clock;
testmods/locking.ko uses every lock kind, completions, wait queues and RCU,
and makes one classic mistake per ``bug=`` value. Real Debian modules that
only need these models load, run and unload too.
"""
from __future__ import annotations

import errno

import pytest

from kemu import Kernel
from kemu.errors import EmulationError, InitError, Lockup
from kemu.stubs.kernel.locking import held_locks
from kemu.stubs.kernel.sched.core import Deadlock, sched, wheel_bucket


def _lines(k) -> list[str]:
    k.log.flush()
    return [r.text for r in k.log.records if not r.text.startswith(
        ("loading out-of-tree", "module verification failed")) and
        "taints kernel" not in r.text and "tainting kernel" not in r.text]


def _timed(k) -> list[str]:
    k.log.flush()
    return [r.format() for r in k.log.records if "taint" not in r.text]


def _kinds(k) -> list[str]:
    return [f["kind"] for f in k.findings]


# ------------------------------------------------------------- the wheel
@pytest.mark.parametrize("expires, clk, bucket, level", [
    (1005, 1000, 1006, 0),            # level 0: one jiffy after expires
    (1000, 1000, 1001, 0),
    (1000 + 100, 1000, ((1100 >> 3) + 1) << 3, 1),      # 8-jiffy granularity
    (1000 + 1000, 1000, ((2000 >> 6) + 1) << 6, 2),     # 64-jiffy granularity
    (990, 1000, 1000, 0),             # already expired: at the base clock
])
def test_wheel_bucket_is_calc_wheel_index(expires, clk, bucket, level):
    assert wheel_bucket(expires, clk, 250) == (bucket, level)


# ---------------------------------------------------------- timerwork.ko
TIMERWORK_INIT = [
    "timerwork: HZ=250 jiffies=4294892796",
    "timerwork: work ran in kworker/0:0, in_task=1",     # kthread_flush_work() slept
    "timerwork: pending=1 work_pending=0",
    "timerwork: msleep(10) took 20000 us, work_ran=1 loops=1",
]


def test_timerwork_runs_everything_on_the_virtual_clock(testmods):
    k = Kernel()
    k.load(str(testmods / "timerwork.ko"))
    assert _lines(k) == TIMERWORK_INIT
    jiffies = k.export_addr("jiffies")
    assert k.machine.read_u64(jiffies) == k.jiffies()
    k.advance(1000)
    assert k.machine.read_u64(jiffies) == k.jiffies() == 4294892796 + 255
    k.unload("timerwork")
    assert _lines(k)[len(TIMERWORK_INIT):] == [
        "timerwork: timerwork_thr stops after 18 loops",
        "timerwork: kthread_worker work=1 delayed=1",
        "timerwork: timer 0 at +26 jiffies",          # mod_timer(+25) expires a jiffy later
        "timerwork: timer 1 at +52 jiffies",
        "timerwork: timer 2 at +78 jiffies",
        "timerwork: timer 3 at +104 jiffies",
        "timerwork: timer 4 at +130 jiffies",
        "timerwork: hrtimer period 25000 us",
        "timerwork: hrtimer period 25000 us",
        "timerwork: hrtimer period 25000 us",
        "timerwork: timer=5 tasklet=5 work=1 dwork=3 hrtimer=4 thread=18 ret=42",
    ]
    assert k.findings == []
    assert held_locks(k) == []


def test_timerwork_without_advance_only_runs_what_waits_demand(testmods):
    k = Kernel()
    k.load(str(testmods / "timerwork.ko"))
    k.unload("timerwork")
    lines = _timed(k)
    # kthread_stop() waits 40 ms for the thread's msleep(50): the hrtimer fires twice meanwhile
    assert lines[-2:] == [
        "[    2.060000] timerwork: hrtimer period 25000 us",
        "[    2.060000] timerwork: timer=0 tasklet=0 work=1 dwork=0 hrtimer=2 thread=1 ret=42"]
    assert k.findings == []


def test_timerwork_leftovers_are_reported_and_never_fire(testmods):
    k = Kernel()
    k.load(str(testmods / "timerwork.ko"), "leave_timer=1 no_stop=1")
    k.advance(300)
    k.unload("timerwork")
    assert sorted(f["message"] for f in k.findings) == [
        "timerwork left kthread timerwork_thr registered after its exit",
        "timerwork left timer tmr_fn registered after its exit"]
    before = len(k.log.records)
    k.advance(2000)                       # the module's code is gone: nothing may run
    assert len(k.log.records) == before
    assert k.registered("timer") == []


def test_timerwork_is_deterministic(testmods):
    runs = []
    for _ in range(2):
        k = Kernel()
        k.load(str(testmods / "timerwork.ko"), "period_ms=30")
        k.advance(777)
        k.unload("timerwork")
        runs.append(_timed(k))
    assert runs[0] == runs[1]


# ------------------------------------------------------------ locking.ko
LOCKING_CLEAN = [
    "locking: irqs_disabled=1 locked=1",
    "locking: in_softirq=1",
    "locking: trylock=1",
    "locking: rwsem locked=1 write_trylock=0",
    "locking: holder has the mutex: 1, trylock=0",
    "locking: got the mutex after 7 jiffies",        # the holder's msleep(20)
    "locking: completion timed out: 1",
    "locking: down_trylock=0",
    "locking: wait_event_timeout returned 0",
    "locking: woken by the timer: ret=0 flag=1",
    "locking: rcu value 1",
    "locking: after synchronize_rcu freed=1",
]


def _locking(testmods, bug):
    k = Kernel()
    try:
        k.load(str(testmods / "locking.ko"), f"bug={bug}")
        error = None
    except EmulationError as exc:
        error = exc
    except InitError as exc:
        error = exc
    return k, error


def test_locking_used_right(testmods):
    k, error = _locking(testmods, 0)
    assert error is None
    assert _lines(k) == LOCKING_CLEAN + ["locking: done"]
    assert held_locks(k) == []
    k.unload("locking")
    assert _lines(k)[-1] == "locking: exit freed=1"
    assert k.findings == []


def test_mutex_self_deadlock_is_a_hung_task(testmods):
    k, error = _locking(testmods, 1)
    assert isinstance(error, Deadlock)
    assert "insmod/1 takes mutex mtx [locking] which it already holds" in str(error)
    assert "INFO: task insmod:1 blocked for more than 120 seconds." in _lines(k)
    assert "self-deadlock" in _kinds(k)


def test_spinlock_recursion_is_a_soft_lockup(testmods):
    k, error = _locking(testmods, 2)
    assert isinstance(error, Lockup)
    assert "takes spinlock slock [locking] which it already holds" in str(error)
    assert "self-deadlock" in _kinds(k)


def test_unlock_of_unheld_spinlock(testmods):
    k, error = _locking(testmods, 3)
    assert error is None
    assert k.findings[0]["kind"] == "bad-unlock"
    assert k.findings[0]["message"] == ("insmod/1 unlocks spinlock slock [locking] which is "
                                        "not locked")


def test_sleep_with_spinlock_held(testmods):
    k, error = _locking(testmods, 4)
    assert error is None
    lines = _lines(k)
    assert "BUG: scheduling while atomic: insmod/1/0x00000002" in lines
    assert lines[lines.index("BUG: scheduling while atomic: insmod/1/0x00000002") + 1] == \
        "Modules linked in: locking(OE+)"
    assert _kinds(k) == ["sleep-in-atomic"]
    assert "W" in k.taints


def test_init_returning_with_locks_held(testmods):
    k, error = _locking(testmods, 5)
    assert error is None
    held = held_locks(k)
    assert held[0].startswith("mutex mtx [locking] (taken at locking_init+")
    assert held[1:] == ["rcu_read_lock (nesting 1)"]


def test_uncompleted_completion_is_a_hung_task(testmods):
    k, error = _locking(testmods, 6)
    assert isinstance(error, Deadlock)
    assert "blocked forever in wait_for_completion (called from locking_init+" in str(error)
    assert k.clock_ns >= 120 * 10**9
    assert _kinds(k)[0] == "deadlock"


def test_interruptible_wait_that_nothing_ends_is_killed(testmods):
    k, error = _locking(testmods, 7)
    assert isinstance(error, InitError) and error.errno == 512      # -ERESTARTSYS
    assert "locking: interrupted: -512" in _lines(k)
    assert _kinds(k) == ["deadlock"]


def test_call_rcu_in_exit_without_barrier(testmods):
    k, error = _locking(testmods, 8)
    k.unload("locking")
    assert "locking left rcu callback free_item registered after its exit" in \
        [f["message"] for f in k.findings]


def test_lock_taken_in_softirq_and_process_context(testmods):
    k, error = _locking(testmods, 9)
    assert error is None
    assert _kinds(k) == ["inconsistent-lock-state"]
    assert "{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}" in k.findings[0]["message"]


# -------------------------------------------------------- the scheduler
def test_advance_with_nothing_pending_only_moves_the_clock(testmods):
    k = Kernel()
    k.load(str(testmods / "locking.ko"))
    s = sched(k)
    before = k.clock_ns
    k.advance(5000)
    assert k.clock_ns == before + 5_000_000_000
    assert k.machine.read_u64(k.export_addr("jiffies")) == k.jiffies()
    assert s.cur is s.main


# ------------------------------------------------------- Debian modules
def test_debian_lib80211_timer_and_spinlocks(debian_modules):
    k = Kernel()
    k.load(str(debian_modules / "net/wireless/lib80211.ko"))
    k.advance(1000)
    k.unload("lib80211")
    assert _lines(k) == ["lib80211: common routines for IEEE802.11 drivers",
                         "lib80211_crypt: registered algorithm 'NULL'",
                         "lib80211_crypt: unregistered algorithm 'NULL'"]
    assert k.findings == []


def test_debian_crc_t10dif_mutex_rcu_and_work(debian_modules):
    k = Kernel()
    for path in ("crypto/crct10dif_common.ko", "crypto/crct10dif_generic.ko",
                 "lib/crc-t10dif.ko"):
        k.load(str(debian_modules / path))
        assert held_locks(k) == []
    k.advance(100)
    for name in ("crc_t10dif", "crct10dif_generic", "crct10dif_common"):
        k.unload(name)
    assert k.findings == []


@pytest.mark.parametrize("path", ["crypto/drbg.ko", "crypto/ansi_cprng.ko",
                                  "fs/nfs_common/grace.ko"])
def test_debian_modules_that_only_need_locking(debian_modules, path):
    k = Kernel()
    mod = k.load(str(debian_modules / path))
    assert held_locks(k) == []
    k.advance(10)
    k.unload(mod.name)
    assert k.findings == []
    assert errno.EDEADLK == Deadlock.errno


# ----------------------------------------------------------- kthreads.ko
def _kthreads(testmods, mode, advance=100):
    k = Kernel()
    k.load(str(testmods / "kthreads.ko"), f"mode={mode}")
    error = None
    try:
        k.advance(advance)
    except EmulationError as exc:
        error = exc
    k.unload("kthreads")
    return k, error


def test_kthread_sleeps_on_a_wait_queue_until_woken_or_stopped(testmods):
    k, error = _kthreads(testmods, 0)
    assert error is None
    assert _timed(k)[-2:] == [
        "[    2.040000] kthreads: mode 0 init done after 10 jiffies, kthreads_wait is pid 101",
        "[    2.140000] kthreads: stopped, ret=1 events=1"]
    assert k.findings == []


def test_spinning_on_schedule_lets_time_pass(testmods):
    k, error = _kthreads(testmods, 1)
    assert error is None
    assert "kthreads: mode 1 init done after 4 jiffies, kthreads_set is pid 101" in _lines(k)


def test_fault_in_a_kthread_ends_the_advance_and_the_kernel_goes_on(testmods):
    k, error = _kthreads(testmods, 2)
    assert error is not None and "NULL pointer dereference" in "\n".join(_lines(k))
    assert _lines(k)[-1] == "kthreads: stopped, ret=0 events=0"
    s = sched(k)
    assert s.cur is s.main and [t.comm for t in s.tasks if t.state != "dead"] == \
        ["insmod", "ksoftirqd/0"]
