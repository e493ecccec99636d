"""KUnit suites run by kemu (stubs/lib/kunit): KTAP, exit status, pytest items.

Debian's kernel has no KUnit (CONFIG_KUNIT is not set), so the oracle cannot
print these lines; the expected KTAP below is what 6.1's lib/kunit/test.c
(kunit_run_tests, kunit_print_ok_not_ok, kunit_print_*_stats) and assert.c
(the binary/string formats, "\\n%pV" messages) print for testmods/kunit_demo.c,
with the source lines looked up in the file.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from kemu import Kernel

STAMP = re.compile(r"^\[\s*\d+\.\d{6}\] ")


def expected_ktap(testmods) -> list[str]:
    src = testmods / "kunit_demo.c"
    lines = src.read_text().splitlines()

    def at(text):
        hits = [i + 1 for i, line in enumerate(lines) if text in line]
        assert len(hits) == 1, text
        return f"{src}:{hits[0]}"
    return [
        "    KTAP version 1",
        "    # Subtest: kemu_demo",
        "    1..6",
        "    ok 1 demo_pass",
        f"    # demo_fail_expect: EXPECTATION FAILED at {at('KUNIT_EXPECT_EQ(test, demo_add(1, 1), 3)')}",
        "    Expected demo_add(1, 1) == 3, but",
        "        demo_add(1, 1) == 2",
        f"    # demo_fail_expect: EXPECTATION FAILED at {at('KUNIT_EXPECT_STREQ(test, name')}",
        '    Expected name == "kemu", but',
        '        name == "kunit"',
        "    # demo_fail_expect: still running after two failed expectations",
        "    not ok 2 demo_fail_expect",
        f"    # demo_fail_assert: ASSERTION FAILED at {at('KUNIT_ASSERT_GT_MSG')}",
        "    Expected x > 5, but",
        "        x == 4",
        "",
        "x is only 4",
        "    not ok 3 demo_fail_assert",
        "    ok 4 demo_skip # SKIP needs hardware kemu does not have",
        "    ok 5 demo_alloc",
        "        KTAP version 1",
        "        # Subtest: demo_param",
        "        ok 1 value 1",
        "        ok 2 value 2",
        f"    # demo_param: EXPECTATION FAILED at {at('KUNIT_EXPECT_LT(test, *value, 5)')}",
        "    Expected *value < 5, but",
        "        *value == 7",
        "        not ok 3 value 7",
        "    # demo_param: pass:2 fail:1 skip:0 total:3",
        "    not ok 6 demo_param",
        "# kemu_demo: pass:2 fail:3 skip:1 total:6",
        "# Totals: pass:4 fail:3 skip:1 total:8",
        "not ok 1 kemu_demo",
        "kunit_demo: suite init of kemu_demo_ok",
        "    KTAP version 1",
        "    # Subtest: kemu_demo_ok",
        "    1..1",
        "    ok 1 demo_ok",
        "kunit_demo: suite exit of kemu_demo_ok",
        "ok 2 kemu_demo_ok",
        "    # kemu_demo_bad:     # failed to initialize (-22)",
        "not ok 3 kemu_demo_bad",
    ]


def test_suites_run_as_the_module_comes(testmods):
    with Kernel() as k:
        mod = k.load(testmods / "kunit_demo.ko")
        assert k.dmesg[2:] == expected_ktap(testmods)
        levels = [r.level for r in k.log.records[2:]]
        assert levels[4] == 3 and levels[0] == 6            # kunit_err is KERN_ERR
        assert "N" in k.taints                              # TAINT_TEST
        assert not k.findings                               # kunit_kmalloc'd memory freed
        suites = k.kunit_results(mod)
        assert [(s.name, s.number, s.status) for s in suites] == [
            ("kemu_demo", 1, "not ok"), ("kemu_demo_ok", 2, "ok"), ("kemu_demo_bad", 3, "not ok")]
        assert suites[2].cases == []
        assert [(c.name, c.status) for c in suites[0].cases] == [
            ("demo_pass", "ok"), ("demo_fail_expect", "not ok"), ("demo_fail_assert", "not ok"),
            ("demo_skip", "skip"), ("demo_alloc", "ok"), ("demo_param", "not ok")]
        assert suites[0].cases[5].params == [("value 1", "ok"), ("value 2", "ok"),
                                             ("value 7", "not ok")]
        # unloading resets the suite counter (__kunit_test_suites_exit); a reload counts from 1
        k.unload(mod)
        mark = len(k.dmesg)
        mod = k.load(testmods / "kunit_demo.ko")
        assert k.dmesg[mark:] == expected_ktap(testmods)


def kemu(*argv, session):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "KEMU_DEBUG")}
    env.update(NO_COLOR="1", TERM="dumb", KEMU_SESSION=str(session))
    proc = subprocess.run([sys.executable, "-m", "kemu", *argv], env=env, capture_output=True,
                          text=True, timeout=120)
    # a kernel description made for this checkout the first time it is needed says so
    proc.stderr = "".join(line for line in proc.stderr.splitlines(keepends=True)
                          if not line.startswith("kemu: describing Linux "))
    return proc


def test_cli_exits_non_zero_on_a_failing_case(testmods, tmp_path):
    run = kemu("run", str(testmods / "kunit_demo.ko"), session=tmp_path / "s")
    assert run.returncode == 1
    log = [STAMP.sub("", line) for line in run.stdout.splitlines()]
    end = log.index("kemu: kunit_demo: init returned 0, state LIVE, taint OE")
    assert log[2:end] == expected_ktap(testmods)
    assert run.stderr == ("kemu: kunit_demo: KUnit: 3 of 7 test cases failed: "
                          "kemu_demo.demo_fail_expect, kemu_demo.demo_fail_assert, "
                          "kemu_demo.demo_param; suite kemu_demo_bad failed to initialize\n")


def test_pytest_collects_each_case(testmods, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(testmods.parent)}     # this checkout's plugin
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                             str(testmods / "kunit_demo.ko")], capture_output=True, text=True,
                            cwd=tmp_path, env=env)
    out = result.stdout
    assert result.returncode == 1
    assert "4 failed, 3 passed, 1 skipped" in out, out
    for name, word in (("kemu_demo.demo_pass", "PASSED"), ("kemu_demo.demo_fail_assert", "FAILED"),
                       ("kemu_demo.demo_skip", "SKIPPED"), ("kemu_demo_ok.demo_ok", "PASSED"),
                       ("kemu_demo_bad", "FAILED")):
        assert re.search(rf"kunit_demo.ko::{re.escape(name)} {word}", out), (name, out)
    assert "KUnit case kemu_demo.demo_param failed:" in out
    assert "        *value == 7" in out


def test_kemu_build_builds_a_suite_against_stock_headers(tmp_path, testmods):
    (tmp_path / "mini.c").write_text(textwrap.dedent("""
        #include <kunit/test.h>
        #include <linux/module.h>
        static void mini_case(struct kunit *test)
        {
            KUNIT_EXPECT_EQ(test, 2 + 2, 4);
        }
        static struct kunit_case mini_cases[] = { KUNIT_CASE(mini_case), {} };
        static struct kunit_suite mini_suite = { .name = "mini", .test_cases = mini_cases };
        kunit_test_suite(mini_suite);
        MODULE_LICENSE("GPL");
    """))
    (tmp_path / "test_mini.py").write_text(textwrap.dedent("""
        def test_mini(kernel, kemu_build):
            mod = kernel.load(kemu_build(["mini.c"]))
            suite, = kernel.kunit_results(mod)
            assert (suite.name, suite.status, [c.status for c in suite.cases]) == \\
                ("mini", "ok", ["ok"])
            assert kernel.dmesg[-5:] == ["    KTAP version 1", "    # Subtest: mini", "    1..1",
                                         "    ok 1 mini_case", "ok 1 mini"]
    """))
    from conftest import module_release           # the headers testmods/ was built with
    kdir = f"/usr/src/linux-headers-{module_release(testmods / 'hello.ko')}"
    env = {**os.environ, "PYTHONPATH": str(testmods.parent), "KDIR": kdir}
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(tmp_path / "test_mini.py")], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=600)
    assert "1 passed" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("nth", [1, 2])
def test_a_failing_kunit_allocation_fails_the_case_cleanly(testmods, nth):
    """kunit_kzalloc in the suite's init returns NULL: "failed to initialize: -12"."""
    from kemu.kernel.faultinject import FaultInjection
    with Kernel() as k:
        fi = k.model(FaultInjection).arm(str(testmods / "kunit_demo.ko"), nth, scope="all")
        mod = k.load(testmods / "kunit_demo.ko")
        assert fi.injected.export == "kunit_kmalloc_array"
        case = k.kunit_results(mod)[0].cases[nth - 1]
        assert case.status == "not ok"
        assert case.log[0] == f"    # {case.name}: failed to initialize: -12"
        assert not k.findings
