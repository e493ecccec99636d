"""The persistent session CLI (issue 3): every command is a separate process.

Each test has its own ``--session DIR`` under tmp_path.  Views are compared
with what the real kernel showed (tests/expected/*.modules are its
/proc/modules), lsmod with kmod's format, modinfo with kmod's modinfo, errors
with kmod's words.
"""
from __future__ import annotations

import json
import os
import pathlib
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

    def __call__(self, *args, env=None, session=True, check=None, cwd=None):
        cmd = [sys.executable, "-m", "kemu", *map(str, args)]
        if session:
            cmd += ["--session", self.session]
        full_env = {k: v for k, v in os.environ.items() if k != "KEMU_SESSION"}
        full_env.update({"NO_COLOR": "1", **(env or {})})
        if cwd is not None:          # -m kemu must still find this checkout's kemu
            full_env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(pathlib.Path(__file__).resolve().parent.parent),
                              full_env.get("PYTHONPATH")]))
        proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=60,
                              cwd=cwd)
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

def server_pid(kemu) -> int:
    """The session server's pid, from the line it logs when it starts (the last one)."""
    starts = re.findall(r"^kemu server (\d+) serving ", open(kemu.session + "/server.log").read(),
                        re.M)
    return int(starts[-1])


def spin_in_background(kemu):
    proc = subprocess.Popen([sys.executable, "-m", "kemu", "load", kemu.mod("spin"),
                             "--timeout", "30", "--session", kemu.session],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "NO_COLOR": "1"})
    time.sleep(1.5)
    assert proc.poll() is None                      # still spinning in spin's init
    return proc


def test_kill_of_every_process_keeps_what_was_acknowledged(kemu):
    """kill -9 of the client and the server mid-command: the journal holds every
    acknowledged command; the next command rebuilds the kernel and says so."""
    # --allow-findings: kemu warns that kemu_proc/single is registered twice (a kemu bug)
    kemu("load", kemu.mod("kemu_proc"), "--allow-findings", check=0)
    kemu("write", "/proc/kemu_proc/rw", "7", check=0)
    before = kemu("lsmod", check=0).stdout
    saved = open(kemu.session + "/journal.jsonl", "rb").read()
    proc = spin_in_background(kemu)
    os.kill(server_pid(kemu), signal.SIGKILL)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert open(kemu.session + "/journal.jsonl", "rb").read() == saved
    cat = kemu("cat", "/proc/kemu_proc/rw", check=0)
    assert cat.stdout.strip() == "7"
    assert re.fullmatch(r"kemu: note: the session's kernel was not running; rebuilt it by "
                        r"replaying 2 journalled operations in \d+\.\d\d s, each with its "
                        r"recorded result\n", cat.stderr), cat.stderr
    assert kemu("lsmod", check=0).stdout == before
    kemu("unload", "kemu_proc", check=0)           # the lock was released
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n"


def test_killed_server_fails_its_command_and_says_so(kemu):
    """The client of a command whose server died reports it (exit 1, one line)."""
    kemu("load", kemu.mod("hello"), check=0)
    proc = spin_in_background(kemu)
    os.kill(server_pid(kemu), signal.SIGKILL)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert err.decode().startswith("kemu: ERROR: the session's server died during this "
                                   "command") and err.decode().count("\n") == 1


def test_killed_client_loses_nothing(kemu):
    """kill -9 of a client: its command still completes in the server (as insmod's
    init_module() goes on when insmod is killed) and later commands wait for it."""
    kemu("load", kemu.mod("hello"), check=0)
    proc = subprocess.Popen([sys.executable, "-m", "kemu", "load", kemu.mod("spin"),
                             "--timeout", "3", "--session", kemu.session],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "NO_COLOR": "1"})
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n" + \
        f"{'hello':<19} {16384:8d}  0\n"                # spin's init locked up: not loaded
    _header, ops = journal(kemu)
    assert [(op["op"], op["result"]) for op in ops] == [("load", 0), ("load", "lockup")]


def test_in_process_mode(kemu):
    """KEMU_NO_SERVER=1: no server; every command rebuilds the kernel from the journal."""
    env = {"KEMU_NO_SERVER": "1"}
    kemu("load", kemu.mod("kemu_proc"), "--allow-findings", env=env, check=0)
    kemu("write", "/proc/kemu_proc/rw", "5", env=env, check=0)
    assert kemu("cat", "/proc/kemu_proc/rw", env=env, check=0).stdout.strip() == "5"
    assert not os.path.exists(kemu.session + "/server.sock")
    served = kemu("cat", "/proc/kemu_proc/rw", check=0)        # a server takes over
    assert served.stdout.strip() == "5" and "replaying 3 journalled operations" in served.stderr
    assert os.path.exists(kemu.session + "/server.sock")
    assert kemu("reset", check=0).stderr == ""
    assert not os.path.exists(kemu.session)


HEADER = b'{"format": 2, "kemu": "0.1.0", "stubs": [], "target": null}\n'


@pytest.mark.parametrize("damage", [
    b'{"format": 2, "kemu"\n',                                 # damaged header
    b"\x00\x01garbage\n",
    HEADER + b'{"op": "load"}\n',                              # fields missing
    HEADER + b'{"op": "load", "file": "modules/nope.ko", "path": "x", "result": 0}\n',
])
def test_damaged_journal(damage, kemu):
    kemu("load", kemu.mod("hello"), check=0)
    with open(kemu.session + "/journal.jsonl", "wb") as fh:
        fh.write(damage)
    for args in (("lsmod",), ("load", kemu.mod("refs")), ("unload", "hello")):
        proc = kemu(*args)
        assert proc.returncode == 1, proc
        assert len(proc.stderr.splitlines()) == 1 and "kemu reset" in proc.stderr, proc.stderr
        assert proc.stderr.startswith("kemu: ERROR: ")
    kemu("reset", check=0)
    assert kemu("lsmod", check=0).stdout == LSMOD_HEADER + "\n"


def journal(kemu) -> tuple[dict, list[dict]]:
    lines = open(kemu.session + "/journal.jsonl").read().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_journal_is_a_list_of_operations(kemu):
    """What the session keeps: operations with their results, module copies by content."""
    kemu("load", kemu.mod("hello"), check=0)
    kemu("load", kemu.mod("initfail"), check=1)
    kemu("load", kemu.mod("refs"), check=0)
    kemu("unload", check=0)
    header, ops = journal(kemu)
    assert header["format"] == 2 and header["kemu"] and header["stubs"] == []
    assert [(op["op"], op["result"]) for op in ops] == \
        [("load", 0), ("load", 19), ("load", 0), ("unload", 0)]
    assert ops[0]["outcome"] == {"init_ret": 0}
    assert ops[3]["name"] == "refs"
    assert len(os.listdir(kemu.session + "/modules")) == 3
    kemu("unload", check=0)                  # nothing loaded: the history is compacted
    header, ops = journal(kemu)
    assert ops == [] and header["state"]["taints"] == "EO"
    assert [text for _seq, _ts, _lvl, text, _fac in header["state"]["log"]][-1] == \
        "hello: goodbye, world"


# ------------------------------------------------------- between the commands

def test_deferred_work_has_run_before_the_next_command(kemu):
    """As on Linux (tests/expected/idlework.dmesg, the oracle's log of insmod then
    dmesg): work, tasklet and kthread have run when the next command starts; the
    timer 1 s ahead waits for the clock."""
    kemu("run", kemu.mod("idlework"), check=0)
    log = log_texts(kemu("dmesg", check=0).stdout)
    assert log[:2] == first_load("idlework")
    # kemu runs what init queued after init returned; Linux ran work and tasklet before
    assert sorted(log[2:]) == sorted(golden_texts("idlework.dmesg"))
    assert log[2] == "idlework: init returns"
    assert "idlework: timer fired" not in log_texts(kemu("tick", "900", check=0).stdout)
    tick = kemu("tick", "200", check=0)
    assert log_texts(tick.stderr) == ["idlework: timer fired"]
    rmmod = kemu("unload", check=0)
    assert log_texts(rmmod.stdout) == golden_texts("idlework.rmmod.dmesg")


def own_lines(stderr: str) -> list[str]:
    """stderr without the one-time line of describing the target (a shared cache)."""
    return [line for line in stderr.splitlines() if not line.startswith("kemu: describing")]


def test_findings_fail_the_command(kemu):
    """A leak and a /proc entry left behind: in the text output, exit status 3."""
    run = kemu("run", kemu.mod("leaky"), "--unload", check=3)
    assert own_lines(run.stderr) == [
        "kemu: finding: leak: leaky leaked 100 bytes (kmalloc) allocated at "
        "leaky_init+0x1b/0x1000 [leaky] (leaky.c:28)",
        "kemu: finding: left-registered: leaky left /proc/leaky registered after its exit"]
    assert "unreferenced object 0x" in run.stdout
    kemu("reset", check=0)
    assert own_lines(kemu("run", kemu.mod("leaky"), "fixed=1", "--unload", check=0).stderr) == []
    kemu("reset", check=0)
    allowed = kemu("run", kemu.mod("leaky"), "--unload", "--allow-findings", check=0)
    assert own_lines(allowed.stderr) == own_lines(run.stderr)
    kemu("reset", check=0)
    doc = json.loads(kemu("run", kemu.mod("leaky"), "--unload", "--json", check=3).stdout)
    assert doc["exit_status"] == 3
    assert [f["kind"] for f in doc["findings"]] == ["leak", "left-registered"]


# ------------------------------------------------------------- the journal itself

def test_torn_append_is_dropped(tmp_path, testmods):
    """A crash mid-append leaves a line without its newline: never acknowledged, dropped."""
    from kemu.session import Session
    with Session(tmp_path / "s") as s:
        k = s.kernel()
        s.run(k, {"op": "load", "path": str(testmods / "hello.ko"),
                  "data": (testmods / "hello.ko").read_bytes()})
    path = tmp_path / "s" / "journal.jsonl"
    good = path.read_bytes()
    path.write_bytes(good + b'{"op": "unload", "na')
    with Session(tmp_path / "s") as s:
        assert [op["op"] for op in s.ops] == ["load"]
        assert "hello" in s.kernel().modules
    assert path.read_bytes() == good


def test_replay_divergence_names_the_operation(kemu):
    """A replayed result that is not the recorded one is an error, never silent."""
    kemu("load", kemu.mod("hello"), check=0)
    kemu("load", kemu.mod("refs"), check=0)
    os.kill(server_pid(kemu), signal.SIGKILL)
    path = kemu.session + "/journal.jsonl"
    lines = open(path).read().splitlines()
    op = json.loads(lines[2])
    op["result"] = 19                                # as if refs' init had said ENODEV
    lines[2] = json.dumps(op)
    open(path, "w").write("\n".join(lines) + "\n")
    proc = kemu("lsmod", check=1)
    assert proc.stderr == ("kemu: ERROR: replaying the session diverged at operation 2 "
                           "(load refs.ko): it gave success ({'init_ret': 0}) where the "
                           "journal recorded error 19; 'kemu reset' starts a new session\n")


# ------------------------------------------------------ concurrency and security

def test_commands_on_one_session_are_serialised_sessions_run_in_parallel(kemu, tmp_path):
    kemu("load", "hello.ko", check=0, cwd=kemu.testmods)        # relative to the client's cwd
    other = Kemu(tmp_path / "other", kemu.testmods)
    other("lsmod", check=0)                                     # its server is up
    proc = subprocess.Popen([sys.executable, "-m", "kemu", "load", kemu.mod("spin"),
                             "--timeout", "4", "--session", kemu.session],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "NO_COLOR": "1"})
    time.sleep(1.0)
    t0 = time.monotonic()
    assert other("lsmod", check=0).stdout == LSMOD_HEADER + "\n"
    assert proc.poll() is None                    # the other session did not wait for it
    listing = kemu("lsmod", check=0)              # this one waits for the spinning load
    assert proc.poll() is not None and proc.returncode == 1
    assert time.monotonic() - t0 > 1.5
    assert listing.stdout == LSMOD_HEADER + "\n" + f"{'hello':<19} {16384:8d}  0\n"


def test_only_the_owner_and_no_network_port(kemu):
    kemu("lsmod", check=0)
    sock = os.stat(kemu.session + "/server.sock")
    assert sock.st_mode & 0o777 == 0o600 and sock.st_uid == os.getuid()
    pid = server_pid(kemu)
    inodes = {os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1] for fd in os.listdir(f"/proc/{pid}/fd")
              if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:[")}
    assert inodes
    for table in ("tcp", "tcp6", "udp", "udp6"):
        with open(f"/proc/net/{table}") as fh:
            listed = {line.split()[9] for line in fh.readlines()[1:]}
        assert not inodes & listed, table


def test_a_format_1_journal_is_taken_over(tmp_path, testmods):
    """A session from kemu before the server (journal.json, format 1) goes on."""
    from kemu.session import Session
    s = tmp_path / "s"
    (s / "modules").mkdir(parents=True)
    data = (testmods / "hello.ko").read_bytes()
    import hashlib
    ref = f"modules/{hashlib.sha256(data).hexdigest()}.ko"
    (s / ref).write_bytes(data)
    (s / "journal.json").write_text(json.dumps({"format": 1, "target": None, "ops": [
        {"op": "load", "path": str(testmods / "hello.ko"), "file": ref, "result": 0}]}))
    with Session(s) as session:
        assert "hello" in session.kernel().modules
    assert not (s / "journal.json").exists()
    lines = (s / "journal.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["format"] == 2 and json.loads(lines[1])["op"] == "load"
