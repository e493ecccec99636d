"""The module file: signature, the kernel's ELF validity checks, tables.

Checks follow ``module_sig_check`` and ``elf_validity_check`` of Linux 6.1
(kernel/module/main.c, signing.c) with their messages; every failure is
-ENOEXEC (or -EBADMSG for a malformed signature). Section headers, symbols and
relocations are read with ``struct`` straight from the validated bytes, which
is what keeps loading fast; pyelftools serves the debug-info readers.
"""
from __future__ import annotations

import errno
import struct
from dataclasses import dataclass, field

from kemu.errors import LoadError
from kemu.kernel.log import KERN_ERR

MODULE_SIG_STRING = b"~Module signature appended~\n"
PKEY_ID_PKCS7 = 2

EM_X86_64 = 62
ET_REL = 1
SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA = 0, 1, 2, 3, 4
SHT_NOBITS, SHT_REL = 8, 9
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHF_RELA_LIVEPATCH = 0x00100000
SHF_RO_AFTER_INIT = 0x00200000
SHN_UNDEF, SHN_LIVEPATCH, SHN_ABS, SHN_COMMON = 0, 0xFF20, 0xFFF1, 0xFFF2
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE = 0, 1, 2, 3, 4

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_RELA = struct.Struct("<QQq")


def _noexec(log, message: str, err: int = errno.ENOEXEC) -> LoadError:
    log(KERN_ERR, message)
    return LoadError(message, err)


@dataclass
class Section:
    """One section header, with the loader's working fields."""
    index: int
    name: str
    sh_name: int
    sh_type: int
    sh_flags: int
    sh_addr: int
    sh_offset: int
    sh_size: int
    sh_link: int
    sh_info: int
    sh_addralign: int
    sh_entsize: int


@dataclass
class Symbol:
    """One ELF symbol."""
    index: int
    name: str
    st_info: int
    st_other: int
    st_shndx: int
    st_value: int
    st_size: int

    @property
    def bind(self) -> int:
        """STB_LOCAL, STB_GLOBAL or STB_WEAK."""
        return self.st_info >> 4

    @property
    def type(self) -> int:
        """STT_FUNC, STT_OBJECT, ..."""
        return self.st_info & 0xF


@dataclass
class ElfImage:
    """A validated relocatable module file, parsed once and reusable."""
    data: bytes
    signed: bool
    sections: list
    symbols: list = field(default_factory=list)
    symtab_index: int = 0

    def find_sec(self, name: str) -> int:
        """Index of the ALLOC'd section called ``name`` (find_sec), or 0."""
        for sec in self.sections[1:]:
            if sec.sh_flags & SHF_ALLOC and sec.name == name:
                return sec.index
        return 0

    def find_any_sec(self, name: str) -> int:
        """Index of any section called ``name``, ALLOC or not, or 0."""
        for sec in self.sections[1:]:
            if sec.name == name:
                return sec.index
        return 0

    def section_data(self, index: int) -> bytes:
        """The file bytes of a section (empty for NOBITS)."""
        sec = self.sections[index]
        if sec.sh_type == SHT_NOBITS:
            return b""
        return self.data[sec.sh_offset:sec.sh_offset + sec.sh_size]

    def iter_relas(self, index: int):
        """Yield (r_offset, symbol index, type, addend) of a SHT_RELA section.

        Like the kernel's ``sh_size / sizeof(*rel)``, a trailing partial entry is ignored.
        """
        body = self.section_data(index)
        body = body[:len(body) - len(body) % _RELA.size]
        for r_offset, r_info, r_addend in _RELA.iter_unpack(body):
            yield r_offset, r_info >> 32, r_info & 0xFFFFFFFF, r_addend


def module_sig_check(data: bytes, log) -> tuple[bytes, bool]:
    """Strip an appended signature (mod_verify_sig); returns (data, signed).

    kemu cannot verify the PKCS#7 message against the target kernel's keyring,
    so a well-formed signature counts as good, as it does for a distribution's
    own modules on its own kernel. A malformed one fails as the kernel does.
    """
    if len(data) <= len(MODULE_SIG_STRING) or not data.endswith(MODULE_SIG_STRING):
        return data, False
    body = data[:-len(MODULE_SIG_STRING)]
    if len(body) <= 12:
        raise LoadError("module signature is truncated", errno.EBADMSG)
    algo, hash_, id_type, signer_len, key_id_len, pad, sig_len = struct.unpack(">BBBBB3sI", body[-12:])
    if sig_len >= len(body) - 12:
        raise LoadError("module signature length is beyond the file", errno.EBADMSG)
    if id_type != PKEY_ID_PKCS7:
        log(KERN_ERR, "module: not signed with expected PKCS#7 message")
        return body[:-12 - sig_len], False
    if algo or hash_ or signer_len or key_id_len or pad != b"\0\0\0":
        raise _noexec(log, "module: PKCS#7 signature info has unexpected non-zero params",
                      errno.EBADMSG)
    return body[:-12 - sig_len], True


def elf_validity_check(data: bytes, log, signed: bool = False) -> ElfImage:
    """The kernel's ``elf_validity_check``: returns the parsed image or raises -ENOEXEC."""
    if len(data) < _EHDR.size:
        raise _noexec(log, f"Invalid ELF header len {len(data)}")
    (ident, e_type, e_machine, _ver, _entry, _phoff, e_shoff, _flags, _ehsize, _phentsize,
     _phnum, e_shentsize, e_shnum, e_shstrndx) = _EHDR.unpack_from(data)
    if ident[:4] != b"\x7fELF":
        raise _noexec(log, "Invalid ELF header magic: != \x7fELF")
    if e_type != ET_REL:
        raise _noexec(log, f"Invalid ELF header type: {e_type} != {ET_REL}")
    if e_machine != EM_X86_64:
        raise _noexec(log, f"Invalid architecture in ELF header: {e_machine}")
    # elf_check_arch() looks at e_machine only: 6.1 never reads EI_CLASS or EI_DATA.
    if e_shentsize != _SHDR.size:
        raise _noexec(log, "Invalid ELF section header size")
    if e_shoff >= len(data) or e_shnum * _SHDR.size > len(data) - e_shoff:
        raise _noexec(log, "Invalid ELF section header overflow")
    if e_shstrndx == SHN_UNDEF or e_shstrndx >= e_shnum:
        raise _noexec(log, f"Invalid ELF section name index: {e_shstrndx} || e_shstrndx "
                           f"({e_shstrndx}) >= e_shnum ({e_shnum})")
    raw = [_SHDR.unpack_from(data, e_shoff + i * _SHDR.size) for i in range(e_shnum)]

    def offset_ok(hdr) -> bool:
        end = hdr[4] + hdr[5]
        return end <= len(data)

    strhdr = raw[e_shstrndx]
    if not offset_ok(strhdr):
        raise _noexec(log, f"Invalid ELF section hdr(type {strhdr[1]})")
    if strhdr[5] == 0:
        raise _noexec(log, "empty section name table")
    secstrings = data[strhdr[4]:strhdr[4] + strhdr[5]]
    if secstrings[-1] != 0:
        raise _noexec(log, "ELF Spec violation: section name table isn't null terminated")
    if raw[0][1] != SHT_NULL or raw[0][5] != 0 or raw[0][3] != 0:
        raise _noexec(log, f"ELF Spec violation: section 0 type({raw[0][1]})!=SH_NULL or "
                           "non-zero len or addr")
    for i in range(1, e_shnum):
        hdr = raw[i]
        if hdr[1] in (SHT_NULL, SHT_NOBITS):
            continue
        if hdr[1] == SHT_SYMTAB and (hdr[6] == SHN_UNDEF or hdr[6] >= e_shnum):
            raise _noexec(log, f"Invalid ELF sh_link!=SHN_UNDEF({hdr[6]}) or "
                               f"(sh_link({hdr[6]}) >= hdr->e_shnum({e_shnum})")
        if not offset_ok(hdr):
            raise _noexec(log, f"Invalid ELF section in module (section {i} type {hdr[1]})")
        if hdr[2] & SHF_ALLOC and hdr[0] >= strhdr[5]:
            raise _noexec(log, f"Invalid ELF section name in module (section {i} type {hdr[1]})")

    def name_at(off: int) -> str:
        if off >= len(secstrings):
            return ""
        end = secstrings.find(b"\0", off)
        return secstrings[off:end].decode("latin-1")

    sections = [Section(i, name_at(h[0]), *h) for i, h in enumerate(raw)]
    return ElfImage(data, signed, sections)


def read_symbols(image: ElfImage) -> None:
    """Fill ``image.symbols`` from the first SHT_SYMTAB (setup_load_info order)."""
    for sec in image.sections[1:]:
        if sec.sh_type == SHT_SYMTAB:
            image.symtab_index = sec.index
            strtab = image.section_data(sec.sh_link)
            syms = []
            body = image.section_data(sec.index)
            body = body[:len(body) - len(body) % _SYM.size]
            for i, (st_name, st_info, st_other, st_shndx, st_value, st_size) in \
                    enumerate(_SYM.iter_unpack(body)):
                end = strtab.find(b"\0", st_name)
                name = strtab[st_name:end if end >= 0 else len(strtab)].decode("latin-1")
                syms.append(Symbol(i, name, st_info, st_other, st_shndx, st_value, st_size))
            image.symbols = syms
            return


def parse_modinfo(blob: bytes) -> list[tuple[str, str]]:
    """The ``key=value`` strings of ``.modinfo``, in file order."""
    out = []
    for item in blob.split(b"\0"):
        if not item:
            continue
        key, _, value = item.partition(b"=")
        out.append((key.decode("latin-1"), value.decode("utf-8", "backslashreplace")))
    return out


def image_vermagic(image: "ElfImage") -> str | None:
    """The ``vermagic`` of a parsed module (None without one)."""
    idx = image.find_any_sec(".modinfo")
    if not idx:
        return None
    return dict(parse_modinfo(image.section_data(idx))).get("vermagic")


def read_vermagic(data: bytes) -> str | None:
    """The ``vermagic`` of a module file's bytes, or None when it has none or is
    not a module ELF that the loader's checks accept."""
    try:
        body, signed = module_sig_check(data, lambda *a: None)
        return image_vermagic(elf_validity_check(body, lambda *a: None, signed))
    except LoadError:
        return None
