"""The pytest plugin and examples/: what a module developer's test suite sees."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run_pytest(*args, env=None, cwd=ROOT):
    environ = {**os.environ, **(env or {})}
    environ.pop("PYTEST_ADDOPTS", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          capture_output=True, text=True, cwd=cwd, env=environ)


def test_example_suite_passes_fast():
    run_pytest("examples/counter")                       # builds (once) into the cache
    t0 = time.perf_counter()
    result = run_pytest("examples/counter")
    elapsed = time.perf_counter() - t0
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout
    assert elapsed < 5, f"example suite took {elapsed:.1f}s"


def test_broken_build_fails_with_kernel_log():
    result = run_pytest("examples/counter", env={"COUNTER_CFLAGS": "-DCOUNTER_BROKEN"})
    assert result.returncode == 1
    assert "2 failed, 7 passed" in result.stdout
    assert "kemu kernel log" in result.stdout
    assert "counter: loaded, start=10" in result.stdout


def test_findings_fail_a_test_unless_expected(tmp_path, testmods):
    (tmp_path / "test_findings.py").write_text(textwrap.dedent(f"""
        import pytest
        from kemu.errors import MemoryFault

        def test_oops_unexpected(kernel):
            with pytest.raises(MemoryFault):
                kernel.load("{testmods / 'oops.ko'}")

        @pytest.mark.kemu_findings
        def test_oops_expected(kernel):
            with pytest.raises(MemoryFault):
                kernel.load("{testmods / 'oops.ko'}")
            assert kernel.findings[0]["kind"] == "oops"

        def test_clean(kernel):
            kernel.load("{testmods / 'hello.ko'}")
            assert "hello: hello, world (count=1)" in kernel.dmesg
    """))
    result = run_pytest(str(tmp_path / "test_findings.py"), cwd=tmp_path)
    assert "1 failed, 2 passed" in result.stdout, result.stdout
    assert "kemu reported findings in a test that expects none" in result.stdout
    assert "oops: BUG: kernel NULL pointer dereference" in result.stdout


def test_build_is_cached(tmp_path):
    from kemu.testing import build_module
    src = {"tiny.c": '#include <linux/module.h>\nstatic int __init t_init(void) { return 0; }\n'
                     'module_init(t_init);\nMODULE_LICENSE("GPL");\n'}
    first = build_module(src)
    t0 = time.perf_counter()
    again = build_module(src)
    assert again == first and time.perf_counter() - t0 < 0.5
    from kemu import Kernel
    with Kernel() as k:
        assert k.load(first).name == "tiny"
