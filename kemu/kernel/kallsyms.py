"""The target kernel's own symbol table, read out of its ``vmlinuz``.

Debian's ``linux-image`` package ships a placeholder ``System.map``; the
kernel image itself carries every symbol (``CONFIG_KALLSYMS_ALL=y``) in the
tables ``scripts/kallsyms.c`` of Linux 6.1 writes, each ``.balign 8``::

    kallsyms_offsets        .long  per symbol (CONFIG_KALLSYMS_BASE_RELATIVE)
    kallsyms_relative_base  .quad
    kallsyms_num_syms       .long
    kallsyms_names          len (1 or 2 bytes, "big" symbols), token indices
    kallsyms_markers        .long  per 256 symbols
    kallsyms_seqs_of_names  3 bytes per symbol (Debian's 6.1 has it; optional)
    kallsyms_token_table    256 zero-terminated tokens
    kallsyms_token_index    .short per token

``decompress_vmlinuz`` does what scripts/extract-vmlinux does (find the
compressed payload by its magic, keep what decompresses to an ELF);
``read_kallsyms`` finds the token table by the tokens of "0".."9", walks
back to the other tables and expands the names as kernel/kallsyms.c's
``kallsyms_expand_symbol`` does; addresses follow ``kallsyms_sym_address``
with ``CONFIG_KALLSYMS_ABSOLUTE_PERCPU`` (non-negative offsets are absolute:
per-CPU symbols). Addresses are the link-time ones (a ``nokaslr`` boot).

The table is cached per release in ``$KEMU_CACHE/targets/RELEASE.kallsyms.gz``
(``/proc/kallsyms`` lines), the ``sys_call_table`` entries and the built-in
certificates in ``RELEASE.tables.json``, both written atomically. Left out: kernels without
base-relative kallsyms, other architectures, zstd/lz4/bzip2 payloads.
"""
from __future__ import annotations

import bisect
import glob
import gzip
import json
import lzma
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KallsymsError", "Kallsyms", "decompress_vmlinuz", "read_kallsyms",
           "find_vmlinuz", "load_kallsyms", "cache_path", "load_syscall_tables"]

#: pointer tables read out of the image too (arch/x86/entry/syscall_64.c, syscall_32.c)
SYSCALL_TABLES = ("sys_call_table", "ia32_sys_call_table", "x32_sys_call_table")

KSYM_NAME_LEN = 512
_DIGIT_TOKENS = b"".join(bytes([c]) + b"\0" for c in b"0123456789")


class KallsymsError(Exception):
    """The image holds no kallsyms tables kemu can read (one line, for the user)."""


def _align8(n: int) -> int:
    return (n + 7) & ~7


# ------------------------------------------------------------------ extract-vmlinux
def _complete(decompressor, data: bytes) -> bytes:
    out = decompressor.decompress(data)
    if not decompressor.eof:                 # a truncated image
        raise EOFError
    return out


def _xz(data: bytes) -> bytes:
    return _complete(lzma.LZMADecompressor(lzma.FORMAT_XZ), data)


def _gzip(data: bytes) -> bytes:
    return _complete(zlib.decompressobj(16 + zlib.MAX_WBITS), data)


def _lzma(data: bytes) -> bytes:
    return _complete(lzma.LZMADecompressor(lzma.FORMAT_ALONE), data)


# scripts/extract-vmlinux's try_decompress list, the formats Python decompresses
_PAYLOADS = ((b"\xfd7zXZ\x00", _xz), (b"\x1f\x8b\x08", _gzip), (b"\x5d\x00\x00\x00", _lzma))


def decompress_vmlinuz(image: bytes) -> bytes:
    """The ELF vmlinux inside a bzImage (or the image itself if it is one)."""
    if image[:4] == b"\x7fELF":
        return image
    for magic, decompress in _PAYLOADS:
        pos = image.find(magic)
        while pos >= 0:
            try:
                out = decompress(image[pos:])
            except (lzma.LZMAError, zlib.error, EOFError):
                out = b""
            if out[:4] == b"\x7fELF":
                return out
            pos = image.find(magic, pos + 1)
    raise KallsymsError("no xz, gzip or lzma compressed vmlinux in the image")


# ------------------------------------------------------------------ the tables
@dataclass(frozen=True)
class Symbol:
    addr: int
    type: str
    name: str


def _tokens(vmlinux: bytes) -> tuple[int, list[bytes], int]:
    """(start of kallsyms_token_table, the 256 tokens, start of kallsyms_token_index)."""
    pos = vmlinux.find(_DIGIT_TOKENS)
    while pos >= 0:
        start = pos
        for _ in range(ord("0")):            # walk back over tokens 0x2f .. 0x00
            prev = vmlinux.rfind(b"\0", 0, start - 1)
            if prev < 0 or start - prev < 2:
                start = -1
                break
            start = prev + 1
        if start >= 0:
            tokens, off, offsets = [], start, []
            for _ in range(256):
                end = vmlinux.index(b"\0", off)
                offsets.append(off - start)
                tokens.append(vmlinux[off:end])
                off = end + 1
            index = _align8(off)
            if (list(struct.unpack_from("<256H", vmlinux, index)) == offsets
                    and start % 8 == 0):
                return start, tokens, index
        pos = vmlinux.find(_DIGIT_TOKENS, pos + 1)
    raise KallsymsError("no kallsyms_token_table in the image (CONFIG_KALLSYMS?)")


def _expand(names: bytes, off: int, tokens: list[bytes]) -> tuple[bytes, int]:
    """kallsyms_expand_symbol(): (type char + name, offset of the next symbol)."""
    length = names[off]
    off += 1
    if length & 0x80:                        # a "big" symbol: two length bytes
        length = (length & 0x7F) | (names[off] << 7)
        off += 1
    return b"".join(tokens[b] for b in names[off:off + length]), off + length


def read_kallsyms(vmlinux: bytes) -> list[Symbol]:
    """Every symbol of kallsyms, in the kernel's table order."""
    table, tokens, _index = _tokens(vmlinux)
    u32 = struct.Struct("<I")
    # num_syms is unknown: try each count whose markers / seqs_of_names end at the tokens
    for has_seqs in (True, False):
        for n in range(1000, 400000):
            markers = table - (_align8(3 * n) if has_seqs else 0) - _align8(4 * ((n + 255) >> 8))
            if u32.unpack_from(vmlinux, markers)[0] != 0:
                continue
            count_at = _find_count(vmlinux, n, markers)
            if count_at is None:
                continue
            return _decode(vmlinux, n, count_at, markers, tokens)
    raise KallsymsError("no kallsyms_num_syms in front of the token table")


def _find_count(vmlinux: bytes, n: int, markers: int) -> int | None:
    """Where kallsyms_num_syms == n is, the names running from it up to the markers."""
    nmarkers = (n + 255) >> 8
    last = struct.unpack_from("<I", vmlinux, markers + 4 * (nmarkers - 1))[0]
    if nmarkers > 1 and not 0 < last < markers:
        return None
    # the names end after the last marker's 256 (or fewer) symbols, each under 2 + 255 bytes
    lo = markers - 8 - last - (n - 256 * (nmarkers - 1)) * (2 + KSYM_NAME_LEN)
    want = struct.pack("<II", n, 0)
    at = vmlinux.rfind(want, max(0, lo), markers - last)
    while at >= 0 and at % 8:
        at = vmlinux.rfind(want, max(0, lo), at)
    return at if at >= 0 else None


def _decode(vmlinux: bytes, n: int, count_at: int, markers: int,
            tokens: list[bytes]) -> list[Symbol]:
    names = memoryview(vmlinux)[count_at + 8:markers].tobytes()
    base = struct.unpack_from("<Q", vmlinux, count_at - 8)[0]
    offsets = struct.unpack_from(f"<{n}i", vmlinux, count_at - 8 - _align8(4 * n))
    out, off = [], 0
    marker_values = struct.unpack_from(f"<{(n + 255) >> 8}I", vmlinux, markers)
    for i in range(n):
        if i % 256 == 0 and marker_values[i >> 8] != off:
            raise KallsymsError("kallsyms_markers do not match kallsyms_names")
        raw, off = _expand(names, off, tokens)
        o = offsets[i]
        addr = o if o >= 0 else base - 1 - o
        out.append(Symbol(addr, chr(raw[0]), raw[1:].decode("ascii", "replace")))
    if _align8(off) != len(names) and off > len(names):
        raise KallsymsError("kallsyms_names overrun")
    return out


# ------------------------------------------------------------------ the lookups
class Kallsyms:
    """The table with the lookups kernel/kallsyms.c offers."""

    def __init__(self, symbols: list[Symbol], release: str = ""):
        self.release = release
        self.pointer_tables: dict[str, list[str]] = {}
        self.certificates: list[dict] = []      # {"serial": hex, "subject", "issuer"}
        self.symbols = symbols
        self._by_name: dict[str, int] = {}
        for i, sym in enumerate(symbols):
            self._by_name.setdefault(sym.name, i)
        self._sorted = sorted(range(len(symbols)), key=lambda i: symbols[i].addr)
        self._addrs = [symbols[i].addr for i in self._sorted]

    def __len__(self) -> int:
        return len(self.symbols)

    def lookup_name(self, name: str) -> int:
        """kallsyms_lookup_name(): the address, 0 when there is no such symbol."""
        i = self._by_name.get(name)
        return 0 if i is None else self.symbols[i].addr

    def get(self, name: str) -> Symbol | None:
        i = self._by_name.get(name)
        return None if i is None else self.symbols[i]

    def lookup(self, addr: int) -> tuple[str, int, int] | None:
        """kallsyms_lookup(): (name, offset, size) of the text/data symbol holding addr.

        As get_symbol_pos(): the first of the symbols sharing the address, the size
        running to the next higher address. Per-CPU (absolute) symbols are not searched.
        """
        if not self._addrs or addr < self._text_floor():
            return None
        pos = bisect.bisect_right(self._addrs, addr) - 1
        if pos < 0:
            return None
        start = self._addrs[pos]
        first = bisect.bisect_left(self._addrs, start)
        nxt = bisect.bisect_right(self._addrs, start)
        if nxt >= len(self._addrs):
            return None
        sym = self.symbols[self._sorted[first]]
        return sym.name, addr - start, self._addrs[nxt] - start

    def _text_floor(self) -> int:
        return 0xffff800000000000

    def lines(self) -> list[str]:
        """/proc/kallsyms' vmlinux lines (%px %c %s), addresses unrestricted."""
        return [f"{s.addr:016x} {s.type} {s.name}" for s in self.symbols]


def _file_offset(vmlinux: bytes, vaddr: int) -> int | None:
    """Where the PT_LOAD segment holding ``vaddr`` keeps it in the ELF file."""
    phoff, = struct.unpack_from("<Q", vmlinux, 0x20)
    phnum, = struct.unpack_from("<H", vmlinux, 0x38)
    for i in range(phnum):
        p_type, _flags, p_offset, p_vaddr, _pa, p_filesz = struct.unpack_from(
            "<IIQQQQ", vmlinux, phoff + 56 * i)
        if p_type == 1 and p_vaddr <= vaddr < p_vaddr + p_filesz:
            return p_offset + vaddr - p_vaddr
    return None


def read_pointer_tables(vmlinux: bytes, table: "Kallsyms") -> dict[str, list[str]]:
    """The entries of each SYSCALL_TABLES array the image has, as symbol names
    (``__x64_sys_read``, ...; trailing padding dropped)."""
    out = {}
    for name in SYSCALL_TABLES:
        sym = table.get(name)
        hit = table.lookup(sym.addr) if sym else None
        at = _file_offset(vmlinux, sym.addr) if sym else None
        if not hit or at is None:
            continue
        values = list(struct.unpack_from(f"<{hit[2] // 8}Q", vmlinux, at))
        while values and values[-1] == 0:
            values.pop()
        names = []
        for value in values:
            target = table.lookup(value)
            names.append(target[0] if target and target[1] == 0 else f"{value:#x}")
        out[name] = names
    return out


def read_certificates(vmlinux: bytes, table: "Kallsyms") -> list[dict]:
    """The X.509 certificates the image trusts (certs/system_certificates.S:
    ``system_certificate_list``, its length in ``system_certificate_list_size``);
    the first is the build key modules are signed with."""
    from kemu.module.modsig import find_certificates
    start, size = table.get("system_certificate_list"), table.get("system_certificate_list_size")
    at = _file_offset(vmlinux, start.addr) if start else None
    size_at = _file_offset(vmlinux, size.addr) if size else None
    if at is None or size_at is None:
        return []
    length, = struct.unpack_from("<Q", vmlinux, size_at)
    return [{"serial": c.serial.hex(), "subject": c.subject_cn, "issuer": c.issuer_cn}
            for c in find_certificates(vmlinux[at:at + length])]


# ------------------------------------------------------------------ where, and the cache
def cache_dir() -> Path:
    base = os.environ.get("KEMU_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kemu")
    return Path(base) / "targets"


def cache_path(release: str) -> Path:
    return cache_dir() / f"{release}.kallsyms.gz"


def find_vmlinuz(release: str) -> Path | None:
    """The release's kernel image: $KEMU_VMLINUZ, /boot, kemu's Debian copy, the oracle's."""
    cands = [os.environ.get("KEMU_VMLINUZ", ""), f"/boot/vmlinuz-{release}"]
    base = cache_dir().parent
    cands.append(str(base / "debian" / release / "boot" / f"vmlinuz-{release}"))
    cands += sorted(glob.glob(f"/tmp/kemu-oracle/image-{release}/boot/vmlinuz-{release}"))
    for cand in cands:
        if cand and os.path.isfile(cand) and os.access(cand, os.R_OK):
            return Path(cand)
    return None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _parse_lines(text: str) -> list[Symbol]:
    out = []
    for line in text.splitlines():
        addr, typ, name = line.split(" ", 2)
        out.append(Symbol(int(addr, 16), typ, name))
    return out


_LOADED: dict[str, Kallsyms] = {}


def load_kallsyms(release: str, vmlinuz: str | os.PathLike | None = None) -> Kallsyms:
    """The release's table: from the cache, else extracted from its vmlinuz and cached."""
    if release in _LOADED and vmlinuz is None:
        return _LOADED[release]
    path = cache_path(release)
    tables_path = path.with_name(f"{release}.tables.json")
    if vmlinuz is None and path.is_file() and tables_path.is_file():
        table = Kallsyms(_parse_lines(gzip.decompress(path.read_bytes()).decode()), release)
        tables = json.loads(tables_path.read_text())
        table.pointer_tables, table.certificates = tables["pointer_tables"], tables["certificates"]
    else:
        image = Path(vmlinuz) if vmlinuz else find_vmlinuz(release)
        if image is None:
            raise KallsymsError(f"no vmlinuz-{release} to read the kernel's symbols from "
                                "(tests/fetch-debian-modules.sh fetches it; or set KEMU_VMLINUZ)")
        vmlinux = decompress_vmlinuz(image.read_bytes())
        syms = read_kallsyms(vmlinux)
        table = Kallsyms(syms, release)
        table.pointer_tables = read_pointer_tables(vmlinux, table)
        table.certificates = read_certificates(vmlinux, table)
        text = "".join(f"{s.addr:016x} {s.type} {s.name}\n" for s in syms)
        _write_atomic(path, gzip.compress(text.encode(), 6))
        _write_atomic(tables_path, json.dumps({"pointer_tables": table.pointer_tables,
                                               "certificates": table.certificates}).encode())
    _LOADED[release] = table
    return table


def load_syscall_tables(release: str) -> dict[str, list[str]]:
    """{table name: [entry symbol per number]} of the release's syscall tables."""
    return load_kallsyms(release).pointer_tables
