"""Tests of kemu.target: the shipped Debian 6.1 description and its generator."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

import pytest

from kemu.target import (DEFAULT_TARGET, Export, ExportInfo, Target,
                         TargetKeyError, UnknownConstant, UnknownMember,
                         UnknownType, available_targets, load_target)
from kemu.target import gen
import kemu.target as target_mod

PKG_DIR = Path(gen.__file__).resolve().parent
SHIPPED = PKG_DIR / f"{DEFAULT_TARGET}.json"


@pytest.fixture(scope="module")
def t() -> Target:
    return load_target()


# -- the shipped file -------------------------------------------------------

def test_default_target_is_shipped(t):
    assert DEFAULT_TARGET in available_targets()
    assert SHIPPED.is_file()
    assert t.release == DEFAULT_TARGET
    assert t.data["format"] == 1
    assert t.arch == "x86_64"
    assert set(t.data) >= {"release", "vermagic", "module_layout_crc",
                           "sizes", "offsets", "consts", "symbols",
                           "config", "missing"}


def test_load_by_name_and_path_are_cached(t):
    assert load_target(DEFAULT_TARGET) is t
    by_path = load_target(SHIPPED)
    assert by_path.release == t.release
    assert load_target(str(SHIPPED)) is by_path


def test_unknown_target():
    with pytest.raises(FileNotFoundError):
        load_target("0.0.0-nope-amd64")
    with pytest.raises(FileNotFoundError):
        load_target("/nonexistent/dir/x.json")


def test_vermagic(t):
    assert t.vermagic == (f"{t.release} SMP preempt mod_unload "
                          f"modversions ")
    assert t.module_layout_crc == t.get_export("module_layout").crc


def test_struct_module(t):
    size = t.sizeof("module")
    assert size == t.sizeof("struct module") == 0x380
    assert t.offset("module.state") == 0
    assert t.offset("module.list") == 8
    assert t.offset("module.name") == 24
    assert t.offset("module.init") == 0x138
    assert t.offset("module.exit") == 0x350
    assert t.offset("module.refcnt") == 0x358
    assert t.offset("module.name") + t.const("MODULE_NAME_LEN") <= \
        t.offset("module.mkobj")
    core = t.offset("module.core_layout")
    assert t.offset("module.core_layout.base") == core
    assert t.offset("module.core_layout.size") == core + 8
    for member in ("syms", "num_syms", "gpl_syms", "num_gpl_syms", "kp",
                   "num_kp", "taints", "percpu", "percpu_size", "args",
                   "arch", "source_list", "target_list", "init_layout"):
        assert 0 < t.offset(f"module.{member}") < size, member


def test_kernel_param(t):
    assert t.sizeof("kernel_param") == 40
    assert t.offset("kernel_param.name") == 0
    assert t.offset("kernel_param.mod") == 8
    assert t.offset("kernel_param.ops") == 16
    assert t.offset("kernel_param.perm") == 24
    assert t.offset("kernel_param.level") == 26
    assert t.offset("kernel_param.flags") == 27
    # union { arg; str; arr; }
    for m in ("arg", "str", "arr"):
        assert t.offset(f"kernel_param.{m}") == 32
    assert t.sizeof("kernel_param_ops") == 32
    assert t.offset("kernel_param_ops.set") == 8
    assert t.sizeof("kernel_symbol") == 12
    assert t.offset("kernel_symbol.namespace_offset") == 8


def test_misc_layouts(t):
    assert t.sizeof("list_head") == 16
    assert t.sizeof("spinlock_t") == 4
    assert t.offset("fixed_percpu_data.stack_canary") == 40
    assert t.offset("task_struct.__state") == 24
    assert t.sizeof("bug_entry") == 12
    assert t.sizeof("exception_table_entry") == 12
    assert t.sizeof("orc_entry") == 6
    assert t.sizeof("jump_entry") == 16
    assert t.sizeof("alt_instr") == 12
    assert t.offset("file_operations.owner") == 0
    assert t.offset("sk_buff.len") < t.sizeof("sk_buff")
    assert t.offset("shash_alg.base") + t.sizeof("crypto_alg") <= \
        t.sizeof("shash_alg")
    for key, off in t.offsets.items():
        struct = key.split(".")[0]
        assert 0 <= off < t.sizeof(struct), key


def test_paravirt_ops_from_dwarf(t):
    ops = t.paravirt_ops()
    by_name = {v: k for k, v in ops.items()}
    assert by_name["irq.save_fl"] * 8 == \
        t.offset("paravirt_patch_template.irq.save_fl")
    for name in ("irq.irq_disable", "irq.irq_enable", "cpu.read_cr0",
                 "cpu.write_cr0", "cpu.io_delay", "mmu.read_cr2",
                 "mmu.lazy_mode.enter", "lock.queued_spin_unlock"):
        assert name in by_name, name
    assert "irq.restore_fl" not in by_name  # gone in 6.1
    assert max(ops) * 8 < t.sizeof("paravirt_patch_template")


def test_consts(t):
    c = t.const
    assert c("GFP_KERNEL") == 0xCC0
    assert c("GFP_ATOMIC") == 0xA20
    assert c("__GFP_ZERO") == 0x100
    assert c("TASK_COMM_LEN") == 16
    assert c("PAGE_SIZE") == 4096
    assert c("THREAD_SIZE") == 16384
    assert c("MODULE_NAME_LEN") == 56
    assert c("__START_KERNEL_map") == 0xFFFFFFFF80000000
    assert [c(f"MODULE_STATE_{s}") for s in
            ("LIVE", "COMING", "GOING", "UNFORMED")] == [0, 1, 2, 3]
    assert c("MODULE_INIT_IGNORE_MODVERSIONS") == 1
    assert c("MODULE_INIT_IGNORE_VERMAGIC") == 2
    assert c("O_TRUNC") == 0o1000 and c("O_NONBLOCK") == 0o4000
    assert (c("NF_DROP"), c("NF_ACCEPT"), c("NF_STOLEN")) == (0, 1, 2)
    assert c("NF_INET_PRE_ROUTING") == 0 and c("NF_INET_POST_ROUTING") == 4
    assert c("NFPROTO_IPV4") == 2
    assert c("NF_IP_PRI_FIRST") == -2**31
    assert c("TAINT_PROPRIETARY_MODULE") == 0
    assert c("TAINT_OOT_MODULE") == 12
    assert c("TAINT_FLAGS_COUNT") == 19


def test_exports(t):
    for name in ("_printk", "kmalloc_trace"):
        e = t.get_export(name)
        assert isinstance(e, ExportInfo)
        assert e.exporter == "vmlinux"
        assert e.gpl is False
        assert e.namespace == ""
    assert t.get_export("_printk").crc == 0x92997ED8
    gpl = t.get_export("register_kprobe")
    assert gpl.gpl is True and gpl.exporter == "vmlinux"
    assert t.get_export("xt_register_match").exporter == \
        "net/netfilter/x_tables"
    assert t.get_export("crypto_cipher_setkey").namespace == \
        "CRYPTO_INTERNAL"
    assert t.get_export("no_such_symbol_kemu") is None


def test_iter_exports(t):
    rows = list(t.iter_exports())
    assert len(rows) == t.num_exports() > 20000
    assert all(isinstance(r, Export) for r in rows[:10])
    names = [r.name for r in rows]
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    assert any(r.gpl for r in rows) and not all(r.gpl for r in rows)


def test_missing_names_raise_keyerror(t):
    with pytest.raises(KeyError) as ei:
        t.offset("module.no_such_member")
    assert isinstance(ei.value, UnknownMember)
    assert isinstance(ei.value, TargetKeyError)
    assert "no_such_member" in str(ei.value) and "module" in str(ei.value)
    with pytest.raises(UnknownMember, match="no_such_struct"):
        t.offset("no_such_struct.x")
    with pytest.raises(UnknownType, match="no_such_type"):
        t.sizeof("no_such_type")
    with pytest.raises(UnknownConstant, match="NO_SUCH_CONST"):
        t.const("NO_SUCH_CONST")


def test_json_is_canonical():
    """The file is exactly what gen.dumps() writes for its own content."""
    text = SHIPPED.read_text(encoding="utf-8")
    assert gen.dumps(json.loads(text)) == text


# -- generator pieces that need no headers ----------------------------------

def test_reconstruct_vermagic(tmp_path):
    cfg = {"CONFIG_X86_64": "y", "CONFIG_SMP": "y",
           "CONFIG_PREEMPT_BUILD": "y", "CONFIG_MODULE_UNLOAD": "y",
           "CONFIG_MODVERSIONS": "y"}
    assert gen.reconstruct_vermagic(tmp_path, "6.1.0-9-amd64", cfg) == \
        "6.1.0-9-amd64 SMP preempt mod_unload modversions "
    assert gen.reconstruct_vermagic(tmp_path, "x", {"CONFIG_X86_64": "y"}) \
        == "x "
    assert gen.reconstruct_vermagic(tmp_path, "x", {}) is None


def test_read_symvers(tmp_path):
    (tmp_path / "Module.symvers").write_text(
        "0x00000002\tb\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"
        "0x0000000a\ta\tfs/foo\tEXPORT_SYMBOL\tNS\n")
    res = gen.Result()
    assert gen.read_symvers(tmp_path, res) == [
        ["a", 10, 0, "fs/foo", "NS"], ["b", 2, 1, "vmlinux", ""]]


def test_write_atomic(tmp_path):
    out = tmp_path / "sub" / "x.json"
    gen.write_atomic(out, "1\n")
    gen.write_atomic(out, "2\n")
    assert out.read_text() == "2\n"
    assert os.listdir(out.parent) == ["x.json"]


# -- regeneration from the installed headers --------------------------------

def test_regenerate_from_the_installed_headers(tmp_path, testmods):
    """The headers testmods/ were built against describe their kernel: its release
    and vermagic as the modules carry them, every member and constant the shipped
    description has; on the shipped release, byte for byte the shipped file."""
    from conftest import module_release
    from kemu.module.elf import read_vermagic
    release = module_release(testmods / "hello.ko")
    kdir = target_mod.headers_for(release)
    assert kdir is not None, f"testmods/ were built for {release}, whose headers are gone"
    out = tmp_path / "regen.json"
    assert gen.main(["--headers", str(kdir), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    data = json.loads(text)
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert data["release"] == release
    assert data["vermagic"] == read_vermagic((testmods / "hello.ko").read_bytes())
    assert data["missing"] == []
    for table in ("offsets", "sizes", "bitfields"):
        assert sorted(data[table]) == sorted(shipped[table]), table
    asked = {name for name, _kind in gen.CONSTANTS}
    assert asked & set(shipped["consts"]) <= set(data["consts"])
    if release == DEFAULT_TARGET:
        assert text == SHIPPED.read_text(encoding="utf-8")


def test_every_modelled_prototype_parses_and_names_its_export():
    # prototypes are parsed lazily at link time; this keeps a typo from waiting for one
    from kemu.abi.exports import REGISTRY
    from kemu.kernel.facade import import_stub_package
    import_stub_package()
    bad = {}
    for name, defn in REGISTRY.items():
        if defn.kind == "func":
            try:
                assert defn.proto is not None and defn.proto.name == name
            except Exception as exc:                 # noqa: BLE001 - report them all
                bad[name] = f"{type(exc).__name__}: {exc}"
    assert bad == {}
