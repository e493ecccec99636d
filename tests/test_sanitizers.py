"""Heap checks: KFENCE pages, SLUB redzones and poison, double and invalid frees."""
from __future__ import annotations

import pytest

from conftest import TESTMODS
from kemu import Kernel


def line_of(needle: str) -> int:
    for number, text in enumerate((TESTMODS / "heapbugs.c").read_text().splitlines(), 1):
        if needle in text:
            return number
    raise AssertionError(needle)


def run(bug: str, kfence: bool = True, unload: bool = False):
    k = Kernel()
    if not kfence:
        k.heap.kfence_budget = 0
    mod = k.load(str(TESTMODS / "heapbugs.ko"), bug=bug)
    if unload:
        k.unload(mod)
    return k


def test_out_of_bounds_write_caught_at_the_access(testmods):
    k = run("oob")
    assert [f["kind"] for f in k.findings] == ["out-of-bounds"]
    log = k.dmesg
    assert any(l.startswith("BUG: KFENCE: out-of-bounds write in heapbugs_overflow") for l in log)
    assert any("(40B right of kfence-#" in l for l in log)
    store = line_of("buf[len] = 'X';")
    assert any(l.endswith(f"(heapbugs.c:{store})") for l in log)
    assert "heapbugs: clean" in log              # KFENCE reports, then execution goes on
    assert "B" in k.taints


def test_use_after_free_read_names_alloc_and_free_sites(testmods):
    k = run("uaf")
    log = k.dmesg
    assert any(l.startswith("BUG: KFENCE: use-after-free read in heapbugs_read_freed") for l in log)
    read_at = line_of("return READ_ONCE(*p);")
    assert any(l.startswith(" heapbugs_read_freed+") and l.endswith(f"(heapbugs.c:{read_at})")
               for l in log)
    free_line = log.index("freed by task 1 on cpu 0 at 2.000000s:") + 1
    assert log[free_line].startswith(" heapbugs_init+") and "(heapbugs.c:" in log[free_line]
    assert [f["kind"] for f in k.findings] == ["use-after-free"]


def test_double_free(testmods):
    k = run("double")
    assert any(l.startswith("BUG: KASAN: double-free in heapbugs_init+") for l in k.dmesg)
    assert "Allocated by task 1:" in k.dmesg and "Freed by task 1:" in k.dmesg
    assert [f["kind"] for f in k.findings] == ["double-free"]


def test_invalid_free(testmods):
    k = run("invalid")
    assert any(l.startswith("BUG: KASAN: invalid-free in heapbugs_init+") for l in k.dmesg)
    assert [f["kind"] for f in k.findings] == ["invalid-free"]


def test_redzone_overwrite_found_at_kfree_without_kfence(testmods):
    k = run("oob", kfence=False)
    assert any(l.startswith("BUG kmalloc-64 (Tainted: ") and l.endswith("): Right Redzone overwritten")
               for l in k.dmesg)
    assert any("@offset=40. First byte 0x58 instead of 0xcc" in l for l in k.dmesg)


def test_write_after_free_breaks_poison(testmods):
    k = run("poison", kfence=False, unload=True)
    assert any(l.endswith("): Poison overwritten") for l in k.dmesg)
    assert any("First byte 0x41 instead of 0x6b" in l for l in k.dmesg)
    assert [f["kind"] for f in k.findings] == ["use-after-free"]


@pytest.mark.parametrize("kfence", [True, False])
def test_clean_run_has_no_findings(kernel, testmods, kfence):
    """Through the plugin: any finding fails the test."""
    if not kfence:
        kernel.heap.kfence_budget = 0
    kernel.unload(kernel.load(TESTMODS / "heapbugs.ko", bug="none"))
    assert "heapbugs: clean" in kernel.dmesg


def test_leak_reported_at_unload(testmods):
    from kemu.testing import build_module
    ko = build_module({"leaky.c": (
        '#include <linux/module.h>\n#include <linux/slab.h>\nstatic void *keep;\n'
        'static int __init leaky_init(void)\n{\n\tkeep = kmalloc(40, GFP_KERNEL);\n'
        '\treturn keep ? 0 : -ENOMEM;\n}\nstatic void __exit leaky_exit(void) { }\n'
        'module_init(leaky_init);\nmodule_exit(leaky_exit);\nMODULE_LICENSE("GPL");\n')})
    k = Kernel()
    k.unload(k.load(ko))
    assert [f["kind"] for f in k.findings] == ["leak"]
    assert any(l.startswith("unreferenced object 0x") and l.endswith("(size 40):") for l in k.dmesg)
    assert any(l.strip().startswith("[<") and "leaky_init+" in l for l in k.dmesg)
