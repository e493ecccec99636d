"""Hostile module files: every one fails as Linux 6.1 fails it, in its words.

Each case derives a bad file from testmods/hello.ko and expects the exact
message that 6.1's ``elf_validity_check``/``setup_load_info``/
``module_enforce_rwx_sections`` (kernel/module/main.c, strict_rwx.c) or
``apply_relocate_add`` (arch/x86/kernel/module.c, whose ``pr_fmt`` prefixes
"module: ") logs, at the kernel's level, and the errno init_module(2) returns.
Then a seeded fuzz run, and appended module signatures (kernel/module/signing.c,
module_signature.c).
"""
from __future__ import annotations

import errno
import random
import re
import struct

import pytest

from conftest import TESTMODS
from elfpatch import (SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS, SHT_REL, SHT_SYMTAB, ElfPatch)
from kemu import Kernel
from kemu.errors import KemuError, LoadError
from kemu.kernel.taint import module_flags_taint

ENOEXEC = errno.ENOEXEC
EM_386, EM_AARCH64 = 3, 183
MODULE_SIG_STRING = b"~Module signature appended~\n"
PKEY_ID_X509, PKEY_ID_PKCS7 = 1, 2


@pytest.fixture(scope="module")
def hello(testmods) -> bytes:
    return (testmods / "hello.ko").read_bytes()


def load(data: bytes, kernel: Kernel | None = None):
    """Load ``data`` as hello.ko into a fresh (or the given) kernel."""
    k = kernel or Kernel()
    mod = k.load(str(TESTMODS / "hello.ko"), data=data)
    k.log.flush()
    return k, mod


def load_fails(data: bytes, err: int = ENOEXEC):
    """Load ``data``; it must fail with a LoadError carrying ``err``, leaving no module."""
    k = Kernel()
    with pytest.raises(LoadError) as info:
        k.load(str(TESTMODS / "hello.ko"), data=data)
    k.log.flush()
    exc = info.value
    assert exc.errno == err, (errno.errorcode.get(exc.errno), str(exc))
    assert "\n" not in str(exc) and str(exc)
    assert k.modules == {}
    return k, exc


def records(k) -> list[tuple[int, str]]:
    return [(r.level, r.text) for r in k.log.records]


# --------------------------------------------------------- elf_validity_check
def _truncations(data: bytes):
    img = ElfPatch(data)
    shoff = img.ehdr["e_shoff"]
    info = img.shdr(img.index(".debug_info"))
    mid_section = info["sh_offset"] + info["sh_size"] // 2
    return [
        (0, "Invalid ELF header len 0"),
        (10, "Invalid ELF header len 10"),
        (63, "Invalid ELF header len 63"),
        (64, "Invalid ELF section header overflow"),                  # header only
        (mid_section, "Invalid ELF section header overflow"),         # inside .debug_info
        (shoff + 10 * 64 + 7, "Invalid ELF section header overflow"),  # inside the table
        (len(data) - 1, "Invalid ELF section header overflow"),
    ]


def test_truncations(hello):
    cases = _truncations(hello)
    assert len({n for n, _ in cases}) == len(cases)
    for n, message in cases:
        k, _ = load_fails(hello[:n])
        assert records(k) == [(3, message)], n


def _header_cases(data: bytes):
    """(what, bytes, the kernel's message) for each bad ELF header field."""
    img = lambda: ElfPatch(data)           # noqa: E731
    shnum = img().shnum
    return [
        ("magic", img().set_ehdr(e_ident=b"\x7fELG" + data[4:16]).bytes(),
         "Invalid ELF header magic: != \x7fELF"),
        ("ET_EXEC", img().set_ehdr(e_type=2).bytes(), "Invalid ELF header type: 2 != 1"),
        ("ET_DYN", img().set_ehdr(e_type=3).bytes(), "Invalid ELF header type: 3 != 1"),
        ("EM_386", img().set_ehdr(e_machine=EM_386).bytes(),
         "Invalid architecture in ELF header: 3"),
        ("EM_AARCH64", img().set_ehdr(e_machine=EM_AARCH64).bytes(),
         "Invalid architecture in ELF header: 183"),
        # a 32-bit file: ELFCLASS32 and sizeof(Elf32_Shdr) == 40
        ("ELFCLASS32", img().set_ehdr(e_ident=data[:4] + b"\x01" + data[5:16],
                                      e_shentsize=40).bytes(),
         "Invalid ELF section header size"),
        ("e_shentsize", img().set_ehdr(e_shentsize=65).bytes(), "Invalid ELF section header size"),
        ("e_shoff beyond", img().set_ehdr(e_shoff=len(data)).bytes(),
         "Invalid ELF section header overflow"),
        ("e_shoff huge", img().set_ehdr(e_shoff=(1 << 64) - 64).bytes(),
         "Invalid ELF section header overflow"),
        ("e_shnum huge", img().set_ehdr(e_shnum=0xFFFF).bytes(),
         "Invalid ELF section header overflow"),
        ("e_shstrndx 0", img().set_ehdr(e_shstrndx=0).bytes(),
         f"Invalid ELF section name index: 0 || e_shstrndx (0) >= e_shnum ({shnum})"),
        ("e_shstrndx = e_shnum", img().set_ehdr(e_shstrndx=shnum).bytes(),
         f"Invalid ELF section name index: {shnum} || e_shstrndx ({shnum}) >= e_shnum ({shnum})"),
        ("e_shstrndx 0xffff", img().set_ehdr(e_shstrndx=0xFFFF).bytes(),
         f"Invalid ELF section name index: 65535 || e_shstrndx (65535) >= e_shnum ({shnum})"),
    ]


@pytest.mark.parametrize("case", range(13))
def test_bad_elf_header(hello, case):
    cases = _header_cases(hello)
    assert len(cases) == 13
    what, data, message = cases[case]
    k, exc = load_fails(data)
    assert records(k) == [(3, message)], what
    assert str(exc) == message


def test_elfclass_byte_alone_is_not_checked(hello):
    """6.1's elf_check_arch() reads e_machine only: EI_CLASS/EI_DATA are never looked at."""
    for ident_byte, value in ((4, 1), (5, 2)):          # ELFCLASS32, ELFDATA2MSB
        data = bytearray(hello)
        data[ident_byte] = value
        k, mod = load(bytes(data))
        assert mod.name == "hello"
        assert "hello: hello, world (count=1)" in k.log.lines()


def _section_cases(data: bytes):
    img = lambda: ElfPatch(data)           # noqa: E731
    base = ElfPatch(data)
    shnum = base.shnum
    strndx = base.ehdr["e_shstrndx"]
    strhdr = base.shdr(strndx)
    dot_data = base.index(".data")
    symtab = base.index(".symtab")
    last_name_byte = strhdr["sh_offset"] + strhdr["sh_size"] - 1
    unterminated = bytearray(data)
    unterminated[last_name_byte] = ord("x")
    far = len(data) - 8
    return [
        ("shstrtab beyond file", img().set_shdr(strndx, sh_size=len(data)).bytes(),
         "Invalid ELF section hdr(type 3)"),
        ("shstrtab empty", img().set_shdr(strndx, sh_size=0).bytes(), "empty section name table"),
        ("shstrtab not NUL-terminated", bytes(unterminated),
         "ELF Spec violation: section name table isn't null terminated"),
        ("section 0 not NULL", img().set_shdr(0, sh_type=SHT_PROGBITS).bytes(),
         "ELF Spec violation: section 0 type(1)!=SH_NULL or non-zero len or addr"),
        ("section 0 with a size", img().set_shdr(0, sh_size=16).bytes(),
         "ELF Spec violation: section 0 type(0)!=SH_NULL or non-zero len or addr"),
        ("section 0 with an address", img().set_shdr(0, sh_addr=0x1000).bytes(),
         "ELF Spec violation: section 0 type(0)!=SH_NULL or non-zero len or addr"),
        ("SYMTAB sh_link 0", img().set_shdr(symtab, sh_link=0).bytes(),
         f"Invalid ELF sh_link!=SHN_UNDEF(0) or (sh_link(0) >= hdr->e_shnum({shnum})"),
        ("SYMTAB sh_link = e_shnum", img().set_shdr(symtab, sh_link=shnum).bytes(),
         f"Invalid ELF sh_link!=SHN_UNDEF({shnum}) or (sh_link({shnum}) >= "
         f"hdr->e_shnum({shnum})"),
        ("section past the end", img().set_shdr(dot_data, sh_offset=far, sh_size=16).bytes(),
         f"Invalid ELF section in module (section {dot_data} type 1)"),
        # offset + size wraps around 2^64: validate_section_offset()'s secend < sh_offset
        ("section size wraps", img().set_shdr(dot_data, sh_offset=far,
                                              sh_size=(1 << 64) - far + 16).bytes(),
         f"Invalid ELF section in module (section {dot_data} type 1)"),
        ("ALLOC section name beyond shstrtab",
         img().set_shdr(dot_data, sh_name=strhdr["sh_size"]).bytes(),
         f"Invalid ELF section name in module (section {dot_data} type 1)"),
    ]


@pytest.mark.parametrize("case", range(11))
def test_bad_section_table(hello, case):
    cases = _section_cases(hello)
    assert len(cases) == 11
    what, data, message = cases[case]
    k, exc = load_fails(data)
    assert records(k) == [(3, message)], what


def test_non_alloc_section_name_is_not_checked(hello):
    """6.1 checks sh_name only for SHF_ALLOC sections; a debug section's is not looked at."""
    img = ElfPatch(hello)
    comment = img.index(".comment")
    img.set_shdr(comment, sh_name=img.shdr(img.ehdr["e_shstrndx"])["sh_size"] + 100)
    k, mod = load(img.bytes())
    assert "hello: hello, world (count=1)" in k.log.lines()


# ------------------------------------------------------ after elf_validity_check
def test_write_exec_section(hello, tainted_kernel):
    img = ElfPatch(hello)
    idx = img.index(".data")
    img.set_shdr(idx, sh_flags=img.shdr(idx)["sh_flags"] | SHF_EXECINSTR)
    k, _ = load_fails(img.bytes())
    want = f"hello: section .data (index {idx}) has invalid WRITE|EXEC flags"
    assert (3, want) in records(k)
    # in an already tainted kernel it is the only line, as on the real kernel
    k = tainted_kernel()
    with pytest.raises(LoadError) as info:
        k.load(str(TESTMODS / "hello.ko"), data=img.bytes())
    assert info.value.errno == ENOEXEC
    assert records(k) == [(3, want)]


def test_no_this_module(hello):
    img = ElfPatch(hello)
    idx = img.index(".gnu.linkonce.this_module")
    img.set_shdr(idx, sh_flags=img.shdr(idx)["sh_flags"] & ~SHF_ALLOC)   # find_sec ignores it
    k, _ = load_fails(img.bytes())
    assert records(k) == [(4, "hello: No module found in object")]


def test_no_this_module_no_modinfo(hello):
    img = ElfPatch(hello)
    for name in (".gnu.linkonce.this_module", ".modinfo"):
        idx = img.index(name)
        img.set_shdr(idx, sh_flags=img.shdr(idx)["sh_flags"] & ~SHF_ALLOC)
    k, _ = load_fails(img.bytes())
    assert records(k) == [(4, "(missing .modinfo section or name field): No module found "
                              "in object")]


def test_modinfo_not_alloc_is_not_read(hello):
    """setup_load_info() finds .modinfo with find_sec(): without SHF_ALLOC it is ignored.

    The name then comes from struct module; no vermagic forces the load (taint
    F), no license taints P, no retpoline tag warns.
    """
    img = ElfPatch(hello)
    idx = img.index(".modinfo")
    img.set_shdr(idx, sh_flags=img.shdr(idx)["sh_flags"] & ~SHF_ALLOC)
    k, mod = load(img.bytes())
    assert k.log.lines()[:6] == [
        "hello: bad vermagic: kernel tainted.",
        "Disabling lock debugging due to kernel taint",
        "hello: loading out-of-tree module taints kernel.",
        "hello: loading module not compiled with retpoline compiler.",
        "hello: module license 'unspecified' taints kernel.",
        "hello: module verification failed: signature and/or required key missing - "
        "tainting kernel",
    ]
    assert "hello: hello, world (count=1)" in k.log.lines()
    assert module_flags_taint(mod) == "PFOE"


def test_stripped(hello):
    img = ElfPatch(hello)
    img.set_shdr(img.index(".symtab"), sh_type=SHT_PROGBITS)
    k, _ = load_fails(img.bytes())
    assert records(k) == [(4, "hello: module has no symbols (stripped?)")]
    assert not any(t == SHT_SYMTAB for t in
                   (img.shdr(i)["sh_type"] for i in range(1, img.shnum)))


# ---------------------------------------------------------------- relocations
def _exit_text_relas(img: ElfPatch):
    rela = img.index(".rela.exit.text")
    syms = img.symbols()
    return rela, [(i, off, syms[sym][0], typ, add)
                  for i, (off, sym, typ, add) in enumerate(img.relas(rela))]


def test_unknown_relocation_type(hello, tainted_kernel):
    img = ElfPatch(hello)
    rela, entries = _exit_text_relas(img)
    img.set_rela(rela, entries[-1][0], r_type=42)
    k = tainted_kernel()
    with pytest.raises(LoadError) as info:
        k.load(str(TESTMODS / "hello.ko"), data=img.bytes())
    assert info.value.errno == ENOEXEC
    assert records(k) == [(3, "module: hello: Unknown rela relocation: 42")]
    assert k.modules == {}


def test_nonzero_target_plt32(hello, tainted_kernel):
    """6.1 refuses a nonzero target before subtracting P: val is S + A."""
    img = ElfPatch(hello)
    rela, entries = _exit_text_relas(img)
    _, off, sym, typ, add = next(e for e in entries if e[2] == "_printk")
    assert typ == 4 and add == -4
    img.write_at_section(img.index(".exit.text"), off, b"\x01\x00\x00\x00")
    k = tainted_kernel()
    with pytest.raises(LoadError) as info:
        k.load(str(TESTMODS / "hello.ko"), data=img.bytes())
    assert info.value.errno == ENOEXEC
    val = (k.export_addr("_printk") - 4) & (2**64 - 1)
    [(level, text)] = records(k)
    assert level == 3
    m = re.fullmatch(r"module: x86/modules: Skipping invalid relocation target, existing value "
                     r"is nonzero for type 4, loc ([0-9a-f]{16}), val ([0-9a-f]+)", text)
    assert m, text
    assert m.group(2) == f"{val:x}"
    assert k.modules == {}


def test_nonzero_target_32s(hello, tainted_kernel):
    img = ElfPatch(hello)
    rela, entries = _exit_text_relas(img)
    _, off, sym, typ, add = next(e for e in entries if e[3] == 11)
    img.write_at_section(img.index(".exit.text"), off, b"\x00\x00\x00\x80")
    # where that section lands: the same layout as a good load of hello.ko
    k0, mod = load(hello)
    val = mod.sections[sym] + add
    k = tainted_kernel()
    with pytest.raises(LoadError):
        k.load(str(TESTMODS / "hello.ko"), data=img.bytes())
    [(level, text)] = records(k)
    assert re.fullmatch(r"module: x86/modules: Skipping invalid relocation target, existing "
                        rf"value is nonzero for type 11, loc [0-9a-f]{{16}}, val {val:x}", text)


def test_rel_section(hello, tainted_kernel):
    img = ElfPatch(hello)
    img.set_shdr(img.index(".rela.exit.text"), sh_type=SHT_REL)
    k = tainted_kernel()
    with pytest.raises(LoadError) as info:
        k.load(str(TESTMODS / "hello.ko"), data=img.bytes())
    assert info.value.errno == ENOEXEC
    assert records(k) == [(3, "module hello: REL relocation unsupported")]


def test_relocation_symbol_out_of_range(hello):
    """Not a kernel check (6.1 would read past the symbol table): kemu refuses it."""
    img = ElfPatch(hello)
    rela, entries = _exit_text_relas(img)
    img.set_rela(rela, 0, r_sym=100000)
    k, exc = load_fails(img.bytes())
    assert "relocation refers to symbol 100000" in str(exc)


def test_relocation_section_with_partial_entry(hello):
    """sh_size / sizeof(Elf64_Rela) entries: a trailing partial entry is ignored."""
    img = ElfPatch(hello)
    rela = img.index(".rela.exit.text")
    img.set_shdr(rela, sh_size=img.shdr(rela)["sh_size"] + 5)
    k, mod = load(img.bytes())
    assert mod.state.name == "LIVE"


# ----------------------------------------------------------------------- fuzz
def _mutate(rng: random.Random, data: bytes) -> bytes:
    """Truncate, or overwrite a few bytes, aiming mostly at the parsed tables."""
    img = ElfPatch(data)
    if rng.random() < 0.15:
        return data[:rng.randrange(len(data))]
    regions = [(0, 64), (img.ehdr["e_shoff"], img.shnum * 64)]
    for name in (".symtab", ".rela.init.text", ".rela.exit.text", ".rela__param",
                 ".gnu.linkonce.this_module", "__param", ".modinfo", "__versions"):
        hdr = img.shdr(img.index(name))
        regions.append((hdr["sh_offset"], hdr["sh_size"]))
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        if rng.random() < 0.2:
            pos = rng.randrange(len(out))
        else:
            start, size = rng.choice(regions)
            pos = start + rng.randrange(size)
        out[pos] = rng.choice((0, 0xFF, 0x80, 0x7F, rng.randrange(256)))
    return bytes(out)


def test_fuzz_only_kemu_errors(hello):
    """300 seeded mutations: each loads or raises a KemuError subclass; anything else is a bug."""
    rng = random.Random(0x6B656D75)
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(300):
        data = _mutate(rng, hello)
        k = Kernel(timeout_ms=200)
        try:
            k.load(str(TESTMODS / "hello.ko"), data=data)
        except KemuError as exc:
            assert str(exc) and "\n" not in str(exc), (i, str(exc))
            assert exc.errno > 0, (i, type(exc).__name__, str(exc))
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
    # the mutations exercise both paths, not only the header checks
    assert outcomes["loaded"] >= 20 and outcomes["refused"] >= 100, outcomes


# ------------------------------------------------------------------ signatures
def signed(body: bytes, sig: bytes, algo=0, hash_=0, id_type=PKEY_ID_PKCS7, signer_len=0,
           key_id_len=0, pad=b"\0\0\0", sig_len=None) -> bytes:
    """body + signature + struct module_signature + the marker (scripts/sign-file.c)."""
    ms = struct.pack(">BBBBB3sI", algo, hash_, id_type, signer_len, key_id_len, pad,
                     len(sig) if sig_len is None else sig_len)
    return body + sig + ms + MODULE_SIG_STRING


def test_signed_module_loads_untainted(hello):
    sig = random.Random(1).randbytes(467)
    k, mod = load(signed(hello, sig))
    assert mod.sig_ok
    assert not any("module verification failed" in line for line in k.log.lines())
    assert "E" not in k.taints and module_flags_taint(mod) == "O"
    assert k.log.lines()[0] == "hello: loading out-of-tree module taints kernel."
    assert "hello: hello, world (count=1)" in k.log.lines()


def test_unsigned_module_taints_e(hello):
    k, mod = load(hello)
    assert not mod.sig_ok and "E" in k.taints
    assert ("hello: module verification failed: signature and/or required key missing - "
            "tainting kernel") in k.log.lines()


def test_signature_length_beyond_file(hello):
    """mod_check_sig(): sig_len >= file_len - sizeof(ms) is -EBADMSG, silently."""
    body_len = len(hello) + 16
    for sig_len in (body_len, body_len + 1, 0xFFFFFFFF):
        k, exc = load_fails(signed(hello, b"\x30" * 16, sig_len=sig_len), errno.EBADMSG)
        assert k.log.lines() == []


def test_signature_truncated(hello):
    """mod_verify_sig(): a file no longer than struct module_signature is -EBADMSG."""
    k, exc = load_fails(b"\0" * 12 + MODULE_SIG_STRING, errno.EBADMSG)
    assert k.log.lines() == []


def test_signature_nonzero_params(hello):
    k, exc = load_fails(signed(hello, b"\x30" * 32, algo=4), errno.EBADMSG)
    assert records(k) == [(3, "module: PKCS#7 signature info has unexpected non-zero params")]


def test_signature_not_pkcs7(hello):
    """-ENOPKG is not fatal when signatures are not enforced: the module loads, tainted E."""
    k, mod = load(signed(hello, b"\x30" * 32, id_type=PKEY_ID_X509))
    lines = k.log.lines()
    assert lines[0] == "module: not signed with expected PKCS#7 message"
    assert k.log.records[0].level == 3
    assert "E" in k.taints and not mod.sig_ok
    assert "hello: hello, world (count=1)" in lines


# -------------------------------------------------------------- memory limits
@pytest.mark.parametrize("field,value", [("sh_size", 1 << 40), ("sh_addralign", 1 << 63)])
def test_layout_too_big_is_enomem(hello, field, value):
    """A .bss (NOBITS: not bounded by the file) too big for the module area: -ENOMEM.

    module_alloc() returns NULL without a message past MODULES_LEN.
    """
    img = ElfPatch(hello)
    img.set_shdr(img.index(".bss"), **{field: value})
    k, exc = load_fails(img.bytes(), errno.ENOMEM)
    assert not any("hello: hello" in line for line in k.log.lines())


def test_percpu_alignment_over_a_page(testmods):
    """percpu_modalloc(): an alignment over PAGE_SIZE is warned about and clamped."""
    img = ElfPatch((testmods / "percpu.ko").read_bytes())
    img.set_shdr(img.index(".data..percpu"), sh_addralign=8192)
    k = Kernel()
    k.load(str(testmods / "percpu.ko"), data=img.bytes())
    k.log.flush()
    assert (4, "percpu: per-cpu alignment 8192 > 4096") in records(k)
    assert "percpu: initial this_cpu_read=5 per_cpu(0)=5" in k.log.lines()


def test_signature_not_pkcs7_message_on_every_load(hello):
    data = signed(hello, b"\x31" * 40, id_type=PKEY_ID_X509)
    for _ in range(2):
        k, _mod = load(data)
        assert k.log.lines()[0] == "module: not signed with expected PKCS#7 message"
