"""The ``kemu`` command in subprocesses: exit status, stdout, stderr.

A failed load ends with one stderr line in insmod's words (kmod 30
tools/insmod.c: ``ERROR: could not insert module %s: %s`` naming the file as
given, mod_strerror()'s texts), never with a Python traceback. ``kemu
modinfo`` prints what kmod 30's tools/modinfo.c prints (checked against
/usr/sbin/modinfo for these modules).

All invocations run concurrently, once, each with its own session directory.
"""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import kemu
from conftest import ROOT, TESTMODS

STAMP = re.compile(r"^\[ *\d+\.\d{6}\] ")


def _cases(tmp) -> dict:
    """name -> (argv after ``kemu``, cwd)."""
    hello = (TESTMODS / "hello.ko").read_bytes()
    (tmp / "empty.ko").write_bytes(b"")
    (tmp / "truncated.ko").write_bytes(hello[:4096])
    (tmp / "notes.txt").write_text("this is not a kernel module\n" * 8)
    bad_sig = struct.pack(">BBBBB3sI", 0, 0, 2, 0, 0, b"\0\0\0", len(hello) + 100)
    (tmp / "badsig.ko").write_bytes(hello + b"\x30" * 100 + bad_sig +
                                    b"~Module signature appended~\n")
    t, r = str(TESTMODS), str(ROOT)
    return {
        "hello": (["run", "hello.ko"], t),
        "hello-unload": (["run", "hello.ko", "--unload"], t),
        "hello-params": (["run", "hello.ko", "who=kemu", "count=2"], t),
        "initfail": (["run", "initfail.ko"], t),
        "initfail-path": (["run", "testmods/initfail.ko"], r),
        "missingsym": (["run", "missingsym.ko"], t),
        "commonsym": (["run", "commonsym.ko"], t),
        "bad-param": (["run", "params.ko", "int_param=abc"], t),
        "no-such-file": (["run", "nosuch.ko"], t),
        "directory": (["run", t], r),
        "empty": (["run", str(tmp / "empty.ko")], r),
        "truncated": (["run", str(tmp / "truncated.ko")], r),
        "text": (["run", str(tmp / "notes.txt")], r),
        "bad-signature": (["run", str(tmp / "badsig.ko")], r),
        "spin": (["run", "spin.ko", "--timeout", "0.5"], t),
        "oops": (["run", "oops.ko"], t),
        "allow-missing": (["run", "missingsym.ko", "--allow-missing"], t),
        "modinfo-params": (["modinfo", "params.ko"], t),
        "modinfo-oops": (["modinfo", "oops.ko"], t),
        "modinfo-weakref": (["modinfo", "weakref.ko"], t),
        "modinfo-text": (["modinfo", str(tmp / "notes.txt")], r),
        "version": (["--version"], r),
        "run-no-module": (["run"], r),
        "bad-option": (["run", "hello.ko", "--timeout", "soon"], t),
        "sample": (["run", "--sample"], str(tmp)),
    }


@pytest.fixture(scope="module")
def runs(testmods, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    cases = _cases(tmp)

    def run(item):
        name, (argv, cwd) = item
        env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "KEMU_DEBUG")}
        env.update(NO_COLOR="1", TERM="dumb", KEMU_SESSION=str(tmp / f"session-{name}"))
        proc = subprocess.run([sys.executable, "-m", "kemu", *argv], cwd=cwd, env=env,
                              capture_output=True, text=True, errors="surrogateescape",
                              timeout=60)
        return name, proc

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(run, cases.items()))


def log_lines(proc) -> list[str]:
    """stdout without the dmesg time stamps."""
    return [STAMP.sub("", line) for line in proc.stdout.splitlines()]


def assert_failed_cleanly(proc, status: int = 1) -> str:
    """Non-zero status, exactly one stderr line, no traceback anywhere; returns that line."""
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.endswith("\n") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr.rstrip("\n")


# ----------------------------------------------------------------- success
def test_run_hello(runs):
    proc = runs["hello"]
    assert proc.returncode == 0 and proc.stderr == ""
    assert log_lines(proc)[-7:] == [
        "hello: hello, world (count=1)",
        'hello: snprintf gave "world*1" (7 chars)',
        "hello: greeting 1 of 1",
        "hello: this line is a KERN_WARNING",
        "hello: continued line",
        "kemu: hello: init returned 0, state LIVE, taint OE",
        "kemu: hello: not signed"]
    assert all(STAMP.match(line) for line in proc.stdout.splitlines()[:-2])


def test_run_unload_prints_goodbye(runs):
    proc = runs["hello-unload"]
    assert proc.returncode == 0 and proc.stderr == ""
    lines = log_lines(proc)
    assert lines[-2:] == ["hello: goodbye, world", "kemu: hello: exit ran, module unloaded"]


def test_run_with_parameters(runs):
    lines = log_lines(runs["hello-params"])
    assert "hello: hello, kemu (count=2)" in lines
    assert "hello: greeting 2 of 2" in lines


def test_sample_from_another_directory(runs):
    proc = runs["sample"]
    assert proc.returncode == 0, proc.stderr
    assert "hello: hello, world (count=1)" in log_lines(proc)


def test_version(runs):
    proc = runs["version"]
    assert proc.returncode == 0 and proc.stdout == f"kemu {kemu.__version__}\n"


def test_allow_missing_stubs_and_says_so(runs):
    proc = runs["allow-missing"]
    assert proc.returncode == 0
    assert "missingsym: must never run (got 0)" in log_lines(proc)
    assert "Traceback" not in proc.stderr
    assert [line for line in proc.stderr.splitlines() if "kemu_no_such_symbol" in line] == \
        ["kemu: note: auto-stubbed missing symbol kemu_no_such_symbol (returns 0)"]


# ----------------------------------------------------------- failed loads
def test_initfail(runs):
    proc = runs["initfail"]
    assert assert_failed_cleanly(proc) == \
        "kemu: ERROR: could not insert module initfail.ko: No such device"
    lines = log_lines(proc)
    assert "initfail: init running, about to return -ENODEV" in lines
    assert "initfail: exit must not run" not in lines


def test_failed_module_is_named_as_given(runs):
    assert assert_failed_cleanly(runs["initfail-path"]) == \
        "kemu: ERROR: could not insert module testmods/initfail.ko: No such device"


@pytest.mark.parametrize("case,words,logged", [
    ("missingsym", "Unknown symbol in module",
     "missingsym: Unknown symbol kemu_no_such_symbol (err -2)"),
    ("commonsym", "Invalid module format", "commonsym: please compile with -fno-common"),
    ("bad-param", "Invalid parameters", "params: `abc' invalid for parameter `int_param'"),
])
def test_load_refused_in_insmod_words(runs, case, words, logged):
    proc = runs[case]
    module = {"bad-param": "params.ko"}.get(case, f"{case}.ko")
    assert assert_failed_cleanly(proc) == \
        f"kemu: ERROR: could not insert module {module}: {words}"
    assert logged in log_lines(proc)


@pytest.mark.parametrize("case,reason", [("no-such-file", "No such file or directory"),
                                         ("directory", "Is a directory")])
def test_unreadable_module_file(runs, case, reason):
    proc = runs[case]
    line = assert_failed_cleanly(proc)
    assert re.fullmatch(rf"kemu: ERROR: could not load module \S+: {reason}", line), line
    assert proc.stdout == ""


@pytest.mark.parametrize("case,logged", [
    ("empty", "Invalid ELF header len 0"),
    ("truncated", "Invalid ELF section header overflow"),
    ("text", "Invalid ELF header magic: != \x7fELF"),
])
def test_not_a_module(runs, case, logged):
    proc = runs[case]
    line = assert_failed_cleanly(proc)
    assert re.fullmatch(r"kemu: ERROR: could not insert module \S+: Invalid module format", line)
    assert log_lines(proc) == [logged]


def test_bad_signature(runs):
    proc = runs["bad-signature"]
    assert assert_failed_cleanly(proc).endswith(": Bad message")
    assert proc.stdout == ""                     # mod_check_sig() fails silently


def test_soft_lockup(runs):
    proc = runs["spin"]
    line = assert_failed_cleanly(proc)
    assert line.startswith("kemu: ERROR: could not insert module spin.ko: ")
    assert "soft lockup" in line
    assert "spin: spinning" in log_lines(proc)


def test_oops(runs):
    proc = runs["oops"]
    line = assert_failed_cleanly(proc)
    assert line.startswith("kemu: ERROR: could not insert module oops.ko: ")
    lines = log_lines(proc)
    assert "BUG: kernel NULL pointer dereference, address: 0000000000000008" in lines
    assert any(re.fullmatch(r"RIP: 0010:oops_helper\+0x[0-9a-f]+/0x[0-9a-f]+ \[oops\]", x)
               for x in lines)
    assert "oops: still alive" not in lines


# ------------------------------------------------------------------ usage
def test_run_without_a_module(runs):
    proc = runs["run-no-module"]
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "MOD.ko" in proc.stderr
    assert proc.stdout == ""


def test_bad_option_is_a_usage_error(runs):
    proc = runs["bad-option"]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("usage: kemu run")
    assert proc.stderr.splitlines()[-1] == \
        "kemu run: error: argument --timeout: invalid float value: 'soon'"


# ---------------------------------------------------------------- modinfo
def test_modinfo_format(runs):
    """kmod's format: filename first (absolute), "%-16s" keys in file order, then parm:
    lines as name:description (type), each new parameter put in front of the list."""
    proc = runs["modinfo-params"]
    assert proc.returncode == 0 and proc.stderr == ""
    want = [f"filename:       {TESTMODS / 'params.ko'}",
            "description:    kemu test: one module parameter of every type",
            "author:         kemu project",
            "license:        GPL",
            "depends:        ",
            "retpoline:      Y",
            "name:           params"]
    lines = proc.stdout.splitlines()
    assert lines[:7] == want
    assert re.fullmatch(r"vermagic:       \S+ SMP preempt mod_unload modversions ", lines[7])
    assert lines[8:] == [
        "parm:           byte_param:an unsigned char (byte) (byte)",
        "parm:           short_param:a short (short)",
        "parm:           ushort_param:an unsigned short (ushort)",
        "parm:           int_param:an int (int)",
        "parm:           uint_param:an unsigned int (uint)",
        "parm:           long_param:a long (long)",
        "parm:           ulong_param:an unsigned long (ulong)",
        "parm:           ullong_param:an unsigned long long (ullong)",
        "parm:           hexint_param:an unsigned int shown in hex (hexint)",
        "parm:           bool_param:a bool (default N) (bool)",
        "parm:           invbool_param:an inverted bool (variable default false) (invbool)",
        "parm:           bint_param:a bool stored in an int (bint) (bint)",
        "parm:           charp_param:a char pointer (charp)",
        "parm:           string_param:a string copied into a char[16] (string)",
        "parm:           int_array:up to 4 ints (array of int)",
        "parm:           charp_array:up to 4 strings (array of charp)",
        "parm:           my_val:an int under a different name (pass as my-val) (int)"]


def test_modinfo_parameter_without_description(runs):
    proc = runs["modinfo-oops"]
    assert proc.stdout.splitlines()[-1] == "parm:           crash:bool"


def test_modinfo_long_key(runs):
    """printf("%s:%-*s", key, 15 - keylen, ""): a negative width still pads, to keylen - 15."""
    lines = runs["modinfo-weakref"].stdout.splitlines()
    assert lines[0] == f"filename:       {TESTMODS / 'weakref.ko'}"
    assert "kemu_long_modinfo_key:      padded by abs(15 - keylen)" in lines


def test_modinfo_of_a_text_file(runs):
    line = assert_failed_cleanly(runs["modinfo-text"])
    assert line.startswith("kemu: ERROR: ")


@pytest.mark.parametrize("served", [True, False])
def test_a_reader_that_goes_away_is_not_an_error(tmp_path, served):
    """kemu cat /proc/kallsyms | head -1: kemu ends quietly as cat does when
    SIGPIPE ends it (status 141), and the session goes on."""
    env = {**os.environ, "KEMU_SESSION": str(tmp_path / "s")}
    if not served:
        env["KEMU_NO_SERVER"] = "1"
    subprocess.run([sys.executable, "-m", "kemu", "run", str(TESTMODS / "hello.ko")],
                   env=env, capture_output=True, check=True)
    proc = subprocess.Popen([sys.executable, "-m", "kemu", "cat", "/proc/kallsyms"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    status = proc.wait(timeout=120)
    assert re.fullmatch(rb"[0-9a-f]{16} \w \w+\n", first), first
    assert "Error" not in err and "Traceback" not in err, err
    assert status in (0, 141)
    lsmod = subprocess.run([sys.executable, "-m", "kemu", "lsmod"], env=env, capture_output=True,
                           text=True)
    assert lsmod.returncode == 0 and re.search(r"^hello\s+\d+\s+0$", lsmod.stdout, re.M)
