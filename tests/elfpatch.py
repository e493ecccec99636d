"""Byte-level surgery on a built module, for the hostile-input tests.

Reads the ELF64 header and section table with ``struct`` directly (not with
kemu's parser, which is what is under test) and patches fields in place.
"""
from __future__ import annotations

import struct

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")
RELA = struct.Struct("<QQq")
SHDR_FIELDS = ("sh_name", "sh_type", "sh_flags", "sh_addr", "sh_offset", "sh_size",
               "sh_link", "sh_info", "sh_addralign", "sh_entsize")
EHDR_FIELDS = ("e_ident", "e_type", "e_machine", "e_version", "e_entry", "e_phoff", "e_shoff",
               "e_flags", "e_ehsize", "e_phentsize", "e_phnum", "e_shentsize", "e_shnum",
               "e_shstrndx")
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHT_PROGBITS, SHT_SYMTAB, SHT_RELA, SHT_NOBITS, SHT_REL = 1, 2, 4, 8, 9
STT_SECTION = 3


class ElfPatch:
    """A mutable copy of a relocatable ELF64 file."""

    def __init__(self, data: bytes):
        self.data = bytearray(data)

    # ------------------------------------------------------------ header
    @property
    def ehdr(self) -> dict:
        return dict(zip(EHDR_FIELDS, EHDR.unpack_from(self.data)))

    def set_ehdr(self, **fields) -> "ElfPatch":
        hdr = self.ehdr
        hdr.update(fields)
        EHDR.pack_into(self.data, 0, *(hdr[f] for f in EHDR_FIELDS))
        return self

    # ---------------------------------------------------------- sections
    def shdr_offset(self, index: int) -> int:
        return self.ehdr["e_shoff"] + index * SHDR.size

    def shdr(self, index: int) -> dict:
        return dict(zip(SHDR_FIELDS, SHDR.unpack_from(self.data, self.shdr_offset(index))))

    def set_shdr(self, index: int, **fields) -> "ElfPatch":
        hdr = self.shdr(index)
        hdr.update(fields)
        SHDR.pack_into(self.data, self.shdr_offset(index), *(hdr[f] for f in SHDR_FIELDS))
        return self

    @property
    def shnum(self) -> int:
        return self.ehdr["e_shnum"]

    def shstrtab(self) -> bytes:
        hdr = self.shdr(self.ehdr["e_shstrndx"])
        return bytes(self.data[hdr["sh_offset"]:hdr["sh_offset"] + hdr["sh_size"]])

    def name(self, index: int) -> str:
        strtab = self.shstrtab()
        off = self.shdr(index)["sh_name"]
        return strtab[off:strtab.index(b"\0", off)].decode()

    def index(self, name: str) -> int:
        """Index of the section called ``name`` (first match)."""
        for i in range(1, self.shnum):
            if self.name(i) == name:
                return i
        raise KeyError(name)

    def section_bytes(self, index: int) -> bytes:
        hdr = self.shdr(index)
        return bytes(self.data[hdr["sh_offset"]:hdr["sh_offset"] + hdr["sh_size"]])

    # ------------------------------------------------- symbols, relocations
    def symbols(self) -> list[tuple[str, int]]:
        """(name, st_shndx) of each symbol of the SYMTAB, in index order.

        A section symbol (STT_SECTION) is named after its section, as readelf names it.
        """
        symtab = next(i for i in range(1, self.shnum) if self.shdr(i)["sh_type"] == SHT_SYMTAB)
        strtab = self.section_bytes(self.shdr(symtab)["sh_link"])
        out = []
        for st_name, info, _other, shndx, _value, _size in SYM.iter_unpack(
                self.section_bytes(symtab)):
            if info & 0xF == STT_SECTION:
                out.append((self.name(shndx), shndx))
            else:
                out.append((strtab[st_name:strtab.index(b"\0", st_name)].decode(), shndx))
        return out

    def relas(self, index: int) -> list[tuple[int, int, int, int]]:
        """(r_offset, symbol index, type, addend) of a SHT_RELA section."""
        return [(off, info >> 32, info & 0xFFFFFFFF, add)
                for off, info, add in RELA.iter_unpack(self.section_bytes(index))]

    def set_rela(self, index: int, entry: int, r_offset=None, r_sym=None, r_type=None,
                 r_addend=None) -> "ElfPatch":
        off, sym, typ, add = self.relas(index)[entry]
        off = off if r_offset is None else r_offset
        sym = sym if r_sym is None else r_sym
        typ = typ if r_type is None else r_type
        add = add if r_addend is None else r_addend
        RELA.pack_into(self.data, self.shdr(index)["sh_offset"] + entry * RELA.size,
                       off, (sym << 32) | typ, add)
        return self

    def write_at_section(self, index: int, offset: int, blob: bytes) -> "ElfPatch":
        """Overwrite ``blob`` at ``offset`` inside a section's file bytes."""
        hdr = self.shdr(index)
        assert offset + len(blob) <= hdr["sh_size"]
        start = hdr["sh_offset"] + offset
        self.data[start:start + len(blob)] = blob
        return self

    def bytes(self) -> bytes:
        return bytes(self.data)
