"""file:line for module addresses, from the module's DWARF (pyelftools).

A ``.ko`` is relocatable: its line programs hold section-relative addresses
that only relocations make meaningful, and every code section starts at 0.
Before pyelftools reads them, the debug sections' relocations are applied
with each loaded section placed at a synthetic base (its index << 40), so a
line-table address says which section it is in. Built once per parsed image.
"""
from __future__ import annotations

import bisect
import hashlib
import io
import os

from kemu.module import elf as E
from kemu.module.reloc import RELOCATION_TYPES

SECTION_SHIFT = 40
_DEBUG_RELOCATED = (".debug_line", ".debug_info", ".debug_addr", ".debug_rnglists",
                    ".debug_aranges", ".debug_str_offsets", ".debug_loclists")


class LineTable:
    """Sorted (section index, offset) -> (file, line) rows of one module."""

    def __init__(self, rows):
        # program order breaks ties: of several rows at one address the last one counts
        rows = [row[:2] + (i,) + row[2:] for i, row in enumerate(rows)]
        rows.sort()
        self.keys = [(sec, off) for sec, off, _i, _f, _l in rows]
        self.rows = [(sec, off, f, line) for sec, off, _i, f, line in rows]

    def lookup(self, section: int, offset: int):
        """(file, line) of the row covering section+offset, or None."""
        pos = bisect.bisect_right(self.keys, (section, offset, )) - 1
        while pos + 1 < len(self.keys) and self.keys[pos + 1] == (section, offset):
            pos += 1
        if pos < 0 or self.rows[pos][0] != section:
            return None
        return self.rows[pos][2], self.rows[pos][3]


def _relocated_copy(image: E.ElfImage) -> bytes:
    data = bytearray(image.data)
    alloc = {s.index for s in image.sections if s.sh_flags & E.SHF_ALLOC}
    syms = image.symbols
    for sec in image.sections:
        if sec.sh_type != E.SHT_RELA or sec.sh_info >= len(image.sections):
            continue
        target = image.sections[sec.sh_info]
        if target.name not in _DEBUG_RELOCATED:
            continue
        for r_offset, r_sym, r_type, addend in image.iter_relas(sec.index):
            cls = RELOCATION_TYPES.get(r_type)
            if cls is None or not cls.size or r_sym >= len(syms):
                continue
            sym = syms[r_sym]
            base = (sym.st_shndx << SECTION_SHIFT) if sym.st_shndx in alloc else 0
            value = cls.value(base + sym.st_value, addend, 0) & ((1 << (8 * cls.size)) - 1)
            pos = target.sh_offset + r_offset
            if pos + cls.size <= target.sh_offset + target.sh_size:
                data[pos:pos + cls.size] = value.to_bytes(cls.size, "little")
    return bytes(data)


class InlineTable:
    """Where inlined code was called from: (section, lo, hi, depth, file, line) rows."""

    def __init__(self, rows):
        self.rows = rows

    def outermost(self, section: int, offset: int):
        """(file, line) of the outermost inlined call covering the address, or None."""
        best = None
        for sec, lo, hi, depth, fname, line in self.rows:
            if sec == section and lo <= offset < hi and (best is None or depth < best[0]):
                best = (depth, fname, line)
        return (best[1], best[2]) if best else None


def _split(addr: int):
    return addr >> SECTION_SHIFT, addr & ((1 << SECTION_SHIFT) - 1)


def _inline_rows(dwarf, cu, files) -> list:
    rows = []
    rnglists = None
    for die in cu.iter_DIEs():
        if die.tag != "DW_TAG_inlined_subroutine":
            continue
        attrs = die.attributes
        if "DW_AT_call_line" not in attrs:
            continue
        depth, parent = 0, die.get_parent()
        while parent is not None:
            depth += parent.tag == "DW_TAG_inlined_subroutine"
            parent = parent.get_parent()
        where = (files.get(attrs["DW_AT_call_file"].value, "?"), attrs["DW_AT_call_line"].value)
        spans = []
        if "DW_AT_low_pc" in attrs and "DW_AT_high_pc" in attrs:
            lo = attrs["DW_AT_low_pc"].value
            hi = attrs["DW_AT_high_pc"]
            spans.append((lo, hi.value if hi.form == "DW_FORM_addr" else lo + hi.value))
        elif "DW_AT_ranges" in attrs:
            if rnglists is None:
                rnglists = dwarf.range_lists()
            if rnglists is None:
                continue
            base = cu.get_top_DIE().attributes.get("DW_AT_low_pc")
            base = base.value if base is not None else 0
            for entry in rnglists.get_range_list_at_offset(attrs["DW_AT_ranges"].value, cu=cu):
                if hasattr(entry, "base_address"):
                    base = entry.base_address
                    continue
                lo, hi = entry.begin_offset, entry.end_offset
                if not getattr(entry, "is_absolute", False):
                    lo, hi = lo + base, hi + base
                spans.append((lo, hi))
        for lo, hi in spans:
            if hi > lo:
                sec, off = _split(lo)
                rows.append((sec, off, off + (hi - lo), depth) + where)
    return rows


_TABLES: dict = {}          # debug-content key -> (LineTable, InlineTable)
_TABLES_MAX = 32


def _debug_key(image: E.ElfImage) -> bytes:
    """What the line tables depend on: the file without the contents of its
    loaded sections (code and data), unless one overlaps another section. Two
    builds differing only in code bytes (a patched instruction) share tables."""
    data = bytearray(image.data)
    spans = [(s.sh_offset, s.sh_offset + s.sh_size, s) for s in image.sections
             if s.sh_type != E.SHT_NOBITS and s.sh_size]
    for lo, hi, sec in spans:
        if sec.sh_flags & E.SHF_ALLOC and hi <= len(data) and not any(
                o is not sec and olo < hi and lo < ohi for olo, ohi, o in spans):
            data[lo:hi] = bytes(hi - lo)
    return hashlib.sha256(data).digest()


def line_table(image: E.ElfImage):
    """The image's LineTable (cached on it and by debug content), or None
    without usable DWARF."""
    cached = getattr(image, "_lines", False)
    if cached is not False:
        return cached
    key = _debug_key(image)
    hit = _TABLES.get(key)
    if hit is not None:
        image._lines, image._inlines = hit
        return hit[0]
    table = None
    image._inlines = None
    try:
        if image.find_any_sec(".debug_line") and image.find_any_sec(".debug_info"):
            from elftools.elf.elffile import ELFFile
            elf = ELFFile(io.BytesIO(_relocated_copy(image)))
            dwarf = elf.get_dwarf_info(relocate_dwarf_sections=False)
            rows, inline_rows = [], []
            for cu in dwarf.iter_CUs():
                prog = dwarf.line_program_for_CU(cu)
                if prog is None:
                    continue
                files = _file_names(prog, cu)
                try:
                    inline_rows += _inline_rows(dwarf, cu, files)
                except Exception:         # unusual inline info: lines only
                    pass
                for entry in prog.get_entries():
                    st = entry.state
                    if st is None or st.end_sequence:
                        continue
                    sec, off = st.address >> SECTION_SHIFT, st.address & ((1 << SECTION_SHIFT) - 1)
                    rows.append((sec, off, files.get(st.file, "?"), st.line))
            table = LineTable(rows) if rows else None
            image._inlines = InlineTable(inline_rows)
    except Exception:                 # damaged or unusual DWARF: no line numbers
        table = None
    image._lines = table
    if len(_TABLES) >= _TABLES_MAX:
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[key] = (table, image._inlines)
    return table


def _file_names(prog, cu) -> dict:
    header = prog.header
    names = {}
    version = header["version"]
    entries = header["file_entry"]
    dirs = header["include_directory"]
    for i, entry in enumerate(entries):
        name = entry.name.decode() if isinstance(entry.name, bytes) else str(entry.name)
        d = entry.dir_index
        if 0 <= d < len(dirs) and not os.path.isabs(name):
            dname = dirs[d].decode() if isinstance(dirs[d], bytes) else str(dirs[d])
            if d != 0 or version < 5:
                name = os.path.join(dname, name) if dname and not dname.startswith("/") else name
        names[i if version >= 5 else i + 1] = os.path.basename(name) if name.startswith("/") \
            else name
    return names


def source_line(k, addr: int):
    """``file.c:line`` of a module address, or None."""
    mod = k.module_containing(addr)
    if mod is None or mod.image is None:
        return None
    table = line_table(mod.image)
    if table is None:
        return None
    inlines = getattr(mod.image, "_inlines", None)
    for idx, (sec_addr, size) in getattr(mod, "section_spans", {}).items():
        if size and sec_addr <= addr < sec_addr + size:
            outer = inlines.outermost(idx, addr - sec_addr) if inlines else None
            hit = outer or table.lookup(idx, addr - sec_addr)
            return f"{hit[0]}:{hit[1]}" if hit else None
    return None


class LazySite:
    """A call site in code that is about to go away (init code): its kallsyms text
    now, its ``file.c:line`` (DWARF) only if a report asks for it."""

    def __init__(self, k, addr: int, is_return: bool = True):
        mod = k.module_containing(addr)
        self.text = k.format_addr(addr)
        self.where = None
        look = addr - 1 if is_return else addr
        for idx, (sec_addr, size) in getattr(mod, "section_spans", {}).items():
            if size and sec_addr <= look < sec_addr + size:
                self.where = (mod.image, idx, look - sec_addr)
                break
        self._resolved = None

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        if self._resolved is None:
            line = None
            if self.where is not None:
                image, idx, off = self.where
                table = line_table(image)
                inlines = getattr(image, "_inlines", None)
                hit = (inlines.outermost(idx, off) if inlines else None) or \
                    (table.lookup(idx, off) if table else None)
                line = f"{hit[0]}:{hit[1]}" if hit else None
            self._resolved = f"{self.text} ({line})" if line else self.text
        return self._resolved

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def split(self, *args):
        """str.split() of the resolved text (reports split off the line part)."""
        return str(self).split(*args)
