"""pytest plugin: a fresh emulated kernel per test, and modules built from C.

Fixtures:

``kernel``
    A fresh :class:`kemu.Kernel`. After the test body, any kemu finding
    (oops, WARN, leaked registration, ...) fails the test unless the test is
    marked ``@pytest.mark.kemu_findings`` or sets ``kernel.allow_findings = True``.
    A failing test's report shows the kernel log and the findings.

``kemu_build``
    ``kemu_build(sources, name=None, cflags="", kdir=None)`` builds a module
    from C sources (paths relative to the test file) against the headers named
    by ``kdir``, ``--kemu-kdir``, ``$KDIR``, or the one installed set, cached by
    content, and returns the path of the ``.ko``. A ``kernel`` that loads it
    becomes the kernel it was built for (its target follows the module).
"""
from __future__ import annotations

import pathlib

import pytest


def pytest_addoption(parser):
    parser.addoption("--kemu-kdir", metavar="DIR", default=None,
                     help="kemu_build: kernel headers to build modules against "
                          "(default: $KDIR or the one installed set)")


def pytest_configure(config):
    config.addinivalue_line("markers", "kemu_findings: this test expects kemu findings "
                            "(an oops, a WARN, a leak...); they do not fail it")


@pytest.fixture
def kernel():
    """A fresh emulated kernel (kemu.Kernel) for one test."""
    from .kernel import Kernel
    k = Kernel()
    k.allow_findings = False
    yield k
    k.close()


@pytest.fixture
def kemu_build(request):
    """Build a module from C sources, cached by content; returns the .ko path."""
    from .testing import build_module
    base = pathlib.Path(str(request.fspath)).parent

    default_kdir = request.config.getoption("--kemu-kdir")

    def build(sources, name=None, cflags="", kdir=None):
        return build_module(sources, name=name, cflags=cflags, base=base,
                            kdir=kdir or default_kdir)
    return build


def _format_findings(k) -> str:
    return "\n".join(f"{f['kind']}: {f['message']}" for f in k.findings)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    k = getattr(item, "funcargs", {}).get("kernel")
    if k is not None and k.findings and not getattr(k, "allow_findings", False) \
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
