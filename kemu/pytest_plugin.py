"""pytest plugin: a fresh emulated kernel per test, and modules built from C.

``pytest path/to/suite.ko`` runs the KUnit suites of a module (one test item
per case: ``ok`` passes, ``not ok`` fails with the case's log, ``# SKIP``
skips).

Fixtures:

``kernel``
    A fresh :class:`kemu.Kernel`. After the test body, any kemu finding
    (oops, WARN, leaked registration, ...) fails the test unless the test is
    marked ``@pytest.mark.kemu_findings`` or sets ``kernel.allow_findings = True``.
    A failing test's report shows the kernel log and the findings.

    With ``--kemu-cov=FILE``, the line coverage of every module loaded into
    these kernels is summed over the session and written to FILE as lcov.

``kemu_build``
    ``kemu_build(sources, name=None, cflags="", kdir=None)`` builds a module
    from C sources (paths relative to the test file) against the headers named
    by ``kdir``, ``--kemu-kdir``, ``$KDIR``, or the one installed set, cached by
    content, and returns the path of the ``.ko``. A ``kernel`` that loads it
    becomes the kernel it was built for (its target follows the module).

``kemu_faultsweep``
    ``kemu_faultsweep(ko, params="", entry="init", scenario=None)`` runs the
    module once per fallible call site of ``entry`` ("init", "exit",
    "callbacks": what ``scenario(kernel, mod)`` drives after init), failing
    it (:func:`kemu.kernel.faultinject.faultsweep`), and fails the test with the
    sweep's report when a failure path leaks, oopses, WARNs or leaves a
    registration behind (``expect_clean=False``: just return the report).
"""
from __future__ import annotations

import pathlib

import pytest


_COVERAGE = pytest.StashKey()            # the session's merged CoverageData (--kemu-cov)


def pytest_addoption(parser):
    parser.addoption("--kemu-kdir", metavar="DIR", default=None,
                     help="kemu_build: kernel headers to build modules against "
                          "(default: $KDIR or the one installed set)")
    parser.addoption("--kemu-cov", metavar="FILE", default=None,
                     help="line coverage of the modules loaded into the 'kernel' fixture's "
                          "kernels, over the whole session, written to FILE as lcov")


def pytest_configure(config):
    config.addinivalue_line("markers", "kemu_findings: this test expects kemu findings "
                            "(an oops, a WARN, a leak...); they do not fail it")
    if config.getoption("kemu_cov", None):
        from kemu.coverage import CoverageData
        config.stash[_COVERAGE] = CoverageData()


@pytest.fixture
def kernel(request):
    """A fresh emulated kernel (kemu.Kernel) for one test."""
    from kemu.kernel.facade import Kernel
    k = Kernel()
    coverage = request.config.stash.get(_COVERAGE, None)
    if coverage is not None:
        from kemu.coverage import LineCoverage
        k.model(LineCoverage).arm()
    yield k
    if coverage is not None:
        coverage.merge(k.model(LineCoverage).collect())
    k.close()


def pytest_sessionfinish(session):
    coverage = session.config.stash.get(_COVERAGE, None)
    if coverage is not None:
        coverage.write_lcov(session.config.getoption("kemu_cov"))


def pytest_terminal_summary(terminalreporter, config):
    coverage = config.stash.get(_COVERAGE, None)
    if coverage is not None:
        terminalreporter.write_line(f"kemu coverage: {coverage.summary()}, written to "
                                    f"{config.getoption('kemu_cov')}")


@pytest.fixture
def kemu_build(request):
    """Build a module from C sources, cached by content; returns the .ko path."""
    from kemu.testing import build_module
    base = pathlib.Path(str(request.fspath)).parent

    default_kdir = request.config.getoption("--kemu-kdir")

    def build(sources, name=None, cflags="", kdir=None):
        return build_module(sources, name=name, cflags=cflags, base=base,
                            kdir=kdir or default_kdir)
    return build


@pytest.fixture
def kemu_faultsweep():
    """Sweep a module's failure paths; fails the test when one misbehaves."""
    from kemu.kernel.faultinject import faultsweep

    def sweep(ko, params: str = "", entry: str = "init", scenario=None,
              expect_clean: bool = True):
        report = faultsweep(str(ko), params, scope=entry, scenario=scenario)
        if expect_clean and not report.ok:
            raise AssertionError("kemu faultsweep: a failure path misbehaves:\n"
                                 + "\n".join(report.lines()))
        return report
    return sweep


def _format_findings(k) -> str:
    return "\n".join(f"{f['kind']}: {f['message']}" for f in k.findings)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    k = getattr(item, "funcargs", {}).get("kernel")
    if k is not None and k.findings and not k.allow_findings \
            and item.get_closest_marker("kemu_findings") is None:
        raise AssertionError("kemu reported findings in a test that expects none "
                             "(mark it @pytest.mark.kemu_findings if they are expected):\n"
                             + _format_findings(k))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    k = getattr(item, "funcargs", {}).get("kernel")
    if k is not None and report.failed and call.when == "call":
        k.log.flush()
        report.sections.append(("kemu kernel log", "\n".join(k.log.lines(time=True))))
        if k.findings:
            report.sections.append(("kemu findings", _format_findings(k)))
    return report


# ------------------------------------------------------- KUnit suites as tests
def _kunit_sections(path) -> bool:
    """True when a .ko file carries KUnit suites (a ``.kunit_test_suites`` section)."""
    from kemu.module import elf as E
    from kemu.errors import KemuError
    try:
        data = pathlib.Path(path).read_bytes()
        image = E.elf_validity_check(E.module_sig_check(data, lambda *a: None)[0],
                                     lambda *a: None)
    except (OSError, KemuError):
        return False
    return bool(image.find_any_sec(".kunit_test_suites"))


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ko" and _kunit_sections(file_path):
        return KUnitModule.from_parent(parent, path=file_path)
    return None


class KUnitFailure(Exception):
    """A KUnit case reported ``not ok``; the message is its part of the kernel log."""


class KUnitModule(pytest.File):
    """A module with KUnit suites: loaded once into a fresh kernel (its suites
    run as the module comes, as in Linux); each case becomes a test item."""

    def collect(self):
        from kemu.errors import KemuError
        from kemu.kernel.facade import Kernel
        with Kernel() as k:
            try:
                mod = k.load(str(self.path))
            except KemuError as exc:
                k.log.flush()
                yield KUnitCase.from_parent(self, name="load", outcome="not ok",
                                            comment="", log=list(k.dmesg) + [f"kemu: {exc}"])
                return
            for suite in k.kunit_results(mod):
                for case in suite.cases:
                    yield KUnitCase.from_parent(self, name=f"{suite.name}.{case.name}",
                                                outcome=case.status, comment=case.comment,
                                                log=case.log)
                if suite.status == "not ok" and not suite.cases:
                    yield KUnitCase.from_parent(self, name=suite.name, outcome="not ok",
                                                comment="", log=list(k.dmesg))


class KUnitCase(pytest.Item):
    """One KUnit case: passes on ``ok``, fails on ``not ok`` (showing its log),
    is skipped on ``# SKIP``."""

    def __init__(self, *, outcome: str, comment: str, log: list, **kwargs):
        super().__init__(**kwargs)
        self.outcome, self.comment, self.log = outcome, comment, log

    def runtest(self):
        if self.outcome == "skip":
            pytest.skip(self.comment or "skipped by KUnit")
        if self.outcome != "ok":
            raise KUnitFailure("\n".join(self.log))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, KUnitFailure):
            return f"KUnit case {self.name} failed:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"kunit: {self.name}"
