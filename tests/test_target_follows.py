"""The target follows the module: a kernel becomes the release its first module
was built for (shipped, cached, or described from that release's headers), keeps
it, and says clearly what to install when it cannot describe a release."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import kemu.target as target_mod
from conftest import module_release
from kemu import Kernel
from kemu.errors import LoadError
from kemu.target import TargetError, find_target, generate_target
from test_lifecycle import patch_crc

FAKE = "6.1.0-99-amd64"          # a release no machine has headers of


def with_release(data: bytes, old: str, new: str) -> bytes:
    """The module's vermagic release replaced (same length), as if built for ``new``."""
    assert len(old) == len(new)
    return data.replace(f"vermagic={old} ".encode(), f"vermagic={new} ".encode())


@pytest.fixture(scope="module")
def release(testmods) -> str:
    return module_release(testmods / "hello.ko")


@pytest.fixture(scope="module")
def described(release, tmp_path_factory):
    """A description of the testmods' release, generated once into a cache of its own."""
    kdir = target_mod.headers_for(release)
    assert kdir is not None, f"no headers of {release}, which testmods/ were built for"
    out = tmp_path_factory.mktemp("cache") / "targets" / f"{release}.json"
    heard = []
    generate_target(kdir, out, progress=heard.append)
    assert heard and release in heard[0] and str(kdir) in heard[0]
    return out


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty kemu cache, nothing shipped: every release must be found or described."""
    monkeypatch.setenv("KEMU_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("KEMU_TARGET", raising=False)
    monkeypatch.setattr(target_mod, "available_targets", lambda: [])
    target_mod._load.cache_clear()
    yield target_mod.cache_dir()
    target_mod._load.cache_clear()


def test_first_module_fixes_the_kernel(testmods, release, described, cache):
    cache.mkdir(parents=True)
    shutil.copy(described, cache)
    k = Kernel()
    assert not k.target_fixed
    k.load(testmods / "hello.ko")
    assert k.target_fixed and k.target.release == release
    assert k.target.vermagic.split()[0] == release
    assert "hello: hello, world (count=1)" in k.dmesg


def test_described_from_headers_once_and_atomically(testmods, release, cache, capsys):
    k = Kernel()
    k.load(testmods / "hello.ko")
    assert k.target.release == release
    err = capsys.readouterr().err
    assert err.count(f"kemu: describing Linux {release}") == 1
    assert sorted(p.name for p in cache.iterdir()) == [f".{release}.json.lock",
                                                       f"{release}.json"]
    assert json.loads((cache / f"{release}.json").read_text())["release"] == release
    target_mod._load.cache_clear()
    Kernel().load(testmods / "hello.ko")            # the second kernel finds it cached
    assert "describing" not in capsys.readouterr().err


def test_a_later_module_of_another_release_fails_as_linux_fails(testmods, release):
    k = Kernel()
    k.load(testmods / "hello.ko")
    other = patch_crc(with_release((testmods / "params.ko").read_bytes(), release, FAKE),
                      "module_layout")
    with pytest.raises(LoadError) as failed:
        k.load("params.ko", data=other)
    assert failed.value.errno == 8                   # ENOEXEC, as init_module(2) returns
    assert k.dmesg[-1] == "params: disagrees about version of symbol module_layout"
    assert any(f"built for Linux {FAKE}, this kernel is {release}" in n for n in k.notes)


def test_no_description_and_no_headers(testmods, release, cache):
    data = with_release((testmods / "hello.ko").read_bytes(), release, FAKE)
    with pytest.raises(TargetError) as failed:
        Kernel().load("hello.ko", data=data)
    text = str(failed.value)
    assert "\n" not in text
    assert f"hello.ko was built for Linux {FAKE}" in text
    assert f"apt-get install linux-headers-{FAKE}" in text and "--target" in text
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_force_loads_into_the_kernel_there_is(testmods, release):
    data = with_release((testmods / "hello.ko").read_bytes(), release, FAKE)
    k = Kernel()
    mod = k.load("hello.ko", data=data, force=True)
    assert mod.name == "hello" and "F" in k.taints
    assert any(f"built for Linux {FAKE}, which kemu cannot describe" in n for n in k.notes)


def test_a_module_without_vermagic_needs_a_target(testmods, release, described):
    data = (testmods / "hello.ko").read_bytes().replace(b"vermagic=", b"vermagix=")
    with pytest.raises(TargetError, match="has no vermagic.*--target"):
        Kernel().load("hello.ko", data=data)
    k = Kernel(target=str(described))               # as Linux: loaded, forced, tainted F
    k.load("hello.ko", data=data)
    assert k.dmesg[0] == "hello: bad vermagic: kernel tainted."


def test_damaged_cache_is_named_with_its_fix(testmods, release, described, cache):
    cache.mkdir(parents=True)
    damaged = cache / f"{release}.json"
    damaged.write_bytes(described.read_bytes()[:5000])
    with pytest.raises(TargetError) as failed:
        Kernel().load(testmods / "hello.ko")
    assert str(failed.value).startswith(f"kernel description {damaged} is damaged (")
    assert f"rm {damaged}" in str(failed.value)


def test_unwritable_cache(testmods, release, cache, monkeypatch):
    monkeypatch.setenv("KEMU_CACHE", "/dev/null/kemu")
    with pytest.raises(TargetError, match="cannot write kernel descriptions to "
                                          "/dev/null/kemu/targets/[0-9a-f]+: .*KEMU_CACHE"):
        Kernel().load(testmods / "hello.ko")


def test_headers_whose_probe_build_fails(release, tmp_path, cache):
    real = target_mod.headers_for(release)
    broken = tmp_path / f"linux-headers-{release}"
    broken.mkdir()
    for name in ("Module.symvers", ".config"):
        shutil.copy(real / name, broken / name)
    (broken / "include/generated").mkdir(parents=True)
    shutil.copy(real / "include/generated/utsrelease.h", broken / "include/generated")
    (broken / "Makefile").write_text("modules:\n\t@echo no compiler here >&2; exit 1\n")
    with pytest.raises(TargetError) as failed:
        generate_target(broken, progress=lambda text: None)
    assert str(failed.value).startswith(f"cannot describe Linux {release} from {broken}: "
                                        "probe build failed")
    assert f"--headers {broken} -v" in str(failed.value)
    assert not list(cache.glob("*.json")) and not list(cache.glob("*.tmp"))


# ------------------------------------------------------------------ the CLI

def kemu(*args, env, check=None):
    proc = subprocess.run([sys.executable, "-m", "kemu", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr
    if check is not None:
        assert proc.returncode == check, proc.stderr
    return proc


@pytest.fixture
def env(tmp_path, described):
    cache = tmp_path / "cache" / "targets" / target_mod.generator_digest()
    cache.mkdir(parents=True)
    shutil.copy(described, cache)
    return dict(os.environ, KEMU_CACHE=str(tmp_path / "cache"),
                KEMU_SESSION=str(tmp_path / "session"), NO_COLOR="1")


def test_cli_session_keeps_the_release_of_its_first_module(testmods, release, env, tmp_path):
    kemu("run", testmods / "hello.ko", env=env, check=0)
    journal = json.loads((tmp_path / "session" / "journal.jsonl").read_text().splitlines()[0])
    assert journal["target"] == release
    assert kemu("lsmod", env=env, check=0).stdout.splitlines()[1].startswith("hello ")
    fake = tmp_path / "params.ko"
    fake.write_bytes(patch_crc(with_release((testmods / "params.ko").read_bytes(), release,
                                            FAKE), "module_layout"))
    refused = kemu("load", fake, env=env, check=1)
    assert refused.stderr.splitlines()[-1] == \
        f"kemu: ERROR: could not insert module {fake}: Invalid module format"
    assert f"built for Linux {FAKE}, this kernel is {release}" in refused.stderr


def test_cli_no_headers_is_exit_2_with_the_fix(testmods, release, env, tmp_path):
    fake = tmp_path / "hello.ko"
    fake.write_bytes(with_release((testmods / "hello.ko").read_bytes(), release, FAKE))
    failed = kemu("run", fake, env=env, check=2)
    assert failed.stdout == ""
    [line] = failed.stderr.splitlines()
    assert line.startswith(f"kemu: ERROR: {fake} was built for Linux {FAKE}; kemu has ")
    assert f"'apt-get install linux-headers-{FAKE}'" in line
    forced = kemu("run", "--force", fake, env=env, check=0)
    assert "hello: hello, world (count=1)" in forced.stdout


def test_cli_targets_lists_and_generates(release, env, tmp_path):
    listing = kemu("targets", env=env, check=0).stdout.splitlines()
    shipped = [line for line in listing if line.endswith(" shipped")]
    assert [line.split()[0] for line in shipped] == target_mod.available_targets()
    mine = [line for line in listing if line.split()[0] == release]
    assert len(mine) == 1 and (mine[0].endswith(" shipped") or " cached " in mine[0])
    out = tmp_path / "cache" / "targets" / target_mod.generator_digest() / f"{release}.json"
    out.unlink()
    made = kemu("targets", "--generate", target_mod.headers_for(release), env=env, check=0)
    assert made.stdout.strip() == str(out)
    assert json.loads(out.read_text())["release"] == release
    bad = kemu("targets", "--generate", tmp_path / "nope", env=env, check=2)
    assert bad.stderr.strip() == f"kemu: targets: {tmp_path / 'nope'}: not a directory"
