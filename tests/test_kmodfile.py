"""Compressed modules (.ko.xz, .ko.gz, .ko.zst), read as kmod reads them
(kemu/module/kmodfile.py): decompressed by magic before the kernel sees them,
by kemu run, kemu modinfo, modprobe trees and the Python API."""
from __future__ import annotations

import gzip
import lzma
import os
import shutil
import subprocess
import sys

import pytest

from kemu import Kernel
from kemu.module.kmodfile import DecompressError, decompress, strip_suffix
from kemu.module.modprobe import ModuleTree, modname


def compressed(src, out_dir, suffix: str):
    data = src.read_bytes()
    if suffix == ".ko.xz":
        blob = lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    elif suffix == ".ko.gz":
        blob = gzip.compress(data)
    else:
        if shutil.which("zstd") is None:
            pytest.skip("no zstd command")
        blob = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                              check=True).stdout
    path = out_dir / (src.name[:-3] + suffix)
    path.write_bytes(blob)
    return path


@pytest.mark.parametrize("suffix", [".ko.xz", ".ko.gz", ".ko.zst"])
def test_compressed_module_loads(testmods, tmp_path, suffix):
    path = compressed(testmods / "hello.ko", tmp_path, suffix)
    with Kernel() as k:
        mod = k.load(str(path))
        assert mod.name == "hello" and "hello: hello, world (count=1)" in k.log.lines()


def test_names_and_magic():
    assert strip_suffix("nls_euc-jp.ko.xz") == "nls_euc-jp" and modname("a-b.ko.zst") == "a_b"
    assert strip_suffix("x.ko") == "x" and strip_suffix("notes.txt") == "notes.txt"
    assert decompress(b"\x7fELF plain") == b"\x7fELF plain"          # no magic: as it is
    with pytest.raises(DecompressError, match=r"m.ko.xz: Invalid argument \(xz: "):
        decompress(b"\xfd7zXZ\x00" + b"\x00" * 40, "m.ko.xz")


def test_tree_of_compressed_modules(testmods, tmp_path):
    for name in ("exporter", "user"):
        compressed(testmods / f"{name}.ko", tmp_path, ".ko.xz")
    tree = ModuleTree(str(tmp_path))
    assert tree.entry("user").path.endswith("user.ko.xz")
    assert tree.modprobe_order("user") == ["exporter", "user"]


def test_cli_run_modinfo_and_a_corrupt_file(testmods, tmp_path):
    good = compressed(testmods / "params.ko", tmp_path, ".ko.xz")
    bad = tmp_path / "bad.ko.xz"
    bad.write_bytes(good.read_bytes()[:200])
    env = {**os.environ, "NO_COLOR": "1", "KEMU_SESSION": str(tmp_path / "session"),
           "KEMU_NO_SERVER": "1"}

    def kemu(*argv):
        return subprocess.run([sys.executable, "-m", "kemu", *argv], env=env, text=True,
                              capture_output=True, timeout=60)

    run = kemu("run", str(good), "--unload")
    assert run.returncode == 0, run.stderr
    info = kemu("modinfo", str(good))
    assert info.returncode == 0 and f"filename:       {good}" in info.stdout
    assert "parm:" in info.stdout
    failed = kemu("run", str(bad))
    assert failed.returncode == 1 and "Traceback" not in failed.stderr + failed.stdout
    assert failed.stderr == (f"kemu: ERROR: could not insert module {bad}: Invalid argument "
                             "(xz: Unexpected end of input)\n")


def test_modinfo_of_a_damaged_compressed_module(tmp_path):
    """kmod's modinfo_do(): 'could not get modinfo from NAME', one line, status 1."""
    bad = tmp_path / "nls_euc-jp.ko.xz"
    bad.write_bytes(b"\xfd7zXZ\x00" + b"\x00" * 40)
    out = subprocess.run([sys.executable, "-m", "kemu", "modinfo", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.startswith("kemu: ERROR: could not get modinfo from 'nls_euc_jp': "
                                 "Invalid argument (xz: ")
    assert len(out.stderr.splitlines()) == 1 and "Traceback" not in out.stderr
