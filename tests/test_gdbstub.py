"""kemu run --gdb: scripted ``gdb -batch`` sessions against the stub (loopback only)."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def source_line(testmods, name: str, text: str) -> int:
    lines = (testmods / f"{name}.c").read_text().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if text in line]
    assert len(hits) == 1, (text, hits)
    return hits[0]


def debug(testmods, tmp_path, module: str, script: list[str], *params):
    """Run ``kemu run MODULE --gdb`` and a gdb -batch script against it:
    (gdb's stdout, kemu's completed process)."""
    assert shutil.which("gdb"), "gdb is needed (tests/run.sh installs it)"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "KEMU_DEBUG")}
    env.update(NO_COLOR="1", TERM="dumb", KEMU_SESSION=str(tmp_path / "session"))
    kemu = subprocess.Popen([sys.executable, "-m", "kemu", "run", str(testmods / module),
                             *params, "--gdb", f"127.0.0.1:{port}"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = []
        while True:                                  # until the stub waits for GDB
            line = kemu.stderr.readline()
            seen.append(line)
            assert line, f"kemu ended before waiting for GDB: {seen}"
            if line.startswith("kemu: waiting for GDB on"):
                break
        cmd = tmp_path / "script.gdb"
        cmd.write_text("\n".join(["set pagination off", "set confirm off",
                                  f"target remote 127.0.0.1:{port}", *script]) + "\n")
        gdb = subprocess.run(["gdb", "-nx", "-batch", "-x", str(cmd)], capture_output=True,
                             text=True, timeout=120)
        out, err = kemu.communicate(timeout=120)
        err = "".join(seen) + err
    finally:
        if kemu.poll() is None:
            kemu.kill()
            kemu.wait()
    return gdb.stdout + gdb.stderr, subprocess.CompletedProcess(kemu.args, kemu.returncode,
                                                                 out, err)


def test_break_in_init_backtrace_next_and_watch(testmods, tmp_path):
    out, run = debug(testmods, tmp_path, "faulty.ko", [
        "info sharedlibrary", "break faulty_init", "continue", "bt", "next",
        "watch faulty_table", "continue", "info registers rip", "delete", "continue"])
    assert run.returncode == 0, run.stderr
    assert "faulty: ready" in run.stdout
    assert re.search(r"Yes\s+" + re.escape(str(testmods / "faulty.ko")), out), out
    assert re.search(r"Breakpoint 1 at 0x[0-9a-f]+: file .*faulty\.c, line \d+\.", out), out
    bt = re.search(r"#0  faulty_init \(\) at (\S+):(\d+)", out)
    assert bt and bt.group(1) == str(testmods / "faulty.c"), out
    # "next" moves on to another source line (kzalloc's inlined body, in slab.h)
    after_bt = out[bt.end():].splitlines()[2]
    assert re.match(r"\d+\t", after_bt) and not after_bt.startswith(f"{bt.group(2)}\t"), out
    # the watchpoint stops after the store, with the old and the new value
    watch = re.search(r"Hardware watchpoint 2: faulty_table\s+Old value = 0x0\s+"
                      r"New value = (0x[0-9a-f]+) ", out)
    assert watch and int(watch.group(1), 16) >= 0xffff888000000000, out
    assert re.search(r"rip\s+0xffffffffc\w+\s+0xffffffffc\w+ <faulty_init\+\d+>", out), out
    second = source_line(testmods, "faulty", "if (!faulty_table)")
    assert f"faulty_init () at {testmods / 'faulty.c'}:{second}\n{second}\t" in out
    assert "[Inferior 1 (Remote target) exited normally]" in out


def test_step_into_a_function_and_hardware_breakpoint(testmods, tmp_path):
    helper = source_line(testmods, "oops", "thing->second = 42;")
    out, run = debug(testmods, tmp_path, "oops.ko", [
        "hbreak oops_helper", "continue", "stepi", "stepi", "bt", "continue", "bt", "continue"])
    # kemu's fault stops in GDB (SIGSEGV) at the faulting line, then kemu reports it
    assert "Hardware assisted breakpoint 1 at" in out
    assert re.search(r"Breakpoint 1, oops_helper \(thing=thing@entry=0x0\) at \S+oops\.c:\d+", out)
    assert "Program received signal SIGSEGV, Segmentation fault." in out
    bt = re.findall(r"#(\d)  (?:0x[0-9a-f]+ in )?(\w+) \([^)]*\) at \S+/oops\.c:(\d+)", out)
    assert ("0", "oops_helper", str(helper)) in bt and any(f[1] == "oopsmod_init" for f in bt), out
    assert "Program terminated with signal SIGSEGV, Segmentation fault." in out
    assert run.returncode == 1
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000008" in run.stdout


def test_init_failure_is_the_exit_code(testmods, tmp_path):
    out, run = debug(testmods, tmp_path, "initfail.ko", ["continue"])
    assert "[Inferior 1 (Remote target) exited with code 0355]" in out     # -ENODEV & 0xff
    assert run.returncode == 1


def test_bad_gdb_address(testmods, tmp_path):
    env = {**os.environ, "KEMU_SESSION": str(tmp_path / "s"), "NO_COLOR": "1"}
    bad = subprocess.run([sys.executable, "-m", "kemu", "run", str(testmods / "hello.ko"),
                          "--gdb", "localhost"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr == "kemu: --gdb localhost: expected HOST:PORT (e.g. 127.0.0.1:1234)\n"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run([sys.executable, "-m", "kemu", "run", str(testmods / "hello.ko"),
                               "--gdb", f"127.0.0.1:{port}"], env=env, capture_output=True,
                              text=True)
    assert busy.returncode == 1
    assert busy.stderr == f"kemu: ERROR: --gdb 127.0.0.1:{port}: Address already in use\n"
