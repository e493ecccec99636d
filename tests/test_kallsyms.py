"""The target kernel's symbol table read out of Debian's vmlinuz (kemu/kernel/kallsyms.py),
compared with the real kernel's /proc/kallsyms (tests/expected/kallsyms/, recorded
with the oracle: a nokaslr boot, root, kptr_restrict=0)."""
from __future__ import annotations

import gzip
import hashlib
import os

import pytest

from conftest import ROOT
from kemu.kernel import kallsyms as KS

EXPECTED = ROOT / "tests" / "expected" / "kallsyms"


@pytest.fixture(scope="module")
def release(debian_modules) -> str:
    return debian_modules.parent.name


@pytest.fixture(scope="module")
def vmlinuz(debian_modules, release):
    path = debian_modules.parents[3] / "boot" / f"vmlinuz-{release}"
    assert path.is_file(), f"{path} is missing: run tests/fetch-debian-modules.sh"
    return path


@pytest.fixture(scope="module")
def table(vmlinuz, release, tmp_path_factory):
    cache = tmp_path_factory.mktemp("kcache")
    old = os.environ.get("KEMU_CACHE")
    os.environ["KEMU_CACHE"] = str(cache)
    try:
        KS._LOADED.pop(release, None)
        t = KS.load_kallsyms(release, vmlinuz)
    finally:
        if old is None:
            del os.environ["KEMU_CACHE"]
        else:
            os.environ["KEMU_CACHE"] = old
        KS._LOADED.pop(release, None)
    t.cache_file = cache / "targets" / f"{release}.kallsyms.gz"
    return t


def test_every_symbol_is_the_real_kernels(table, release):
    golden = EXPECTED / f"{release}.proc_kallsyms"
    assert golden.exists(), f"record {golden} with oracle-job.sh"
    want = {}
    samples = []
    for line in golden.read_text().splitlines():
        if line.startswith("#"):
            continue
        key, _, rest = line.partition(" ")
        if key.isdigit():
            samples.append((int(key), rest))
        else:
            want[key] = rest
    lines = table.lines()
    assert len(lines) == int(want["lines"])
    for i, line in samples:
        assert lines[i] == line
    text = "".join(line + "\n" for line in lines)
    assert hashlib.sha256(text.encode()).hexdigest() == want["sha256"]


def test_the_table_is_cached_by_release(table, release):
    assert table.cache_file.is_file()
    assert gzip.decompress(table.cache_file.read_bytes()).decode().splitlines() == table.lines()
    names = sorted(p.name for p in table.cache_file.parent.iterdir())
    assert names == [f"{release}.kallsyms.gz", f"{release}.tables.json"]   # no temporaries


def test_sys_call_table_entries_are_the_real_functions(table):
    """arch/x86/entry/syscall_64.c's table as the image holds it (no ia32 table on
    Debian's 6.1.192: x64_sys_call() dispatches)."""
    entries = table.pointer_tables["sys_call_table"]
    assert len(entries) == 451                               # __NR_syscalls of 6.1
    assert entries[:3] == ["__x64_sys_read", "__x64_sys_write", "__x64_sys_open"]
    assert (entries[62], entries[257]) == ("__x64_sys_kill", "__x64_sys_openat")
    assert "ia32_sys_call_table" not in table.pointer_tables
    assert table.get("x64_sys_call").type == "T"


def test_lookups(table):
    addr = table.lookup_name("kallsyms_lookup_name")
    assert addr == 0xffffffff811723a0 or addr >> 32 == 0xffffffff
    assert table.get("sys_call_table").type == "D"
    assert table.get("init_task").type == "D"
    assert table.lookup_name("no_such_symbol_in_linux") == 0
    name, off, size = table.lookup(addr + 5)
    assert (name, off) == ("kallsyms_lookup_name", 5) and size > 5
    assert table.lookup(0x1234) is None       # per-CPU offsets are not text


def test_a_truncated_image_is_a_clear_error(vmlinuz):
    with pytest.raises(KS.KallsymsError, match="compressed vmlinux"):
        KS.decompress_vmlinuz(vmlinuz.read_bytes()[:100000])
    with pytest.raises(KS.KallsymsError, match="kallsyms_token_table"):
        KS.read_kallsyms(b"\x7fELF" + bytes(100000))
