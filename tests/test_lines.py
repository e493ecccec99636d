"""Kernel lines (5.10, 6.1, 6.12): the facts table, per-line export declarations,
the generator on every installed line, and its refusal on a line it does not know.

The goldens of each line are checked by tests/test_golden.py with
KEMU_TESTMODS pointing at testmods/ built for that line (tests/run.sh does it).
"""
from __future__ import annotations

import pathlib

import pytest

from kemu.abi.exports import REGISTRY, lookup
from kemu.kernel.facade import import_stub_package
from kemu.target import gen
from kemu.target.lines import LINES, Line, known_line, line_of

INSTALLED = sorted(p for p in pathlib.Path("/usr/src").glob("linux-headers-*-amd64")
                   if (p / "Module.symvers").is_file())


def _newest_per_line() -> dict[str, pathlib.Path]:
    out = {}
    for kdir in INSTALLED:
        version = gen.read_kernel_version(kdir)
        line = known_line(version)
        if line is not None:
            out[line.name] = kdir          # sorted: the last one wins
    return out


def test_line_facts():
    assert [ln.name for ln in LINES] == ["5.10", "6.1", "6.12"]
    assert line_of("5.10.223").name == "5.10" and line_of("6.12.118").name == "6.12"
    assert line_of("6.6.1").name == "6.6" and line_of("6.6.1").module_memory
    assert known_line("6.6.1") is None
    assert not line_of("6.1.0-57-amd64").module_memory and line_of("6.12.1").module_memory
    assert "module.core_layout" in line_of("6.12.1").absent
    assert "module.mem" in line_of("6.1.1").absent and "module.mem" in line_of("5.10.1").absent
    assert [line_of(v).printk_text_max for v in ("5.10.1", "6.1.1", "6.12.1")] == [991, 991, 1023]


def test_export_declarations_per_line():
    import_stub_package()
    v510, v61, v612 = (5, 10), (6, 1), (6, 12)
    # renamed exports: one model, a declaration per form
    assert lookup("printk", v510) is not None and lookup("printk", v61) is None
    assert lookup("_printk", v510) is None and lookup("_printk", v612) is not None
    assert lookup("printk", v510).fn is lookup("_printk", v61).fn
    assert lookup("kmem_cache_alloc_trace", v510) is not None
    assert lookup("kmalloc_trace", v61) is not None and lookup("kmalloc_trace", v612) is None
    assert lookup("__kmalloc_cache_noprof", v612).fn is lookup("kmalloc_trace", v61).fn
    # 6.10's allocation profiling: X_noprof is X's model
    assert lookup("__kmalloc_noprof", v612).fn is REGISTRY["__kmalloc"].fn
    assert lookup("__kmalloc_noprof", v61) is None
    # 6.2's pcpu_hot: current_task lives inside it
    assert lookup("pcpu_hot", v61) is None
    assert lookup("current_task", v612).within == ("pcpu_hot", "pcpu_hot.current_task")
    assert lookup("current_task", v61).within is None
    # 6.4: class_create(name), class_register(); 6.6: the list checks *_or_report;
    # 6.8: sized_strscpy; 6.11's kmem_buckets argument (CONFIG_SLAB_BUCKETS)
    assert lookup("class_create", v612).prototype.endswith("class_create(const char *name)")
    assert lookup("class_create", v61) is None and lookup("__class_create", v612) is None
    assert lookup("class_register", v612).fn is not lookup("__class_register", v61).fn
    assert lookup("__list_add_valid_or_report", v612).fn is lookup("__list_add_valid", v61).fn
    assert lookup("__list_add_valid", v612) is None
    assert lookup("sized_strscpy", v612).fn is lookup("strscpy", v61).fn
    assert lookup("strscpy", v612) is None
    assert "kmem_buckets *b" in lookup("__kmalloc_node_noprof", v612).prototype
    assert "kmem_buckets *b" in lookup("__kvmalloc_node_noprof", v612).prototype


@pytest.mark.parametrize("line", sorted(_newest_per_line()))
def test_generator_describes_each_installed_line(line, tmp_path):
    """Nothing the generator looks for is missing beyond what the line's table says."""
    kdir = _newest_per_line()[line]
    data = gen.generate(kdir)
    assert data["missing"] == [], data["missing"]
    assert line_of(data["kernel_version"]).name == line
    if line_of(data["kernel_version"]).module_memory:
        assert data["consts"]["MOD_MEM_NUM_TYPES"] == 7
        assert "module.mem" in data["offsets"]
    else:
        assert "module.core_layout" in data["offsets"]
    # renamed members are read under 6.1's name on every line
    for name in ("task_struct.__state", "net.ns.count", "user_namespace.ns.count",
                 "pid_namespace.ns.count", "iov_iter.iov"):
        assert name in data["offsets"], name


def test_unknown_line_is_refused_naming_the_member(monkeypatch):
    """A line kemu does not know whose headers lack a member: one clear error."""
    kdir = _newest_per_line().get("6.1")
    assert kdir is not None, "no 6.1 headers installed (tests/install-kernel-line.sh 6.1)"
    real = line_of("6.1.1")
    # pretend 6.1 were an unknown line that kemu believes has struct module's mem[]
    pretend = Line("6.1", absent=frozenset(n for n in real.absent if not n.startswith("module")))
    monkeypatch.setattr(gen, "line_of", lambda version: pretend)
    monkeypatch.setattr(gen, "known_line", lambda version: None)
    with pytest.raises(gen.GenError) as exc:
        gen.generate(kdir)
    msg = str(exc.value)
    assert "kernel line 6.1, which kemu does not know" in msg
    assert "module.mem" in msg and "module_memory" in msg


def test_an_enumerator_a_line_lacks_is_named(monkeypatch):
    kdir = _newest_per_line().get("6.1")
    assert kdir is not None, "no 6.1 headers installed (tests/install-kernel-line.sh 6.1)"
    monkeypatch.setattr(gen, "line_of", lambda version: Line("6.1"))
    with pytest.raises(gen.GenError) as exc:
        gen.generate(kdir)
    assert "MOD_MEM_NUM_TYPES" in str(exc.value) and "kemu/target/lines.py" in str(exc.value)
