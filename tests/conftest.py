"""Shared fixtures: the built test modules and a target matching their headers."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TESTMODS = ROOT / "testmods"
EXPECTED = ROOT / "tests" / "expected"


def _module_release(ko: pathlib.Path) -> str | None:
    from kemu import elf as E
    data = ko.read_bytes()
    image = E.elf_validity_check(E.module_sig_check(data, lambda *a: None)[0], lambda *a: None)
    idx = image.find_any_sec(".modinfo")
    for key, value in E.parse_modinfo(image.section_data(idx)):
        if key == "vermagic":
            return value.split(" ")[0]
    return None


def pytest_configure(config):
    """Point KEMU_TARGET at a description of the kernel testmods/ was built for.

    The shipped description serves when the installed headers are the same
    release; otherwise one is generated from the installed headers once.
    """
    hello = TESTMODS / "hello.ko"
    if not hello.exists() or os.environ.get("KEMU_TARGET"):
        return
    from kemu.target import available_targets
    release = _module_release(hello)
    if release is None or release in available_targets():
        return
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    import hashlib
    gen = ROOT / "kemu" / "target"       # what this checkout's generator records
    digest = hashlib.sha256((gen / "gen.py").read_bytes() + (gen / "probe.c").read_bytes())
    out = cache / "kemu" / "targets" / f"{release}-{digest.hexdigest()[:12]}.json"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "kemu.target.gen", "--out", str(out)], check=True)
    os.environ["KEMU_TARGET"] = str(out)


@pytest.fixture(scope="session")
def testmods() -> pathlib.Path:
    """The testmods/ directory; its modules must have been built (testmods/build.sh)."""
    missing = [p.name for p in TESTMODS.glob("*.c") if not p.name.endswith(".mod.c") and not (TESTMODS / (p.stem + ".ko")).exists()]
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
    candidates += sorted(glob.glob(os.path.expanduser("~/.cache/kemu/debian/*/lib/modules/*/kernel")))
    candidates += sorted(glob.glob("/tmp/kemu-oracle/image-*/lib/modules/*/kernel"))
    for path in candidates:
        if path and os.path.isdir(os.path.join(path, "net")):
            return pathlib.Path(path)
    pytest.fail("Debian's modules are not here: run tests/fetch-debian-modules.sh "
                "(tests/run.sh does) or set KEMU_DEBIAN_MODULES")
