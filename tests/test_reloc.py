"""kemu/module/reloc.py against the x86_64 relocations of arch/x86/kernel/module.c (Linux 6.1).

The kernel computes ``val = sym->st_value + r_addend`` as u64, subtracts the
place for PC32/PLT32/PC64, and checks overflow only for R_X86_64_32
(``val != *(u32 *)&val``) and R_X86_64_32S (``(s64)val != *(s32 *)&val``);
the PC32 overflow check is compiled out (``#if 0``).
"""
from __future__ import annotations

import errno
import random
import struct

import pytest

from conftest import TESTMODS
from elfpatch import ElfPatch
from kemu import Kernel
from kemu.module import reloc
from kemu.errors import LoadError
from kemu.machine.memory import Region

U64 = 2**64 - 1
S, A, P = 0xFFFFFFFFC0001234, -4, 0xFFFFFFFFC0000010


def kernel_overflows(r_type: int, val: int) -> bool:
    """The kernel's C checks, done with C's representations (struct), not with kemu's code."""
    raw = struct.pack("<Q", val & U64)
    if r_type == 10:
        return val & U64 != struct.unpack("<I", raw[:4])[0]
    if r_type == 11:
        return struct.unpack("<q", raw)[0] != struct.unpack("<i", raw[:4])[0]
    return False


# ------------------------------------------------------------------ the table
def test_table_covers_exactly_the_kernel_types():
    assert sorted(reloc.RELOCATION_TYPES) == [0, 1, 2, 4, 10, 11, 24]
    names = {0: "R_X86_64_NONE", 1: "R_X86_64_64", 2: "R_X86_64_PC32", 4: "R_X86_64_PLT32",
             10: "R_X86_64_32", 11: "R_X86_64_32S", 24: "R_X86_64_PC64"}
    for r_type, cls in reloc.RELOCATION_TYPES.items():
        assert cls.type == r_type
        assert cls.__name__ == names[r_type]
        assert issubclass(cls, reloc.Relocation)


@pytest.mark.parametrize("r_type", [3, 5, 8, 9, 15, 16, 42, 0xFFFFFFFF])
def test_types_the_kernel_rejects_are_absent(r_type):
    # GOT32, COPY, RELATIVE, GOTPCREL, 8, DTPMOD64, ...: "Unknown rela relocation"
    assert reloc.RELOCATION_TYPES.get(r_type) is None


@pytest.mark.parametrize("r_type,size", [(0, 0), (1, 8), (2, 4), (4, 4), (10, 4), (11, 4),
                                         (24, 8)])
def test_sizes(r_type, size):
    assert reloc.RELOCATION_TYPES[r_type].size == size


# -------------------------------------------------------------- the formulas
@pytest.mark.parametrize("r_type", [1, 10, 11])
def test_absolute_value_is_s_plus_a(r_type):
    cls = reloc.RELOCATION_TYPES[r_type]
    assert cls.value(S, A, P) == S - 4
    assert cls.value(S, A, 0) == cls.value(S, A, P)          # P plays no part
    assert cls.value(0, -1, P) == U64                        # u64 arithmetic wraps
    assert cls.value(U64, 2, P) == 1


@pytest.mark.parametrize("r_type", [2, 4, 24])
def test_pc_relative_value_is_s_plus_a_minus_p(r_type):
    cls = reloc.RELOCATION_TYPES[r_type]
    assert cls.value(S, A, P) == S - 4 - P == 0x1220
    assert cls.value(P, -4, P + 0x100) == (-0x104) & U64     # a backward reference
    assert cls.value(0, 0, 1) == U64


# ---------------------------------------------------------------- overflows
R32_CASES = [(0, False), (0x7FFFFFFF, False), (0xFFFFFFFF, False), (0x1_0000_0000, True),
             (0xFFFFFFFF80000000, True), (U64, True)]
R32S_CASES = [(0, False), (0x7FFFFFFF, False), (0x80000000, True), (0xFFFFFFFF, True),
              (0x1_0000_0000, True), (0xFFFFFFFF7FFFFFFF, True), (0xFFFFFFFF80000000, False),
              (0xFFFFFFFFC0001234, False), (U64, False), (0x8000000000000000, True)]


@pytest.mark.parametrize("val,overflows", R32_CASES)
def test_r_x86_64_32_overflow(val, overflows):
    assert reloc.R_X86_64_32.overflows(val) is overflows
    assert kernel_overflows(10, val) is overflows


@pytest.mark.parametrize("val,overflows", R32S_CASES)
def test_r_x86_64_32s_overflow(val, overflows):
    assert reloc.R_X86_64_32S.overflows(val) is overflows
    assert kernel_overflows(11, val) is overflows


@pytest.mark.parametrize("r_type", [0, 1, 2, 4, 24])
def test_no_overflow_check_for_other_types(r_type):
    """PC32/PLT32 are not checked (the kernel's check is under #if 0), nor 64/PC64/NONE."""
    cls = reloc.RELOCATION_TYPES[r_type]
    for val in (0, 0x80000000, 0x1_0000_0000, 0xFFFFFFFF7FFFFFFF, 0x8000000000000000, U64):
        assert not cls.overflows(val)


def test_overflow_matches_kernel_on_random_values():
    rng = random.Random(11)
    vals = [rng.getrandbits(64) for _ in range(2000)]
    vals += [(0xFFFFFFFF80000000 + d) & U64 for d in range(-3, 4)]
    vals += [(0x1_0000_0000 + d) & U64 for d in range(-3, 4)]
    vals += [(0x80000000 + d) for d in range(-3, 4)]
    for r_type, cls in reloc.RELOCATION_TYPES.items():
        for val in vals:
            assert cls.overflows(val) == kernel_overflows(r_type, val), (r_type, hex(val))


# ------------------------------------------------------------- end to end
def kernel_with_modules_at(base: int) -> Kernel:
    """A kernel whose module area starts at ``base`` instead of MODULES_VADDR."""
    k = Kernel()
    k.machine.modules = Region(k.machine.uc, "modules", base, 1 << 30)
    return k


@pytest.fixture(scope="module")
def hello_layout(testmods):
    """Offsets from the base of hello.ko's core sections (from a normal load)."""
    k = Kernel()
    mod = k.load(str(testmods / "hello.ko"))
    return {name: addr - mod.base for name, addr in mod.sections.items()
            if mod.within_core(addr)}


def test_module_area_in_top_2gib_links(testmods):
    """The lowest base where every 32S value still sign-extends: hello loads and runs."""
    k = kernel_with_modules_at(0xFFFFFFFF80000000)
    mod = k.load(str(testmods / "hello.ko"))
    assert mod.base == 0xFFFFFFFF80000000
    assert "hello: hello, world (count=1)" in k.log.lines()


@pytest.mark.parametrize("base", [0xFFFFFFFF7FFF0000, 0xFFFFFFFF00000000])
def test_module_area_below_top_2gib_overflows_32s(testmods, hello_layout, base):
    img = ElfPatch((testmods / "hello.ko").read_bytes())
    syms = img.symbols()
    first_32s = next((syms[sym][0], add) for _, sym, typ, add
                     in img.relas(img.index(".rela.exit.text")) if typ == 11)
    val = base + hello_layout[first_32s[0]] + first_32s[1]
    k = kernel_with_modules_at(base)
    with pytest.raises(LoadError) as info:
        k.load(str(testmods / "hello.ko"))
    assert info.value.errno == errno.ENOEXEC
    k.log.flush()
    assert [(r.level, r.text) for r in k.log.records][-2:] == [
        (3, f"module: overflow in relocation type 11 val {val:x}"),
        (3, "module: `hello' likely not compiled with -mcmodel=kernel")]
    assert k.modules == {}


def test_r_x86_64_32_to_a_module_address_overflows(testmods, hello_layout):
    """A zero-extending 32-bit relocation cannot reach 0xffffffffc0000000 (type 10)."""
    img = ElfPatch((testmods / "hello.ko").read_bytes())
    rela = img.index(".rela.exit.text")
    syms = img.symbols()
    entry, sym, add = next((i, syms[sym][0], add) for i, (_, sym, typ, add)
                           in enumerate(img.relas(rela)) if typ == 11)
    img.set_rela(rela, entry, r_type=10)
    k = Kernel()
    with pytest.raises(LoadError) as info:
        k.load(str(TESTMODS / "hello.ko"), data=img.bytes())
    assert info.value.errno == errno.ENOEXEC
    val = k.machine.modules.base_addr + hello_layout[sym] + add
    assert k.log.lines()[-2:] == [f"module: overflow in relocation type 10 val {val:x}",
                                  "module: `hello' likely not compiled with -mcmodel=kernel"]
