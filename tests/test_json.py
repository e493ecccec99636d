"""kemu run --json [--trace]: the machine-readable report."""
from __future__ import annotations

import json
import subprocess
import sys


def kemu_json(tmp_path, *args):
    proc = subprocess.run([sys.executable, "-m", "kemu", "--version"], capture_output=True)
    assert proc.returncode == 0
    proc = subprocess.run([sys.executable, "-m", "kemu", *args, "--json",
                           "--session", str(tmp_path / "session")],
                          capture_output=True, text=True)
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_run_report_with_trace(tmp_path, testmods):
    rc, doc = kemu_json(tmp_path, "run", str(testmods / "hello.ko"), "who=json", "--trace",
                        "--unload")
    assert rc == 0 and doc["exit_status"] == 0 and doc["errors"] == []
    assert doc["module"]["name"] == "hello" and doc["module"]["init_ret"] == 0
    assert doc["kernel"]["taints"] == "OE" and doc["kernel"]["tainted"] == 12288
    texts = [entry["text"] for entry in doc["log"]]
    assert "hello: hello, json (count=1)" in texts and "hello: goodbye, json" in texts
    assert all(entry["level"] in range(8) for entry in doc["log"])
    calls = [t["fn"] for t in doc["trace"]]
    assert calls[0] == "param_set_charp"          # parse_args calls the kernel's set()
    assert calls[1:3] == ["_printk", "kmalloc_trace"] and "kfree" in calls
    snprintf = next(t for t in doc["trace"] if t["fn"] == "snprintf")
    assert snprintf["args"]["fmt"] == "%s*%d" and snprintf["ret"] == 6
    assert snprintf["caller"].startswith("hello_init+") and snprintf["caller"].endswith("[hello]")
    assert doc["findings"] == []


def test_fault_report(tmp_path, testmods):
    rc, doc = kemu_json(tmp_path, "run", str(testmods / "oops.ko"))
    assert rc == 1 and doc["exit_status"] == 1
    assert "module code faulted" in doc["errors"][0]
    oops = doc["findings"][0]
    assert oops["kind"] == "oops" and oops["module"] == "oops"
    assert oops["message"] == "BUG: kernel NULL pointer dereference, address: 0000000000000008"
    assert "D" in doc["kernel"]["taints"]


def test_lsmod_json(tmp_path, testmods):
    kemu_json(tmp_path, "load", str(testmods / "exporter.ko"))
    kemu_json(tmp_path, "load", str(testmods / "user.ko"))
    rc, doc = kemu_json(tmp_path, "lsmod")
    mods = {m["name"]: m for m in doc["modules"]}
    assert mods["exporter"]["holders"] == ["user"] and mods["exporter"]["refcount"] == 1
    assert mods["user"]["uses"] == ["exporter"]
