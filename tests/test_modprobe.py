"""Module trees as modprobe sees them: aliases, soft dependencies, request_module()."""
import json
import re
import os
import subprocess
import sys

import pytest

from kemu.kernel.facade import Kernel
from kemu.module.modprobe import ModuleTree, parse_softdep, shared_tree


@pytest.fixture(scope="module")
def tree(debian_modules):
    return shared_tree(str(debian_modules))


def test_parse_softdep():
    assert parse_softdep("pre: crc32c post: a b") == (["crc32c"], ["a", "b"])
    assert parse_softdep("post: x") == ([], ["x"])
    assert parse_softdep("") == ([], [])


def test_names_aliases_and_dependencies(tree):
    assert tree.lookup("nls_euc-jp") == ["nls_euc_jp"]
    # crc32c is an alias of both implementations, as in Debian's modules.alias
    assert set(tree.lookup("crypto-crc32c")) == {"crc32c_generic", "crc32c_intel"}
    assert tree.lookup("fs-vfat") == ["vfat"]
    assert tree.lookup("no-such-module-anywhere") == []
    assert tree.depends("vfat") == ["fat", "vfat"]


def test_modprobe_order_puts_soft_dependencies_first(tree):
    order = tree.modprobe_order("libcrc32c")
    assert order[-1] == "libcrc32c"
    assert "crc32c_generic" in order[:-1]
    assert tree.modprobe_order("libcrc32c", softdeps=False) == ["libcrc32c"]
    conntrack = tree.modprobe_order("nf_conntrack")
    assert conntrack.index("libcrc32c") < conntrack.index("nf_conntrack")
    assert conntrack.index("nf_defrag_ipv4") < conntrack.index("nf_conntrack")


def test_request_module_loads_from_the_tree(debian_modules):
    # nls_euc-jp's init calls load_nls("cp932"), which asks modprobe for nls_cp932
    k = Kernel(modules=str(debian_modules))
    k.load(str(debian_modules / "fs/nls/nls_euc-jp.ko"))
    assert "nls_cp932" in k.modules
    assert k.modules["nls_cp932"].state.name == "LIVE"
    # the reference load_nls() took pins nls_cp932 until nls_euc_jp lets go
    with pytest.raises(Exception) as busy:
        k.unload("nls_cp932")
    assert busy.value.errno == 11                           # EWOULDBLOCK: refcount held
    k.unload("nls_euc_jp")
    k.unload("nls_cp932")
    assert k.findings == [] and k.registrations == {}


def test_request_module_without_a_tree_fails_with_a_note(debian_modules, monkeypatch,
                                                         tmp_path):
    # a loose copy, no module tree above it and none on the system: the request fails
    import kemu.module.modprobe
    monkeypatch.delenv("KEMU_MODULES", raising=False)
    monkeypatch.setattr(kemu.module.modprobe, "default_trees", lambda release: [])
    loose = tmp_path / "nls_euc-jp.ko"
    loose.write_bytes((debian_modules / "fs/nls/nls_euc-jp.ko").read_bytes())
    k = Kernel()
    with pytest.raises(Exception) as info:
        k.load(str(loose))
    assert getattr(info.value, "errno", None) == 22        # init returned -EINVAL
    assert any("request_module(nls_cp932)" in n for n in k.notes)
    assert "nls_cp932" not in k.modules


def test_request_module_defaults_to_the_tree_the_module_came_from(debian_modules,
                                                                 monkeypatch):
    # as modprobe reads /lib/modules/RELEASE: libcrc32c's crypto_alloc_shash("crc32c")
    # requests crypto-crc32c, found in the tree libcrc32c.ko itself was loaded from
    import kemu.module.modprobe
    monkeypatch.delenv("KEMU_MODULES", raising=False)
    monkeypatch.setattr(kemu.module.modprobe, "default_trees", lambda release: [])
    k = Kernel()
    k.load(str(debian_modules / "lib/libcrc32c.ko"))
    assert "crc32c_generic" in k.modules
    assert any("modules come from" in n for n in k.notes)
    k.unload("libcrc32c")
    assert k.findings == []


def test_request_module_of_an_unknown_name_returns_modprobes_status(debian_modules):
    from kemu.stubs.kernel.kmod import request_module
    k = Kernel(modules=str(debian_modules))
    gen = request_module(k, "no-such-module-anywhere")
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == 256                          # modprobe exited 1


def test_survey_loads_soft_dependencies_and_runs_in_parallel(debian_modules, tmp_path):
    out = subprocess.run([sys.executable, "-m", "kemu", "survey", "--json", "-j", "2",
                          str(debian_modules / "fs/nls")], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "KEMU_MODULES": ""})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    outcomes = {m["module"]: m for m in report["modules"]}
    assert len(outcomes) == report["summary"]["modules"] > 40
    # nls_euc-jp and nls_koi8-ru request their base tables from the tree
    assert outcomes["nls_euc_jp"]["outcome"] == "ok"
    assert outcomes["nls_koi8_ru"]["outcome"] == "ok"
    assert report["summary"]["clean"] == len(outcomes)


def test_survey_reports_by_category(debian_modules):
    """The text report: the modules that did not come out clean, a table by
    category (drivers/X, net/X and sound/X apart, else the top directory), the
    totals; no per-module progress lines unless -v."""
    root = debian_modules / "fs"
    out = subprocess.run([sys.executable, "-m", "kemu", "survey", "-j", "2", str(root / "nls")],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "KEMU_MODULES": "", "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "[1/" not in out.stderr                      # not a terminal, not -v: quiet
    assert re.search(r"^\s*\d+ modules: \d+ ok \(100%\), \d+ of them clean \(100%\)",
                     out.stdout, re.M), out.stdout
    verbose = subprocess.run([sys.executable, "-m", "kemu", "survey", "-v", str(root / "nls")],
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, "KEMU_MODULES": "", "COLUMNS": "200"})
    assert re.search(r"^\[1/\d+\] \w+: ok$", verbose.stderr, re.M), verbose.stderr
    assert re.search(r"^\s*nls_cp437\s+ok\s*$", verbose.stdout, re.M)


def test_survey_categories():
    from kemu.survey import Outcome, category_of, summarize
    root = "/lib/modules/6.1.0-57-amd64/kernel"
    assert category_of(f"{root}/drivers/iio/adc/ad7091r5.ko", root) == "drivers/iio"
    assert category_of(f"{root}/net/netfilter/xt_mark.ko", root) == "net/netfilter"
    assert category_of(f"{root}/fs/nls/nls_cp437.ko", root) == "fs"
    assert category_of(f"{root}/crypto/cmac.ko", root) == "crypto"
    assert category_of(f"{root}/x.ko", root) == "."
    results = [Outcome("a", f"{root}/fs/a.ko"), Outcome("b", f"{root}/fs/b.ko", outcome="lockup"),
               Outcome("c", f"{root}/fs/c.ko", findings=["leak"]),
               Outcome("d", f"{root}/drivers/hid/d.ko")]
    cats = summarize(results, root)["categories"]
    assert cats == {"fs": {"modules": 3, "ok": 2, "clean": 1},
                    "drivers/hid": {"modules": 1, "ok": 1, "clean": 1}}
    assert list(cats) == ["fs", "drivers/hid"]              # largest first


def test_survey_jobs_must_be_positive(debian_modules):
    out = subprocess.run([sys.executable, "-m", "kemu", "survey", "-j", "0",
                          str(debian_modules / "fs/nls")], capture_output=True, text=True)
    assert out.returncode == 2
    assert "must be at least 1" in out.stderr and "Traceback" not in out.stderr


def test_modules_option_must_be_a_directory(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kemu", "lsmod", "--modules",
                          str(tmp_path / "nope")], capture_output=True, text=True)
    assert out.returncode == 2 and "not a directory" in out.stderr


def test_tree_without_modules_dep_reads_modinfo(tmp_path, debian_modules):
    (tmp_path / "a").mkdir()
    src = debian_modules / "fs/nls/nls_cp932.ko"
    (tmp_path / "a" / "nls_cp932.ko").write_bytes(src.read_bytes())
    t = ModuleTree(str(tmp_path))
    assert list(t.entries) == ["nls_cp932"]
    assert t.path("nls-cp932") == str(tmp_path / "a" / "nls_cp932.ko")


def test_index_is_cached_and_follows_the_tree(tmp_path, debian_modules, monkeypatch):
    monkeypatch.setenv("KEMU_CACHE", str(tmp_path / "cache"))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "nls_cp932.ko").write_bytes((debian_modules / "fs/nls/nls_cp932.ko").read_bytes())
    assert list(ModuleTree(str(tree)).entries) == ["nls_cp932"]
    assert len(list((tmp_path / "cache").glob("modindex-*.json"))) == 1
    assert ModuleTree(str(tree)).lookup("nls_cp932") == ["nls_cp932"]      # from the cache
    (tree / "nls_euc-jp.ko").write_bytes((debian_modules / "fs/nls/nls_euc-jp.ko").read_bytes())
    assert sorted(ModuleTree(str(tree)).entries) == ["nls_cp932", "nls_euc_jp"]


def test_survey_of_a_loose_directory_finds_dependencies_in_the_module_tree(tmp_path,
                                                                           debian_modules):
    # modules copied out of their tree: nls_euc-jp requests nls_cp932, vfat needs fat
    for rel in ("fs/nls/nls_euc-jp.ko", "fs/fat/vfat.ko"):
        (tmp_path / rel.split("/")[-1]).write_bytes((debian_modules / rel).read_bytes())
    out = subprocess.run([sys.executable, "-m", "kemu", "survey", "--json", "--modules",
                          str(debian_modules.parent), str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = {m["module"]: m for m in json.loads(out.stdout)["modules"]}
    assert sorted(report) == ["nls_euc_jp", "vfat"]
    assert report["nls_euc_jp"]["outcome"] == "ok" and report["nls_euc_jp"]["findings"] == []
    assert report["vfat"]["outcome"] == "ok" and report["vfat"]["findings"] == []


def test_a_session_replays_request_module_with_the_tree_it_used(tmp_path, debian_modules,
                                                                  monkeypatch):
    monkeypatch.delenv("KEMU_MODULES", raising=False)
    session = ["--session", str(tmp_path / "s")]

    def kemu(*argv):
        return subprocess.run([sys.executable, "-m", "kemu", *argv], capture_output=True,
                              text=True, timeout=120)
    out = kemu("load", *session, "--modules", str(debian_modules.parent),
               str(debian_modules / "fs/nls/nls_euc-jp.ko"))
    assert out.returncode == 0, out.stderr
    # a later command without --modules replays the journal with the same tree
    lsmod = kemu("lsmod", *session)
    assert lsmod.returncode == 0, lsmod.stderr
    names = [line.split()[0] for line in lsmod.stdout.splitlines()[1:]]
    assert sorted(names) == ["nls_cp932", "nls_euc_jp"]
    # load_nls()'s reference shows as a use count without a holder name, as in Linux
    cp932 = [line for line in lsmod.stdout.splitlines() if line.startswith("nls_cp932")][0]
    assert cp932.split()[2:] == ["1"]
