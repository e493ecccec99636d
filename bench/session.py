"""A session is a live kernel (issue 13): what a command costs, whatever came before.

Figures, each against its target:
  live     `kemu lsmod` / `kemu dmesg` / `kemu cat /proc/modules` as whole processes on
           a session whose module's init computed for about a second (cpuloop.ko):
           median wall time (target <= 50 ms each)
  history  `kemu cat /proc/kemu_proc/rw` after 10 and after 1,000 journalled commands
           (writes) in one session, through the client in this process: no slower
           after 1,000 (target ratio <= 1.0, within noise)
  run      `kemu run MOD.ko --unload` as a whole process on a live session vs the
           same load/init/exit in process (k.load + k.unload), for a CPU-bound init
           (cpuloop.ko) and a kernel-call loop (kcalls.ko) (target <= 1.1x)
  replay   the command after the server was killed, on a 100-command journal: the
           replay time the note line reports, and the command's wall time

usage: python3 bench/session.py [live|history|run|replay ...] (default: all)
"""
from __future__ import annotations

import os
import pathlib
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                  # this checkout's kemu, as `-m kemu` from ROOT
MODS = ROOT / "testmods"
CPU_ITERS = 3_000_000           # cpuloop.ko: about a second of init on a loaded machine
KCALLS_N = 100_000


def kemu(session, *args, check=True):
    """One whole ``python3 -m kemu`` process; (wall seconds, CompletedProcess)."""
    env = {**os.environ, "NO_COLOR": "1", "KEMU_IDLE": "120"}
    env.pop("KEMU_NO_SERVER", None)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kemu", *map(str, args), "--session",
                           str(session)], capture_output=True, text=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if check and proc.returncode != 0:
        raise SystemExit(f"kemu {' '.join(map(str, args))}: exit {proc.returncode}\n"
                         f"{proc.stderr}")
    return elapsed, proc


def served(session, *args) -> float:
    """One command through the client, in this process (no interpreter start-up)."""
    from kemu.client import run_served
    argv = [*map(str, args), "--session", str(session)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = [os.dup(1), os.dup(2)]
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        t0 = time.perf_counter()
        status = run_served(argv, str(session), argv[0])
        elapsed = time.perf_counter() - t0
    finally:
        for fd, old in zip((1, 2), saved):
            os.dup2(old, fd)
            os.close(old)
        os.close(devnull)
    assert status == 0, (argv, status)
    return elapsed


def stop(session) -> None:
    kemu(session, "reset", check=False)


def bench_live(tmp) -> None:
    s = tmp / "live"
    t_run, _ = kemu(s, "run", MODS / "cpuloop.ko", f"iters={CPU_ITERS}")
    print(f"live: kemu run cpuloop.ko iters={CPU_ITERS}: {t_run:.2f} s (the init's cost)")
    base = []
    for _ in range(15):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - t0)
    print(f"live: python3 -c pass (the interpreter alone) median "
          f"{1000 * statistics.median(base):5.1f} ms, best {1000 * min(base):5.1f} ms")
    for args in (("lsmod",), ("dmesg",), ("cat", "/proc/modules")):
        times = [kemu(s, *args)[0] for _ in range(15)]
        inside = [served(s, *args) for _ in range(15)]
        print(f"live: kemu {' '.join(args):<18} median {1000 * statistics.median(times):5.1f} ms"
              f", best {1000 * min(times):5.1f} ms  (target <= 50 ms); from a client in "
              f"process {1000 * statistics.median(inside):4.1f} ms")
    stop(s)


def bench_history(tmp) -> None:
    s = tmp / "history"
    kemu(s, "load", MODS / "kemu_proc.ko", "--allow-findings")
    for i in range(10):
        served(s, "write", "/proc/kemu_proc/rw", str(i))
    early = [served(s, "cat", "/proc/kemu_proc/rw") for _ in range(30)]
    for i in range(1000):
        served(s, "write", "/proc/kemu_proc/rw", str(i))
    late = [served(s, "cat", "/proc/kemu_proc/rw") for _ in range(30)]
    ops = sum(1 for _ in open(s / "journal.jsonl")) - 1
    e, l_ = statistics.median(early), statistics.median(late)
    print(f"history: cat after 10 commands {1000 * e:.2f} ms, after 1,000 ({ops} journalled "
          f"operations) {1000 * l_:.2f} ms: ratio {l_ / e:.2f}  (target <= 1.0, within noise)")
    stop(s)


def in_process(ko, args: str) -> float:
    from kemu import Kernel
    k = Kernel(timeout_ms=600_000)
    k.load(str(MODS / "hello.ko"))               # a kernel that has run something already
    k.unload("hello")
    t0 = time.perf_counter()
    k.load(str(ko), args)
    k.unload(ko.stem)
    return time.perf_counter() - t0


def bench_run(tmp) -> None:
    s = tmp / "run"
    kemu(s, "run", MODS / "hello.ko", "--unload")          # the server is up
    for ko, args in ((MODS / "cpuloop.ko", f"iters={CPU_ITERS}"),
                     (MODS / "kcalls.ko", f"n={KCALLS_N}")):
        cli = [kemu(s, "run", ko, args, "--unload", "--timeout", "600")[0] for _ in range(3)]
        inproc = [in_process(ko, args) for _ in range(3)]
        c, i = statistics.median(cli), statistics.median(inproc)
        print(f"run: {ko.name} {args} --unload: CLI {c:.3f} s, in process {i:.3f} s: "
              f"{c / i:.2f}x  (target <= 1.1x)")
    stop(s)


def bench_replay(tmp) -> None:
    s = tmp / "replay"
    kemu(s, "load", MODS / "kemu_proc.ko", "--allow-findings")
    for i in range(99):
        served(s, "write" if i % 2 else "cat", "/proc/kemu_proc/rw", *([str(i)] if i % 2 else []))
    ops = sum(1 for _ in open(s / "journal.jsonl")) - 1
    pid = int(re.findall(r"^kemu server (\d+) serving", (s / "server.log").read_text(),
                         re.M)[-1])
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    wall, proc = kemu(s, "lsmod")
    replay = re.search(r"in (\d+\.\d+) s", proc.stderr)
    print(f"replay: {ops} journalled operations after a killed server: replay "
          f"{replay.group(1) if replay else '?'} s, the whole command {wall:.2f} s")
    stop(s)


def main() -> None:
    which = sys.argv[1:] or ["live", "history", "run", "replay"]
    with tempfile.TemporaryDirectory(prefix="kemu-bench-") as tmp:
        for name in which:
            globals()[f"bench_{name}"](pathlib.Path(tmp))


if __name__ == "__main__":
    main()
