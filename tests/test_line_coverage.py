"""Line coverage of module code (kemu.coverage): lcov from executed blocks and DWARF.

testmods/covered.c has known counts: init calls covered_step() ``n`` times
(its loop condition runs n+1 times; its exit branch is not taken n times), prints the "big" line when the sum of
i*i+1 exceeds 100 (n >= 7) and the "small" one otherwise; covered_unused()
never runs; exit runs once when the module is unloaded.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from kemu import Kernel
from kemu.coverage import LineCoverage


@pytest.fixture(scope="module")
def covered_lines(testmods):
    source = (testmods / "covered.c").read_text().splitlines()

    def at(text: str, below: int = 0) -> int:
        hits = [i + 1 for i, line in enumerate(source) if text in line]
        assert len(hits) == 1, (text, hits)
        return hits[0] + below
    return at


def expected_lcov(testmods, at, n: int, exit_ran: bool) -> str:
    """The tracefile for covered.ko run with ``n`` (its whole text)."""
    big = sum(i * i + 1 for i in range(n)) > 100
    e = int(exit_ran)
    fns = [(at("static noinline int covered_step"), "covered_step", n),
           (at("noinline int covered_unused"), "covered_unused", 0),
           (at("static int __init covered_init"), "covered_init", 1),
           (at("static void __exit covered_exit"), "covered_exit", e)]
    lines = [(at("static noinline int covered_step", 1), n), (at("return i * i + 1;"), n),
             (at("noinline int covered_unused", 1), 0),
             (at('pr_info("covered: unused'), 0), (at("return x + 1;"), 0),
             (at("static int __init covered_init", 1), 1), (at("int i, sum = 0;"), 1),
             (at("for (i = 0; i < n; i++)"), n + 1), (at("sum += covered_step(i);"), n),
             (at("if (sum > 100)"), 1), (at('pr_info("covered: big sum'), int(big)),
             (at('pr_info("covered: small sum'), int(not big)), (at("return 0;"), 1),
             (at("static void __exit covered_exit", 1), e), (at('pr_info("covered: exit'), e)]
    out = ["TN:", f"SF:{testmods / 'covered.c'}"]
    out += [f"FN:{line},{name}" for line, name, _c in fns]
    out += [f"FNDA:{count},{name}" for _l, name, count in fns]
    out += ["FNF:4", f"FNH:{sum(1 for f in fns if f[2])}"]
    # the loop's exit test falls through into the body n times and leaves once;
    # "if (sum > 100)" falls through into the big line or jumps to the small one
    loop, test = at("for (i = 0; i < n; i++)"), at("if (sum > 100)")
    brda = [(loop, n), (loop, 1), (test, int(big)), (test, int(not big))]
    out += [f"BRDA:{line},0,{i % 2},{count}" for i, (line, count) in enumerate(brda)]
    out += ["BRF:4", f"BRH:{sum(1 for _l, c in brda if c)}"]
    out += [f"DA:{line},{count}" for line, count in lines]
    out += [f"LF:{len(lines)}", f"LH:{sum(1 for _l, c in lines if c)}", "end_of_record"]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("n", [3, 20])
def test_known_line_counts(testmods, covered_lines, n):
    with Kernel() as k:
        cov = k.model(LineCoverage).arm()
        mod = k.load(testmods / "covered.ko", n=n)
        k.unload(mod)
        assert cov.collect().lcov() == expected_lcov(testmods, covered_lines, n, True)


def test_only_the_chosen_modules_text_is_counted(testmods, covered_lines):
    with Kernel() as k:
        cov = k.model(LineCoverage).arm([str(testmods / "covered.ko")])
        k.load(testmods / "hello.ko")
        k.load(testmods / "covered.ko", n=4)      # still loaded: exit never ran
        data = cov.collect()
        assert data.lcov() == expected_lcov(testmods, covered_lines, 4, False)
        assert data.summary() == "9 of 15 lines (60%), 2 of 4 functions in 1 file"


def kemu(*argv, session):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "KEMU_DEBUG")}
    env.update(NO_COLOR="1", TERM="dumb", KEMU_SESSION=str(session))
    proc = subprocess.run([sys.executable, "-m", "kemu", *argv], env=env, capture_output=True,
                          text=True, timeout=120)
    # a kernel description made for this checkout the first time it is needed says so
    proc.stderr = "".join(line for line in proc.stderr.splitlines(keepends=True)
                          if not line.startswith("kemu: describing Linux "))
    return proc


def test_cli_run_coverage(testmods, covered_lines, tmp_path):
    out = tmp_path / "covered.info"
    run = kemu("run", str(testmods / "covered.ko"), "n=5", "--coverage", str(out), "--unload",
               session=tmp_path / "s")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == (f"kemu: coverage: 11 of 15 lines (73%), 3 of 4 "
                                           f"functions in 1 file, written to {out}")
    assert out.read_text() == expected_lcov(testmods, covered_lines, 5, True)
    # the session's replay of the earlier load is not counted again
    again = kemu("run", str(testmods / "covered.ko"), "n=2", "--coverage", str(out),
                 session=tmp_path / "s")
    assert again.returncode == 0
    assert out.read_text() == expected_lcov(testmods, covered_lines, 2, False)
    bad = kemu("run", str(testmods / "covered.ko"), "--coverage", str(tmp_path / "no" / "f"),
               session=tmp_path / "s")
    assert bad.returncode == 2 and bad.stderr == \
        f"kemu: --coverage {tmp_path / 'no' / 'f'}: {tmp_path / 'no'} is not a directory\n"


def test_coverage_of_a_failing_init(testmods, tmp_path):
    src = (testmods / "faulty.c").read_text().splitlines()
    line = {text: next(i + 1 for i, s in enumerate(src) if text in s)
            for text in ("faulty_table = kmalloc(", "if (!faulty_table)", "faulty_name = kstrdup(")}
    out = tmp_path / "faulty.info"
    run = kemu("run", str(testmods / "faulty.ko"), "--fail-nth", "2", "--coverage", str(out),
               session=tmp_path / "s")
    assert run.returncode == 1
    da = dict(tuple(map(int, l[3:].split(","))) for l in out.read_text().splitlines()
              if l.startswith("DA:"))
    assert da[line["faulty_table = kmalloc("]] == 1 and da[line["if (!faulty_table)"]] == 1
    assert da[line["faulty_name = kstrdup("]] == 0


def test_pytest_plugin_sums_a_session(testmods, covered_lines, tmp_path):
    (tmp_path / "test_cov.py").write_text(textwrap.dedent(f"""
        def test_three(kernel):
            kernel.load("{testmods / 'covered.ko'}", n=3)

        def test_twenty(kernel):
            kernel.unload(kernel.load("{testmods / 'covered.ko'}", n=20))
    """))
    env = {**os.environ, "PYTHONPATH": str(testmods.parent)}     # this checkout's plugin
    env.pop("PYTEST_ADDOPTS", None)
    out = tmp_path / "session.info"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             f"--kemu-cov={out}", str(tmp_path / "test_cov.py")],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    assert "2 passed" in result.stdout, result.stdout + result.stderr
    assert f"kemu coverage: 12 of 15 lines (80%), 3 of 4 functions in 1 file, written to {out}" \
        in result.stdout
    da = dict(tuple(map(int, l[3:].split(","))) for l in out.read_text().splitlines()
              if l.startswith("DA:"))
    assert da[covered_lines("sum += covered_step(i);")] == 23
    assert da[covered_lines("for (i = 0; i < n; i++)")] == 25
    assert da[covered_lines('pr_info("covered: big sum')] == 1
    assert da[covered_lines('pr_info("covered: small sum')] == 1
    assert da[covered_lines('pr_info("covered: exit')] == 1
