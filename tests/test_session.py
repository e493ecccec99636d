"""The persistent session CLI (issue 3): every command is a separate process.

Each test has its own ``--session DIR`` under tmp_path.  Views are compared
with what the real kernel showed (tests/expected/*.modules are its
/proc/modules), lsmod with kmod's format, modinfo with kmod's modinfo, errors
with kmod's words.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import EXPECTED, as_built
from test_lifecycle import golden, patch_vermagic

LSMOD_HEADER = "Module                  Size  Used by"
STAMP = re.compile(r"^\[\s*\d+\.\d{6}\] ", re.M)


class Kemu:
    """``kemu ...`` in a subprocess, always with this session."""

    def __init__(self, session, testmods):
        self.session = str(session)
        self.testmods = testmods

    def __call__(self, *args, env=None, session=True, check=None):
        cmd = [sys.executable, "-m", "kemu", *map(str, args)]
        if session:
            cmd += ["--session", self.session]
        full_env = {k: v for k, v in os.environ.items() if k != "KEMU_SESSION"}
        full_env.update({"NO_COLOR": "1", **(env or {})})
        proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=60)
        assert "Traceback" not in proc.stderr, proc.stderr
        if check is not None:
            assert proc.returncode == check, (cmd, proc.stdout, proc.stderr)
        return proc

    def mod(self, name: str) -> str:
        return str(self.testmods / f"{name}.ko")


@pytest.fixture
def kemu(tmp_path, testmods):
    return Kemu(tmp_path / "session", testmods)


def lsmod_from_proc(golden_name: str) -> str:
    """kmod's lsmod for a real /proc/modules: ``%-19s %8ld  %d`` and the holders."""
    out = [LSMOD_HEADER]
    for line in (EXPECTED / golden_name).read_text().splitlines():
        name, size, refs, used = line.split()[:4]
        holders = [h for h in used.split(",") if h and h != "-" and not h.startswith("[")]
        row = f"{name:<19} {int(size):8d}  {int(refs)}"
        if holders:
            row += " " + ",".join(holders)
        out.append(row)
    return "\n".join(out) + "\n"


def masked(proc_modules: str) -> list[bytes]:
    return [re.sub(r" 0x[0-9a-f]*", " 0xADDR", line, count=1).encode()
            for line in proc_modules.splitlines()]


def log_texts(stdout: str) -> list[str]:
    """Kernel log lines as kemu prints them, without the time stamp."""
    return [STAMP.sub("", line) for line in stdout.splitlines() if STAMP.match(line)]


def golden_texts(*names: str) -> list[str]:
    """Golden dmesg files without the level prefix."""
    return [line.decode("latin-1")[3:] for name in names for line in golden(name)]


def first_load(module: str) -> list[str]:
    """The one-time O and E lines of the session's first load (first-load-taint.dmesg)."""
    return [text.replace("hello: ", f"{module}: ", 1)
            for text in golden_texts("first-load-taint.dmesg")]


# ------------------------------------------------------------------ acceptance

def test_exporter_and_user(kemu):
    """lsmod shows the holder; unloading the exporter is refused, also forced."""
    run = kemu("run", kemu.mod("exporter"), check=0)
    assert log_texts(run.stdout) == first_load("exporter") + golden_texts("exporter.dmesg")
    load = kemu("load", kemu.mod("user"), check=0)
    assert load.stderr == ""
    assert kemu("lsmod", check=0).stdout == lsmod_from_proc("exporter-user.modules")
    assert masked(kemu("lsmod", "--proc", check=0).stdout) == golden("exporter-user.modules")
    assert masked(kemu("cat", "/proc/modules", check=0).stdout) == golden("exporter-user.modules")
    busy = kemu("unload", "exporter", check=1)
    assert busy.stderr == "kemu: ERROR: Module exporter is in use by: user\n"
    forced = kemu("rmmod", "--force", "exporter", check=1)
    assert forced.stderr == ("kemu: ERROR: could not remove module exporter: "
                             "Resource temporarily unavailable\n")
    assert kemu("cat", "/proc/sys/kernel/tainted", check=0).stdout == "12288\n"   # no R
    rmmod = kemu("rmmod", check=0)                       # NAME defaults to the newest: user
    assert log_texts(rmmod.stdout) == golden_texts("user.rmmod.dmesg")
    kemu("unload", "exporter", check=0)
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n"
    assert log_texts(kemu("dmesg", check=0).stdout) == first_load("exporter") + golden_texts(
        "exporter.dmesg", "user.dmesg", "user.rmmod.dmesg",
        "exporter.rmmod.dmesg")


def test_self_pinning_module_and_noexit(kemu):
    """Plain unload refused in kmod's words; --force unloads and taints R."""
    kemu("load", kemu.mod("noexit"), check=0)
    kemu("insmod", kemu.mod("pinself"), check=0)
    assert kemu("lsmod", check=0).stdout == lsmod_from_proc("pinself-noexit.modules")
    assert masked(kemu("lsmod", "--proc", check=0).stdout) == golden("pinself-noexit.modules")
    busy = kemu("rmmod", "pinself", check=1)
    assert busy.stderr == "kemu: ERROR: Module pinself is in use\n"
    busy = kemu("unload", "noexit", check=1)
    assert busy.stderr == ("kemu: ERROR: could not remove module noexit: "
                           "Device or resource busy\n")
    assert kemu("cat", "/proc/sys/kernel/tainted", check=0).stdout == "12288\n"
    forced = kemu("unload", "pinself", "--force", check=0)
    assert log_texts(forced.stdout) == golden_texts("pinself-force-first.dmesg")
    assert kemu("cat", "/proc/sys/kernel/tainted", check=0).stdout == \
        (EXPECTED / "pinself-force-first.tainted").read_text()
    kemu("rmmod", "-f", "noexit", check=0)
    assert kemu("lsmod", "--proc", check=0).stdout == (EXPECTED / "final.modules").read_text()
    gone = kemu("rmmod", "pinself", check=1)
    assert gone.stderr == "kemu: ERROR: Module pinself is not currently loaded\n"


def test_init_failure(kemu):
    """exit never runs, the module is gone, the errno is reported in insmod's words."""
    path = kemu.mod("initfail")
    run = kemu("run", path, check=1)
    assert log_texts(run.stdout) == first_load("initfail") + golden_texts("initfail.dmesg")
    assert run.stderr == f"kemu: ERROR: could not insert module {path}: No such device\n"
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n"
    assert kemu("cat", "/proc/modules", check=0).stdout == ""        # initfail.after
    gone = kemu("unload", "initfail", check=1)
    assert gone.stderr == "kemu: ERROR: Module initfail is not currently loaded\n"
    assert "exit must not run" not in kemu("dmesg", check=0).stdout


MODINFO = ["params", "refs", "user", "solo/nongpl_user"]


@pytest.mark.parametrize("name", MODINFO)
def test_modinfo_is_kmods(name, kemu, testmods):
    """kmod 30's modinfo output (recorded in tests/expected/NAME.modinfo)."""
    want = as_built((EXPECTED / f"{name.split('/')[-1]}.modinfo").read_text())
    want = want.replace("TESTMODS/", f"{testmods}/")
    assert kemu("modinfo", kemu.mod(name), session=False, check=0).stdout == want


# ------------------------------------------------------------- other commands

def test_unknown_symbol_and_second_load(kemu):
    user = kemu.mod("user")
    fail = kemu("load", user, check=1)
    assert fail.stderr == f"kemu: ERROR: could not insert module {user}: Unknown symbol in module\n"
    hello = kemu.mod("hello")
    kemu("load", hello, "who=cli", "count=2", check=0)
    again = kemu("load", hello, check=1)
    assert again.stderr.splitlines()[0] == \
        f"kemu: ERROR: could not insert module {hello}: File exists"
    dmesg = log_texts(kemu("dmesg", check=0).stdout)
    assert dmesg[:6] == first_load("user") + golden_texts("user-alone.dmesg")
    assert "hello: hello, cli (count=2)" in dmesg
    assert dmesg.count("hello: hello, cli (count=2)") == 1
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n" + \
        f"{'hello':<19} {16384:8d}  0\n"


def test_force_load_of_a_vermagic_mismatch(kemu, tmp_path):
    bad = tmp_path / "hello.ko"
    bad.write_bytes(patch_vermagic((kemu.testmods / "hello.ko").read_bytes()))
    refused = kemu("load", bad, check=1)
    assert refused.stderr == f"kemu: ERROR: could not insert module {bad}: Invalid module format\n"
    kemu("load", "--force", bad, check=0)
    assert masked(kemu("cat", "/proc/modules", check=0).stdout) == \
        golden("vermagic-bad-force.modules")
    bad.unlink()                              # the session keeps its own copy
    # vermagic is checked before any taint: the forced load is the fresh kernel's first
    assert log_texts(kemu("dmesg", check=0).stdout) == golden_texts(
        "vermagic-bad.dmesg", "force-hello-fresh.dmesg")
    assert kemu("cat", "/proc/sys/kernel/tainted", check=0).stdout == "12290\n"


def test_run_unload_and_session_env(kemu, tmp_path):
    """``run --unload`` leaves nothing loaded; KEMU_SESSION names the session."""
    run = kemu("run", kemu.mod("hello"), "--unload", check=0)
    assert log_texts(run.stdout)[-1] == golden_texts("hello-default.rmmod.dmesg")[0]
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n"
    other = tmp_path / "via-env"
    kemu("load", kemu.mod("refs"), session=False, env={"KEMU_SESSION": str(other)}, check=0)
    listing = kemu("lsmod", session=False, env={"KEMU_SESSION": str(other)}, check=0).stdout
    assert listing == LSMOD_HEADER + "\n" + f"{'refs':<19} {16384:8d}  0\n"
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n"     # the other session
    kemu("reset", session=False, env={"KEMU_SESSION": str(other)}, check=0)
    assert not other.exists()


# ---------------------------------------------------------------- robustness

def test_kill_during_a_command_keeps_the_previous_state(kemu):
    kemu("load", kemu.mod("hello"), check=0)
    before = kemu("lsmod", check=0).stdout
    journal = (kemu.session + "/journal.json")
    saved = open(journal, "rb").read()
    proc = subprocess.Popen([sys.executable, "-m", "kemu", "load", kemu.mod("spin"),
                             "--timeout", "30", "--session", kemu.session],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "NO_COLOR": "1"})
    time.sleep(1.0)
    assert proc.poll() is None                      # still spinning in spin's init
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert open(journal, "rb").read() == saved
    assert kemu("lsmod", check=0).stdout == before
    kemu("unload", "hello", check=0)                # the lock was released
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n"


@pytest.mark.parametrize("damage", [
    b'{"format": 1, "ops": [',                                  # torn write
    b"\x00\x01garbage",
    b'{"format": 1, "ops": [{"op": "load"}]}',                 # fields missing
    b'{"format": 1, "ops": [{"op": "load", "file": "modules/nope.ko", "path": "x"}]}',
])
def test_damaged_journal(damage, kemu):
    kemu("load", kemu.mod("hello"), check=0)
    with open(kemu.session + "/journal.json", "wb") as fh:
        fh.write(damage)
    for args in (("lsmod",), ("load", kemu.mod("refs")), ("unload", "hello")):
        proc = kemu(*args)
        assert proc.returncode == 1, proc
        assert len(proc.stderr.splitlines()) == 1 and "kemu reset" in proc.stderr, proc.stderr
        assert proc.stderr.startswith("kemu: ERROR: ")
    kemu("reset", check=0)
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n"


def test_journal_is_a_list_of_operations(kemu):
    """What the session keeps: operations with their results, module copies by content."""
    kemu("load", kemu.mod("initfail"), check=1)
    kemu("load", kemu.mod("hello"), check=0)
    kemu("unload", check=0)
    doc = json.loads(open(kemu.session + "/journal.json").read())
    assert [(op["op"], op["result"]) for op in doc["ops"]] == \
        [("load", 19), ("load", 0), ("unload", 0)]
    assert doc["ops"][2]["name"] == "hello"
    assert len(os.listdir(kemu.session + "/modules")) == 2
