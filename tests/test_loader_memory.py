"""A module's memory as each line lays it out (kernel/module/main.c layout_sections(),
move_module(), kallsyms.c layout_symtab()): /proc/modules sizes, coresize and
initsize, and /sys/module/NAME/sections, against the real kernel of the line
testmods/ were built for (tests/expected/oracle-job-memory.sh: 6.1's
core_layout/init_layout, 6.4+'s one allocation per class of module_memory).
"""
from __future__ import annotations

import pytest

from conftest import EXPECTED, TESTMODS
from kemu import Kernel
from kemu.errors import KemuError
from kemu.machine.memory import PROT_R, PROT_RW, PROT_RX
from kemu.module.module import MemType

MODS = ("hello", "params", "exporter", "kemu_proc")


def run_job(k) -> str:
    """What tests/expected/oracle-job-memory.sh prints, from kemu."""
    import re
    for name in MODS:
        k.load(str(TESTMODS / f"{name}.ko"))
    out = re.sub(r" 0x[0-9a-f]*", " 0xADDR", k.read_file("/proc/modules").decode())
    for name in MODS:
        size = {f: k.read_file(f"/sys/module/{name}/{f}").decode().strip()
                for f in ("coresize", "initsize")}
        out += f"{name} coresize={size['coresize']} initsize={size['initsize']}\n"
        names = " ".join(e.name for e in k.list_dir(f"/sys/module/{name}/sections"))
        out += f"{name} sections: {names} \n"
    return out


def test_sizes_and_sections_as_the_real_kernel():
    golden = (EXPECTED / "module-memory.out").read_text()
    with Kernel() as k:
        assert run_job(k) == golden


def test_memory_classes_and_their_permissions():
    """Each class holds what layout_sections() puts there; init is gone after init."""
    with Kernel() as k:
        mod = k.load(str(TESTMODS / "params.ko"))
        assert mod.mem[MemType.TEXT].contains(mod.sections[".exit.text"])
        assert mod.mem[MemType.RODATA].contains(mod.sections["__param"])
        assert mod.mem[MemType.DATA].contains(mod.sections[".gnu.linkonce.this_module"])
        assert mod.base == mod.mem[MemType.TEXT].base
        assert all(not mod.mem[t].size and not mod.mem[t].base for t in MemType if t.is_init)
        assert mod.total_size() == mod.core_size() == sum(size for _b, size, _i in mod.allocations)
        if k.target.line.module_memory:         # 6.4: one allocation per class not empty
            assert len(mod.allocations) == sum(1 for t in MemType if mod.mem[t].size)
        else:                                    # core_layout: one allocation
            assert len(mod.allocations) == 1
        assert prot_of(k, mod.sections["__param"]) == PROT_R
        assert prot_of(k, mod.sections[".gnu.linkonce.this_module"]) == PROT_RW
        assert prot_of(k, mod.sections[".exit.text"]) == PROT_RX


def prot_of(k, addr: int) -> int:
    """The permissions of the page holding ``addr``."""
    return next(prot for begin, end, prot in k.machine.uc.mem_regions() if begin <= addr <= end)


def test_section_files_are_root_only():
    with Kernel() as k:
        k.load(str(TESTMODS / "hello.ko"))
        text = k.read_file("/sys/module/hello/sections/.gnu.linkonce.this_module").decode()
        assert text == f"0x{k.modules['hello'].struct_addr:016x}\n"
        with k.as_process("cat", uid=1000):
            with pytest.raises(KemuError, match="Permission denied"):
                k.read_file("/sys/module/hello/sections/.data")
