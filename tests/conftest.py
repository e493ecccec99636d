"""Shared fixtures: the built test modules, the oracle's release and the log as goldens keep it."""
from __future__ import annotations

import hashlib
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
# testmods/ built against another kernel line's headers sit in a directory of
# their own (testmods/build-line.sh KDIR prints it): KEMU_TESTMODS=DIR
TESTMODS = pathlib.Path(os.environ.get("KEMU_TESTMODS") or ROOT / "testmods")


def module_release(ko: pathlib.Path) -> str | None:
    """The release a module was built for (its vermagic's first word)."""
    from kemu.module import elf as E
    from kemu.target import release_of_vermagic
    return release_of_vermagic(E.read_vermagic(ko.read_bytes()))


def _expected_dir() -> tuple[pathlib.Path, str]:
    """The goldens of the kernel line testmods/ were built for, and the release
    the oracle recorded them on: tests/expected/ for 6.1, tests/expected/lines/
    LINE/ (with its RELEASE file) for the others."""
    from kemu.target.lines import line_of
    base = ROOT / "tests" / "expected"
    hello = TESTMODS / "hello.ko"
    line = line_of(module_release(hello)).name if hello.exists() else "6.1"
    other = base / "lines" / line
    if line != "6.1" and (other / "RELEASE").exists():
        return other, (other / "RELEASE").read_text().strip()
    return base, "6.1.0-56-amd64"


# The goldens, and the release of the real kernel they were recorded from (the oracle).
EXPECTED, ORACLE_RELEASE = _expected_dir()


def pytest_configure(config):
    # every test session's server (kemu/server.py) goes away soon after its test
    os.environ.setdefault("KEMU_IDLE", "10")


def text_digest(path) -> str:
    """sha256 of a module's executable sections: what a golden's %pS offsets and code
    depend on (the whole file also holds its build's paths, which differ per checkout)."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for sec in ELFFile(fh).iter_sections():
            if sec["sh_flags"] & SH_FLAGS.SHF_EXECINSTR:
                h.update(sec.name.encode() + b"\0" + sec.data())
    return h.hexdigest()


def as_built(golden: bytes | str) -> bytes | str:
    """A golden recorded on the oracle's release, as it reads for the release
    testmods/ were built for (kemu's target follows the module)."""
    release = module_release(TESTMODS / "hello.ko") or ORACLE_RELEASE
    if isinstance(golden, bytes):
        return golden.replace(ORACLE_RELEASE.encode(), release.encode())
    return golden.replace(ORACLE_RELEASE, release)


# testmods/ that use 6.1 features; another line's build (KEMU_TESTMODS) has the core only
LINE_6_1_ONLY = {"allocfail", "covered", "faulty", "faultyfs", "kemu_files", "kemu_subsys",
                 "kunit_demo"}


@pytest.fixture(scope="session")
def testmods() -> pathlib.Path:
    """The testmods/ directory; its modules must have been built (testmods/build.sh)."""
    missing = [p.name for p in TESTMODS.glob("*.c") if not p.name.endswith(".mod.c")
               and not (TESTMODS / (p.stem + ".ko")).exists()
               and not (os.environ.get("KEMU_TESTMODS") and p.stem in LINE_6_1_ONLY)]
    if missing:
        pytest.fail(f"testmods are not built ({', '.join(sorted(missing))} missing): "
                    "run testmods/build.sh")
    return TESTMODS


@pytest.fixture
def tainted_kernel():
    """A fresh kernel already O+E tainted, as the oracle's was after its first load."""
    from kemu import Kernel

    def make(**kw):
        k = Kernel(**kw)
        k.taints.update("OE")
        k.sig_warned = True
        return k
    return make


def dmesg_lines(k) -> list[bytes]:
    """The log as the golden files keep it: ``<level>text`` per line, as bytes."""
    k.log.flush()
    out = []
    for rec in k.log.records:
        for line in rec.text.split("\n"):
            out.append(f"<{rec.level}>".encode() + line.encode("utf-8", "surrogateescape"))
    return out


@pytest.fixture(scope="session")
def debian_modules() -> pathlib.Path:
    """``lib/modules/<release>/kernel`` of Debian's real kernel package.

    tests/run.sh fetches it (tests/fetch-debian-modules.sh) and exports
    KEMU_DEBIAN_MODULES; the oracle's cache is used when present.
    """
    import glob
    candidates = [os.environ.get("KEMU_DEBIAN_MODULES", "")]
    cached = sorted(glob.glob(os.path.expanduser("~/.cache/kemu/debian/*/lib/modules/*/kernel")))
    cached += sorted(glob.glob("/tmp/kemu-oracle/image-*/lib/modules/*/kernel"))
    try:                      # the tree of the release the test modules were built for first
        mine = module_release(TESTMODS / "hello.ko")
    except Exception:         # noqa: BLE001 (no test modules built yet)
        mine = None
    candidates += sorted(cached, key=lambda path: f"/{mine}/" not in path)
    for path in candidates:
        if path and os.path.isdir(os.path.join(path, "net")):
            return pathlib.Path(path)
    pytest.fail("Debian's modules are not here: run tests/fetch-debian-modules.sh "
                "(tests/run.sh does) or set KEMU_DEBIAN_MODULES")
