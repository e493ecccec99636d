"""Module lifecycle and reference counting (issue 3), with the real modules of testmods/.

States UNFORMED -> COMING -> LIVE -> GOING; init failure, positive init
return, the freed init region; try_module_get/__module_get/module_put and
module_refcount as a module sees them; holders ("Used by"); duplicate and
GPL-only exports; delete_module's checks in the kernel's order; the
load-time checks (vermagic, modversions CRCs, taints).  Where the real
kernel's words matter they come from tests/expected/ (recorded with the
oracle, see tests/expected/README.md, "Lifecycle steps").
"""
from __future__ import annotations

import errno
import struct

import pytest

from conftest import EXPECTED, TESTMODS, as_built, dmesg_lines
from kemu.errors import InitError, KemuError, LoadError, MemoryFault
from kemu.module.module import ModuleState
from kemu.kernel.taint import module_flags_taint
from kemu.module.unload import UnloadError

# ------------------------------------------------------------ patched copies
# The oracle job (tests/expected/regenerate-lifecycle.sh) loads exactly these
# bytes in the real kernel: keep the patching deterministic.

SHDR = struct.Struct("<IIQQQQIIQQ")


def _sections(data: bytes) -> dict:
    """Section name -> (file offset, size), read with struct (not kemu's parser)."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    hdrs = [SHDR.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    strtab = hdrs[shstrndx][4]
    out = {}
    for h in hdrs:
        start = strtab + h[0]
        out[data[start:data.index(b"\0", start)].decode()] = (h[4], h[5])
    return out


def patch_vermagic(data: bytes, old: bytes = b"mod_unload", new: bytes = b"mod_unlo4d") -> bytes:
    """The vermagic string in .modinfo changed in place (same length)."""
    assert len(old) == len(new)
    off, size = _sections(data)[".modinfo"]
    info = data[off:off + size]
    start = info.index(b"vermagic=")
    end = info.index(b"\0", start)
    entry = info[start:end]
    assert entry.count(old) == 1, entry
    out = bytearray(data)
    out[off + start:off + end] = entry.replace(old, new)
    return bytes(out)


def patch_crc(data: bytes, symbol: str = "_printk", xor: int = 0x1) -> bytes:
    """The CRC of ``symbol`` in __versions (struct modversion_info) changed."""
    off, size = _sections(data)["__versions"]
    out = bytearray(data)
    for pos in range(off, off + size, 64):
        name = data[pos + 8:pos + 64].split(b"\0")[0].decode()
        if name == symbol:
            crc, = struct.unpack_from("<Q", data, pos)
            struct.pack_into("<Q", out, pos, crc ^ xor)
            return bytes(out)
    raise KeyError(symbol)


def write_patched_copies(directory) -> list:
    """hello-vermagic.ko and hello-crc.ko in ``directory`` (for the oracle job)."""
    import pathlib
    hello = (TESTMODS / "hello.ko").read_bytes()
    paths = []
    for name, data in (("hello-vermagic.ko", patch_vermagic(hello)),
                       ("hello-crc.ko", patch_crc(hello))):
        path = pathlib.Path(directory) / name
        path.write_bytes(data)
        paths.append(path)
    return paths


# ------------------------------------------------------------------ helpers

def golden(name: str) -> list[bytes]:
    """A golden file's lines (bytes)."""
    return as_built((EXPECTED / name).read_bytes()).splitlines()


def golden_errno(step: str) -> int:
    return int((EXPECTED / f"{step}.status").read_text().splitlines()[0].removeprefix("exit="))


class Steps:
    """The kernel log of one step at a time, as the oracle job cuts it (dmesg -c)."""

    def __init__(self, k):
        self.k = k
        self.mark = 0

    def __call__(self) -> list[bytes]:
        lines = dmesg_lines(self.k)
        new, self.mark = lines[self.mark:], len(lines)
        return new


def proc_modules_masked(k) -> list[bytes]:
    """/proc/modules with the address masked, as the oracle job's proc_modules() does."""
    import re
    from kemu.module.procfs import proc_modules
    return [re.sub(r" 0x[0-9a-f]*", " 0xADDR", line, count=1).encode()
            for line in proc_modules(k).splitlines()]


def tainted_value(k) -> list[bytes]:
    from kemu.module.procfs import proc_tainted
    return proc_tainted(k).encode().splitlines()


def unload_errno(k, name: str, force: bool = False) -> int:
    with pytest.raises(UnloadError) as exc:
        k.unload(name, force=force)
    return exc.value.errno


def mod_path(testmods, name: str) -> str:
    return str(testmods / f"{name}.ko")


# ------------------------------------------------------------------- states

def test_states_coming_live_going(testmods, tainted_kernel):
    """init runs while COMING, the module is LIVE after it, exit runs while GOING."""
    k = tainted_kernel()
    seen_in_log, notified = [], []
    k.log.listeners.append(lambda rec: seen_in_log.append(
        (rec.text.split(" ")[1], k.modules["refs"].state)))
    k.state_listeners.append(lambda mod: notified.append(mod.state))
    k.load(mod_path(testmods, "refs"))
    k.log.flush()
    assert ("init", ModuleState.COMING) in seen_in_log
    assert k.modules["refs"].state == ModuleState.LIVE
    k.unload("refs")
    k.log.flush()
    assert ("exit", ModuleState.GOING) in seen_in_log
    assert notified[-2:] == [ModuleState.LIVE, ModuleState.GOING]
    assert "refs" not in k.modules


def test_unformed_module_is_invisible(testmods, tainted_kernel, monkeypatch):
    """While its symbols are resolved a module is UNFORMED: not listed, not removable."""
    from kemu.module.procfs import proc_modules
    k = tainted_kernel()
    seen = {}
    real = k.find_symbol

    def spy(name, *args, **kw):
        mod = k.modules.get("missingsym")
        if mod is not None and not seen:
            seen["state"] = mod.state
            seen["proc"] = proc_modules(k)
            seen["unload"] = unload_errno(k, "missingsym", force=True)
        return real(name, *args, **kw)
    monkeypatch.setattr(k, "find_symbol", spy)
    with pytest.raises(LoadError) as exc:
        k.load(mod_path(testmods, "missingsym"))
    assert exc.value.errno == errno.ENOENT
    assert seen == {"state": ModuleState.UNFORMED, "proc": "", "unload": errno.ENOENT}
    assert "missingsym" not in k.modules
    assert "R" not in k.taints


def test_init_failure_frees_module_without_exit(testmods, tainted_kernel):
    """init returns -ENODEV: GOING, freed, exit never runs, the errno is returned."""
    k = tainted_kernel()
    mods, states = [], []
    k.state_listeners.append(lambda mod: (mods.append(mod), states.append(mod.state)))
    with pytest.raises(InitError) as exc:
        k.load(mod_path(testmods, "initfail"))
    assert exc.value.errno == errno.ENODEV == golden_errno("initfail")
    assert dmesg_lines(k) == golden("initfail.dmesg")      # no "exit must not run"
    assert proc_modules_masked(k) == golden("initfail.after") == []
    assert states == [ModuleState.COMING, ModuleState.GOING]   # prepare_coming_module, then failure
    mod = mods[0]
    for addr in (mod.init_addr, mod.exit_addr):            # both regions are gone
        with pytest.raises(MemoryFault) as fault:
            k.call(addr)
        assert fault.value.access == "fetch"
    assert unload_errno(k, "initfail") == errno.ENOENT
    with pytest.raises(InitError):                          # the name is free again
        k.load(mod_path(testmods, "initfail"))


def test_positive_init_return_warns_and_loads(testmods, tainted_kernel):
    k = tainted_kernel()
    step = Steps(k)
    mod = k.load(mod_path(testmods, "positive"))
    log = step()
    assert log[:3] == golden("positive.dmesg")[:3]          # line + the two-line warning
    assert mod.state == ModuleState.LIVE and mod.refcount() == 0
    assert module_flags_taint(mod) == "OE"             # positive.after
    k.unload("positive")
    assert step() == golden("positive.rmmod.dmesg")


def test_init_region_is_freed_after_init(testmods, tainted_kernel):
    """A later jump into .init.text faults; the core (exit) is still there."""
    k = tainted_kernel()
    mod = k.load(mod_path(testmods, "hello"))
    init_addr = mod.init_addr
    assert init_addr and not mod.within(init_addr)
    step = Steps(k)
    step()
    k.call(mod.exit_addr)
    assert step() == golden("hello-default.rmmod.dmesg")
    with pytest.raises(MemoryFault) as fault:
        k.call(init_addr)
    assert fault.value.access == "fetch"
    assert fault.value.addr == init_addr


def test_second_load_of_a_loaded_name_is_eexist(testmods, tainted_kernel):
    k = tainted_kernel()
    first = k.load(mod_path(testmods, "hello"))
    step = Steps(k)
    step()
    with pytest.raises(LoadError) as exc:
        k.load(mod_path(testmods, "hello"), "who=again")
    assert exc.value.errno == errno.EEXIST == golden_errno("hello-twice")
    assert step() == golden("hello-twice.dmesg") == []
    assert k.modules["hello"] is first and first.state == ModuleState.LIVE
    k.unload("hello")
    assert step() == golden("hello-default.rmmod.dmesg")


# ------------------------------------------------------------- refcounting

def test_refcounts_as_the_module_sees_them(testmods, tainted_kernel):
    """refs.ko: get/put pairs in init; in exit try_module_get fails and the count is -1."""
    k = tainted_kernel()
    step = Steps(k)
    mod = k.load(mod_path(testmods, "refs"))
    assert step() == golden("refs.dmesg")
    assert golden("refs.state") == [f"refs initstate=live refcnt={mod.refcount()} "
                                    f"taint={module_flags_taint(mod)} holders=".encode()]
    k.unload("refs")
    assert step() == golden("refs.rmmod.dmesg")


WARN_KEPT = (b"refs: ", b"------------[ cut here ]", b"WARNING: ", b"Modules linked in: ",
             b" refs_exit+", b"---[ end trace")


def _rebuilt(ko: str) -> bool:
    """True when testmods/KO is not the file the lifecycle goldens were recorded with."""
    import hashlib
    for line in (EXPECTED / "lifecycle-modules.sha256").read_text().splitlines():
        digest, _, name = line.partition("  ")
        if name == ko:
            return hashlib.sha256((TESTMODS / ko).read_bytes()).hexdigest() != digest
    raise KeyError(ko)


def _reproducible_warn(lines: list[bytes]) -> list[bytes]:
    """The lines of a WARN that do not depend on the machine (PID masked)."""
    import re
    out = []
    for line in lines:
        text = line[3:]
        if text.startswith(WARN_KEPT):
            line = re.sub(rb" PID: \d+ ", b" PID: N ", line)
            line = re.sub(rb" \(\w+\.[ch]:\d+\)$", b"", line)    # kemu's file:line annotation
            if text.startswith(b" refs_exit+") and _rebuilt("refs.ko"):
                line = re.sub(rb"\+0x[0-9a-f]+/0x[0-9a-f]+", b"+OFF/SIZE", line)
            out.append(line)
    return out


def test_module_put_underflow_warns(testmods, tainted_kernel):
    """A put without a get: WARN_ON in module_put (count unchanged), taint W."""
    k = tainted_kernel()
    k.load(mod_path(testmods, "refs"))
    k.unload("refs")                            # as in the oracle job: [last unloaded: refs(OE)]
    step = Steps(k)
    step()
    k.load(mod_path(testmods, "refs"), "underflow=1")
    assert step() == golden("refs-underflow.dmesg")
    assert "W" not in k.taints
    k.unload("refs")
    got = step()
    want = golden("refs-underflow.rmmod.dmesg")
    assert _reproducible_warn(got) == _reproducible_warn(want)
    assert len(_reproducible_warn(want)) == 7
    assert got[-1] == want[-1] == b"<6>refs: after extra module_put refcount=-1"
    assert "W" in k.taints


# ------------------------------------------------------- holders, exports

def test_user_holds_exporter(testmods, tainted_kernel):
    """user resolves exporter's symbols: exporter's holder; exporter cannot go first."""
    k = tainted_kernel()
    step = Steps(k)
    exporter = k.load(mod_path(testmods, "exporter"))
    user = k.load(mod_path(testmods, "user"))
    step()
    assert exporter.holders == [user] and user.uses == [exporter]
    assert proc_modules_masked(k) == golden("exporter-user.modules")
    assert unload_errno(k, "exporter") == errno.EWOULDBLOCK
    assert unload_errno(k, "exporter", force=True) == errno.EWOULDBLOCK   # force does not help
    assert step() == golden("exporter.rmmod-busy.dmesg") == []
    assert "R" not in k.taints and exporter.state == ModuleState.LIVE
    k.unload("user")
    assert step() == golden("user.rmmod.dmesg")
    assert exporter.holders == [] and exporter.refcount() == 0
    k.unload("exporter")
    assert step() == golden("exporter.rmmod.dmesg")


def test_failed_load_drops_the_references_it_took(testmods, tainted_kernel):
    """nongpl_user fails after resolving exporter's plain export: exporter is free again."""
    k = tainted_kernel()
    exporter = k.load(mod_path(testmods, "exporter"))
    with pytest.raises(LoadError) as exc:
        k.load(mod_path(testmods, "solo/nongpl_user"))
    assert exc.value.errno == errno.ENOENT
    assert "nongpl_user" not in k.modules
    assert exporter.holders == [] and exporter.refcount() == 0
    k.unload("exporter")


def test_duplicate_export_is_refused(testmods, tainted_kernel):
    k = tainted_kernel()
    step = Steps(k)
    exporter = k.load(mod_path(testmods, "exporter"))
    step()
    with pytest.raises(LoadError) as exc:
        k.load(mod_path(testmods, "solo/dupexport"))
    assert exc.value.errno == errno.ENOEXEC == golden_errno("dupexport-dup")
    assert step() == golden("dupexport-dup.dmesg")
    assert "dupexport" not in k.modules and exporter.state == ModuleState.LIVE
    k.unload("exporter")
    step()
    k.load(mod_path(testmods, "solo/dupexport"))            # alone it is fine
    assert step() == golden("dupexport-alone.dmesg")
    k.unload("dupexport")
    assert step() == golden("dupexport-alone.rmmod.dmesg")


def _rmmod_force_boot(k, testmods):
    """The oracle's rmmod-force boot up to the exporter: R taint, lock debugging off."""
    k.load(mod_path(testmods, "noexit"))
    k.unload("noexit", force=True)
    k.load(mod_path(testmods, "exporter"))


def test_gpl_only_export_invisible_to_proprietary_module(testmods, tainted_kernel):
    k = tainted_kernel()
    _rmmod_force_boot(k, testmods)
    step = Steps(k)
    step()
    for tag in ("nongpl_user", "nongpl_user-again"):
        with pytest.raises(LoadError) as exc:
            k.load(mod_path(testmods, "solo/nongpl_user"))
        assert exc.value.errno == golden_errno(tag) == errno.ENOENT
        assert step() == golden(f"{tag}.dmesg")
    assert proc_modules_masked(k) == golden("nongpl_user.modules")


def test_gpl_only_symbol_unknown_to_proprietary_module(testmods, tainted_kernel):
    """The part of the above kemu gets right: the GPL-only symbol is not found (-ENOENT)."""
    k = tainted_kernel()
    _rmmod_force_boot(k, testmods)
    step = Steps(k)
    step()
    with pytest.raises(LoadError) as exc:
        k.load(mod_path(testmods, "solo/nongpl_user"))
    assert exc.value.errno == errno.ENOENT
    log = step()
    assert log[0] == golden("nongpl_user.dmesg")[0]        # the license taint line
    assert log[-1] == golden("nongpl_user.dmesg")[-1] == \
        b"<4>nongpl_user: Unknown symbol exporter_gpl_value (err -2)"
    assert "P" in k.taints


# ------------------------------------------------------------ delete_module

def test_unload_not_loaded_is_enoent(tainted_kernel):
    k = tainted_kernel()
    assert unload_errno(k, "hello") == errno.ENOENT
    assert unload_errno(k, "hello", force=True) == errno.ENOENT
    assert dmesg_lines(k) == golden("rmmod-not-loaded.dmesg") == []
    assert "R" not in k.taints


def test_unload_during_init_or_exit_is_ebusy(testmods, tainted_kernel):
    """Not LIVE (COMING in init, GOING in exit): -EBUSY, forced or not."""
    k = tainted_kernel()
    tried = {}

    def listener(rec):
        phase = rec.text.split(" ")[1]
        if phase in ("init", "exit") and phase not in tried:
            tried[phase] = (unload_errno(k, "refs"), unload_errno(k, "refs", force=True))
    k.log.listeners.append(listener)
    k.load(mod_path(testmods, "refs"))
    k.unload("refs")
    k.log.flush()
    assert tried == {"init": (errno.EBUSY, errno.EBUSY), "exit": (errno.EBUSY, errno.EBUSY)}
    assert "R" not in k.taints


def test_noexit_needs_force_and_force_taints_r(testmods, tainted_kernel):
    """init without exit: -EBUSY; forced: removed silently, R (lock debugging off)."""
    k = tainted_kernel()
    step = Steps(k)
    mod = k.load(mod_path(testmods, "noexit"))
    assert step() == golden("noexit.dmesg")
    assert unload_errno(k, "noexit") == errno.EBUSY
    assert step() == golden("noexit-busy.dmesg") == []
    assert mod.state == ModuleState.LIVE and "R" not in k.taints
    k.unload("noexit", force=True)
    assert step() == golden("noexit-force-first.dmesg")
    assert tainted_value(k) == golden("noexit-force-first.tainted")
    assert proc_modules_masked(k) == golden("noexit-force-first.modules") == []


def test_pinned_module_needs_force(testmods, tainted_kernel):
    """References held: -EWOULDBLOCK, the count untouched; forced: exit runs, R."""
    k = tainted_kernel()
    step = Steps(k)
    k.load(mod_path(testmods, "noexit"))
    pinself = k.load(mod_path(testmods, "pinself"))
    assert step() == golden("noexit.dmesg") + golden("pinself.dmesg")
    assert unload_errno(k, "pinself") == errno.EWOULDBLOCK
    assert step() == golden("pinself-busy.dmesg") == []
    assert pinself.refcount() == 1 and "R" not in k.taints
    assert proc_modules_masked(k) == golden("pinself-noexit.modules")
    k.unload("pinself", force=True)
    assert step() == golden("pinself-force-first.dmesg")
    assert tainted_value(k) == golden("pinself-force-first.tainted")
    k.unload("noexit", force=True)
    assert step() == golden("noexit-force-after.dmesg") == []
    assert proc_modules_masked(k) == golden("final.modules") == []


# ------------------------------------------------------------ load checks

def test_vermagic_mismatch_is_refused(testmods, tainted_kernel):
    k = tainted_kernel()
    data = patch_vermagic((testmods / "hello.ko").read_bytes())
    with pytest.raises(LoadError) as exc:
        k.load(mod_path(testmods, "hello"), data=data)
    assert exc.value.errno == errno.ENOEXEC == golden_errno("vermagic-bad")
    assert dmesg_lines(k) == golden("vermagic-bad.dmesg")
    assert tainted_value(k) == golden("vermagic-crc-bad.tainted")
    assert "hello" not in k.modules


def test_crc_mismatch_is_refused(testmods, tainted_kernel):
    k = tainted_kernel()
    data = patch_crc((testmods / "hello.ko").read_bytes())
    with pytest.raises(LoadError) as exc:
        k.load(mod_path(testmods, "hello"), data=data)
    assert exc.value.errno == errno.EINVAL == golden_errno("crc-bad")
    assert dmesg_lines(k) == golden("crc-bad.dmesg")
    assert tainted_value(k) == golden("vermagic-crc-bad.tainted")
    assert "hello" not in k.modules


PATCHES = {"": lambda data: data, "vermagic": patch_vermagic, "crc": patch_crc}


@pytest.mark.parametrize("step_name,patch,flags", [
    ("force-hello", "", 3),
    ("vermagic-bad-force", "vermagic", 3),
    ("vermagic-bad-flag2", "vermagic", 2),      # MODULE_INIT_IGNORE_VERMAGIC only
    ("crc-bad-force", "crc", 3),
    ("crc-bad-flag2", "crc", 2),                # vermagic forced (F stays), CRC still checked
])
def test_forced_load_into_tainted_kernel(step_name, patch, flags, testmods, tainted_kernel):
    """insmod -f (finit_module flags) against the real kernel, already O+E tainted."""
    k = tainted_kernel()
    data = PATCHES[patch]((testmods / "hello.ko").read_bytes())
    err = 0
    try:
        k.load(mod_path(testmods, "hello"), data=data, flags=flags)
    except KemuError as exc:
        err = exc.errno
    assert err == golden_errno(step_name)
    assert dmesg_lines(k) == golden(f"{step_name}.dmesg")
    assert proc_modules_masked(k) == golden(f"{step_name}.modules")
    if (EXPECTED / f"{step_name}.tainted").exists():
        assert tainted_value(k) == golden(f"{step_name}.tainted")
    assert "F" in k.taints
    if not err:
        assert module_flags_taint(k.modules["hello"]) == "FOE"
        step = Steps(k)
        step()
        k.unload("hello")
        assert step() == golden(f"{step_name}.rmmod.dmesg")


def test_forced_load_into_fresh_kernel(testmods):
    """The first load of the boot forced: F's line, lock debugging off, then O and E."""
    from kemu import Kernel
    k = Kernel()
    step = Steps(k)
    k.load(mod_path(testmods, "hello"), force=True)
    assert step() == golden("force-hello-fresh.dmesg")
    assert proc_modules_masked(k) == golden("force-hello-fresh.modules")
    assert tainted_value(k) == golden("force-hello-fresh.tainted")
    k.unload("hello")
    assert step() == golden("force-hello-fresh.rmmod.dmesg")
    k.load(mod_path(testmods, "hello"), force=True)         # F already set: no line at all
    assert step() == golden("force-hello-again.dmesg")
    k.unload("hello")
    assert step() == golden("force-hello-again.rmmod.dmesg")


def test_license_and_origin_taints(testmods, tainted_kernel):
    """P for a proprietary license (with the kernel's words), O out-of-tree, E unsigned."""
    k = tainted_kernel()
    nongpl = k.load(mod_path(testmods, "nongpl"))
    hello = k.load(mod_path(testmods, "hello"))
    assert dmesg_lines(k)[:len(golden("nongpl.dmesg"))] == golden("nongpl.dmesg")
    assert golden("nongpl.state") == [f"nongpl initstate=live refcnt=0 "
                                      f"taint={module_flags_taint(nongpl)} holders=".encode()]
    assert module_flags_taint(hello) == "OE"
    assert tainted_value(k) == [b"12289"]                   # P + O + E, as README says
