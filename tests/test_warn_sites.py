"""kemu's WARN sites against the real Linux 6.1 kernel's.

tests/expected/warn_sites/ws_*.c misuse kernel APIs on purpose, one misuse
after a ``ws: <what>`` marker line; ``ws_*.dmesg`` next to them is what the
real Debian 6.1.0-56-amd64 kernel printed for them (oracle-job.sh run with
/work/shared/tools/real-kernel-oracle.sh, time stamps removed).  Here the
same modules (built from those sources against the installed headers) run in
kemu, and for every marker the WARN reports must be the real ones: the
message lines between "cut here" and the WARNING line, and the WARNING line
itself ("file:line function+off/size"), with the PID and %p values (hashed or
"(____ptrval____)" before the crng is ready) normalised.
"""
from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import EXPECTED, TESTMODS, dmesg_lines, module_release
from kemu import Kernel

SITES = EXPECTED / "warn_sites"
MODULES = ["ws_lib", "ws_dev", "ws_net", "ws_xt", "ws_crypto"]

# markers where kemu knowingly differs from 6.1 (see the report of the h-warn branch)
KNOWN_DIFFERENT = {
    # real: silent -EINVAL (rpm_drop_usage_count), kemu WARNs
    "pm_runtime_put underflow",
    # real: dev_err "poller structure has not been set up", kemu WARNs
    "input_set_poll_interval without poller",
    # real: devm_free_irq also calls free_irq, which WARNs a second time
    "devm_free_irq unregistered",
    # real: printk(KERN_ERR) + dump_stack, no WARN; kemu WARNs
    "iounmap bad address",
}

_RESULT = re.compile(r"^ws: (ret|alloc|dma|cdev_add|ioremap) (-?\d+|ok|NULL|[0-9a-f]{16})$")
_PID = re.compile(r"^(WARNING: CPU: \d+ PID: )\d+")
_PTR = re.compile(r"\((?:____ptrval____|[0-9a-f]{8,16})\)")


def warn_reports(lines: list[str]) -> dict[str, list[tuple[str, ...]]]:
    """marker -> [(message lines..., WARNING line)] in order."""
    out: dict[str, list[tuple[str, ...]]] = {}
    marker, block = None, None
    for line in lines:
        if line.startswith("ws: ") and not _RESULT.match(line):
            marker = line[4:]
            out.setdefault(marker, [])
        elif line == "------------[ cut here ]------------":
            block = []
        elif block is not None:
            if line.startswith("WARNING: "):
                out.setdefault(marker, []).append(
                    tuple(_PTR.sub("(PTR)", x) for x in block) + (_PID.sub(r"\g<1>N", line),))
                block = None
            else:
                block.append(line)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> pathlib.Path:
    """The trigger modules, built from tests/expected/warn_sites against the installed headers."""
    from kemu.target import headers_for
    kdir = headers_for(module_release(TESTMODS / "hello.ko"))    # the headers of testmods/
    if kdir is None:
        pytest.fail("no headers of testmods' release to build the warn-site modules against")
    out = tmp_path_factory.mktemp("warn_sites")
    for src in [*SITES.glob("ws_*.c"), SITES / "Kbuild"]:
        if not src.name.endswith(".mod.c"):          # Kbuild output, never a source
            shutil.copy(src, out)
    subprocess.run(["make", "-s", "-C", str(kdir), f"M={out}", "modules"], check=True,
                   capture_output=True)
    return out


@pytest.mark.kemu_findings
@pytest.mark.parametrize("name", MODULES)
def test_warn_reports_match_real_kernel(name, built, tainted_kernel):
    want = warn_reports((SITES / f"{name}.dmesg").read_text().splitlines())
    k = tainted_kernel()
    k.load(str(built / f"{name}.ko"))
    got = warn_reports([line.decode()[3:] for line in dmesg_lines(k)])
    assert "done" in got, "the module's init did not run to its end"
    for marker, reports in want.items():
        if marker in KNOWN_DIFFERENT:
            continue
        assert got.get(marker) == reports, marker
    assert any(f["kind"] == "warning" for f in k.findings)


def test_known_differences_are_still_different(built, tainted_kernel):
    """The documented gaps are real: drop an entry once kemu matches."""
    seen = set()
    for name in ("ws_lib", "ws_dev"):
        want = warn_reports((SITES / f"{name}.dmesg").read_text().splitlines())
        k = tainted_kernel()
        k.load(str(built / f"{name}.ko"))
        got = warn_reports([line.decode()[3:] for line in dmesg_lines(k)])
        seen |= {m for m in KNOWN_DIFFERENT if m in want and got.get(m) != want[m]}
    assert seen == KNOWN_DIFFERENT
