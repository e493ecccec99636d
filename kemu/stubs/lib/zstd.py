"""lib/zstd/common and lib/zstd/zstd_decompress_module.c (zstd 1.4.10, built in):
the exports zstd_compress and the zstd crypto module take from vmlinux.

ZSTD_customMalloc/Calloc/Free (zstd_common.c) use the caller's allocator or,
without one, the kernel's ZSTD_malloc(), which is always NULL. FSE_readNCount()
and HUF_readStats() (entropy_common.c, with the FSE decoder of
fse_decompress.c and the bit reader of bitstream.h it needs) are ports that
work on the bytes and return zstd's error codes, (size_t)-ZSTD_error_*.

zstd_decompress_dctx() decompresses with the host's libzstd (the same format,
and the same stable ZSTD_error_* numbers); without libzstd it reports that it
is not modelled and returns ERROR(GENERIC). The context lives in the caller's
workspace, as ZSTD_initStaticDCtx() puts it there.

The ZSTD_customMem argument is a 24-byte struct passed by value, so it is in
memory on the stack after the return address (SysV MEMORY class), read here
as its three pointers: customAlloc, customFree, opaque.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools

from kemu import export
from kemu.errors import MemoryFault
from kemu.abi.exports import unreachable

U64 = (1 << 64) - 1
FSE_MIN_TABLELOG, FSE_TABLELOG_ABSOLUTE_MAX = 5, 15
FSE_MAX_SYMBOL_VALUE, FSE_MAX_TABLELOG = 255, 12
HUF_TABLELOG_MAX = 12
# BIT_DStream_status
UNFINISHED, END_OF_BUFFER, COMPLETED, OVERFLOW = 0, 1, 2, 3


class ZstdError(Exception):
    """ERROR(name): returned as (size_t)-ZSTD_error_name."""


def error(k, name: str) -> int:
    return -k.target.const(f"ZSTD_error_{name}") & U64


def _custom_mem(k):
    """The by-value ZSTD_customMem: (customAlloc, customFree, opaque)."""
    rsp = k.machine.reg("rsp")
    return tuple(k.machine.read_u64(rsp + 8 * i) for i in (1, 2, 3))


@export("void *ZSTD_customMalloc(size_t size)")
def ZSTD_customMalloc(k, size):
    alloc, _free, opaque = _custom_mem(k)
    if alloc:
        return (yield k.call_request(alloc, opaque, size))
    return 0                                           # ZSTD_malloc(): NULL in the kernel


@export("void *ZSTD_customCalloc(size_t size)")
def ZSTD_customCalloc(k, size):
    alloc, _free, opaque = _custom_mem(k)
    if alloc:
        ptr = yield k.call_request(alloc, opaque, size)
        if ptr and size:
            k.machine.write(ptr, bytes(size))
        return ptr
    return 0                                           # ZSTD_calloc(): NULL in the kernel


@export("void ZSTD_customFree(void *ptr)")
def ZSTD_customFree(k, ptr):
    _alloc, free, opaque = _custom_mem(k)
    if ptr and free:
        yield k.call_request(free, opaque, ptr)       # else ZSTD_free(): nothing


# --------------------------------------------------------------- FSE_readNCount
def _highbit32(v):
    return v.bit_length() - 1


def _ctz(v):
    return (v & -v).bit_length() - 1


def read_ncount(k, buf: bytes, max_sv: int):
    """FSE_readNCount_body(): (bytes read, counts, maxSV, tableLog); ZstdError on error."""
    hb_size = len(buf)
    if hb_size < 8:
        size, counts, msv, tlog = read_ncount(k, buf + bytes(8 - hb_size), max_sv)
        if size > hb_size:
            raise ZstdError("corruption_detected")
        return size, counts, msv, tlog
    iend = hb_size
    counts = [0] * (max_sv + 1)

    def le32(i):
        return int.from_bytes(buf[i:i + 4], "little")
    ip = 0
    bit_stream = le32(ip)
    nb_bits = (bit_stream & 0xF) + FSE_MIN_TABLELOG
    if nb_bits > FSE_TABLELOG_ABSOLUTE_MAX:
        raise ZstdError("tableLog_tooLarge")
    bit_stream >>= 4
    bit_count = 4
    table_log = nb_bits
    remaining = (1 << nb_bits) + 1
    threshold = 1 << nb_bits
    nb_bits += 1
    charnum, max_sv1, previous0 = 0, max_sv + 1, False

    def advance(ip, bit_count):
        if ip <= iend - 7 or ip + (bit_count >> 3) <= iend - 4:
            return ip + (bit_count >> 3), bit_count & 7
        return iend - 4, (bit_count - 8 * (iend - 4 - ip)) & 31

    while True:
        if previous0:
            repeats = _ctz(~bit_stream & 0xFFFFFFFF | 0x80000000) >> 1
            while repeats >= 12:
                charnum += 3 * 12
                if ip <= iend - 7:
                    ip += 3
                else:
                    bit_count = (bit_count - 8 * (iend - 7 - ip)) & 31
                    ip = iend - 4
                bit_stream = le32(ip) >> bit_count
                repeats = _ctz(~bit_stream & 0xFFFFFFFF | 0x80000000) >> 1
            charnum += 3 * repeats
            bit_stream >>= 2 * repeats
            bit_count += 2 * repeats
            charnum += bit_stream & 3
            bit_count += 2
            if charnum >= max_sv1:
                break
            ip, bit_count = advance(ip, bit_count)
            bit_stream = le32(ip) >> bit_count
        mx = (2 * threshold - 1) - remaining
        if (bit_stream & (threshold - 1)) < (mx & 0xFFFFFFFF):
            count = bit_stream & (threshold - 1)
            bit_count += nb_bits - 1
        else:
            count = bit_stream & (2 * threshold - 1)
            if count >= threshold:
                count -= mx
            bit_count += nb_bits
        count -= 1
        remaining += -count if count >= 0 else count
        counts[charnum] = count
        charnum += 1
        previous0 = count == 0
        if remaining < threshold:
            if remaining <= 1:
                break
            nb_bits = _highbit32(remaining) + 1
            threshold = 1 << (nb_bits - 1)
        if charnum >= max_sv1:
            break
        ip, bit_count = advance(ip, bit_count)
        bit_stream = le32(ip) >> bit_count
    if remaining != 1:
        raise ZstdError("corruption_detected")
    if charnum > max_sv1:
        raise ZstdError("maxSymbolValue_tooSmall")
    if bit_count > 32:
        raise ZstdError("corruption_detected")
    ip += (bit_count + 7) >> 3
    return ip, counts[:max_sv1], charnum - 1, table_log


@export("size_t FSE_readNCount(short *normalizedCounter, unsigned int *maxSVPtr, "
        "unsigned int *tableLogPtr, const void *headerBuffer, size_t hbSize)")
def FSE_readNCount(k, counter, max_sv_ptr, table_log_ptr, header, hb_size):
    """Read an FSE normalized-count header: bytes read or an error code."""
    m = k.machine
    max_sv = m.read_u32(max_sv_ptr)
    m.fill(counter, 0, 2 * (max_sv + 1))
    try:
        size, counts, msv, tlog = read_ncount(k, m.read(header, hb_size) if hb_size else b"",
                                              max_sv)
    except ZstdError as exc:
        return error(k, str(exc))
    m.write(counter, b"".join((c & 0xFFFF).to_bytes(2, "little") for c in counts))
    m.write_u32(table_log_ptr, tlog)
    m.write_u32(max_sv_ptr, msv)
    return size


# ---------------------------------------------------------------- FSE decoding
class BitD:
    """BIT_DStream_t over ``src`` (bitstream.h)."""

    def __init__(self, src: bytes):
        size = len(src)
        if size < 1:
            raise ZstdError("srcSize_wrong")
        self.src, self.start, self.limit = src, 0, 8
        last = src[-1]
        if size >= 8:
            self.ptr = size - 8
            self.container = int.from_bytes(src[self.ptr:self.ptr + 8], "little")
            self.consumed = 8 - _highbit32(last) if last else 0
            if not last:
                raise ZstdError("GENERIC")
        else:
            self.ptr = 0
            self.container = int.from_bytes(src, "little")
            self.consumed = 8 - _highbit32(last) if last else 0
            if not last:
                raise ZstdError("corruption_detected")
            self.consumed += (8 - size) * 8

    def look(self, nb):
        return ((self.container << (self.consumed & 63)) & U64) >> 1 >> ((63 - nb) & 63)

    def look_fast(self, nb):
        return ((self.container << (self.consumed & 63)) & U64) >> ((64 - nb) & 63)

    def read(self, nb, fast=False):
        value = self.look_fast(nb) if fast else self.look(nb)
        self.consumed += nb
        return value

    def reload(self):
        if self.consumed > 64:
            return OVERFLOW
        if self.ptr >= self.limit:
            self.ptr -= self.consumed >> 3
            self.consumed &= 7
            self.container = int.from_bytes(self.src[self.ptr:self.ptr + 8], "little")
            return UNFINISHED
        if self.ptr == self.start:
            return END_OF_BUFFER if self.consumed < 64 else COMPLETED
        nb_bytes, result = self.consumed >> 3, UNFINISHED
        if self.ptr - nb_bytes < self.start:
            nb_bytes, result = self.ptr - self.start, END_OF_BUFFER
        self.ptr -= nb_bytes
        self.consumed -= nb_bytes * 8
        self.container = int.from_bytes(self.src[self.ptr:self.ptr + 8], "little")
        return result


def build_dtable(counts, max_sv, table_log, wksp_size):
    """FSE_buildDTable_internal(): (fastMode, [(symbol, nbBits, newState)])."""
    if 2 * (max_sv + 1) + (1 << table_log) + 8 > wksp_size:
        raise ZstdError("maxSymbolValue_tooLarge")
    if max_sv > FSE_MAX_SYMBOL_VALUE:
        raise ZstdError("maxSymbolValue_tooLarge")
    if table_log > FSE_MAX_TABLELOG:
        raise ZstdError("tableLog_tooLarge")
    size = 1 << table_log
    high = size - 1
    symbols = [0] * size
    nxt = [0] * (max_sv + 1)
    fast = 1
    large = 1 << (table_log - 1)
    for s in range(max_sv + 1):
        if counts[s] == -1:
            symbols[high] = s
            high -= 1
            nxt[s] = 1
        else:
            if counts[s] >= large:
                fast = 0
            nxt[s] = counts[s]
    step = (size >> 1) + (size >> 3) + 3
    mask = size - 1
    if high == size - 1:
        spread = []
        for s in range(max_sv + 1):
            spread += [s] * max(counts[s], 0)
        position = 0
        for s in range(0, size, 2):
            for u in range(2):
                symbols[(position + u * step) & mask] = spread[s + u]
            position = (position + 2 * step) & mask
    else:
        position = 0
        for s in range(max_sv + 1):
            for _ in range(counts[s]):
                symbols[position] = s
                position = (position + step) & mask
                while position > high:
                    position = (position + step) & mask
        if position != 0:
            raise ZstdError("GENERIC")
    table = []
    for u in range(size):
        sym = symbols[u]
        state = nxt[sym]
        nxt[sym] += 1
        nb = (table_log - _highbit32(state)) & 0xFF
        table.append((sym, nb, ((state << nb) - size) & 0xFFFF))
    return fast, table


def fse_decompress(k, src: bytes, capacity: int, max_log: int, wksp_size: int) -> bytes:
    """FSE_decompress_wksp_body(): the decoded bytes; ZstdError on error."""
    if wksp_size < 2 * (FSE_MAX_SYMBOL_VALUE + 1) + 4:          # sizeof(FSE_DecompressWksp)
        raise ZstdError("GENERIC")
    n, counts, max_sv, table_log = read_ncount(k, src, FSE_MAX_SYMBOL_VALUE)
    if table_log > max_log:
        raise ZstdError("tableLog_tooLarge")
    src = src[n:]
    dtable_u32 = 1 + (1 << table_log)
    build_u32 = (2 * (max_sv + 1) + (1 << table_log) + 8 + 3) // 4
    if 4 * (dtable_u32 + build_u32 + (FSE_MAX_SYMBOL_VALUE + 1) // 2 + 1) > wksp_size:
        raise ZstdError("tableLog_tooLarge")
    fast, table = build_dtable(counts, max_sv, table_log,
                               wksp_size - (2 * (FSE_MAX_SYMBOL_VALUE + 1) + 4) - 4 * dtable_u32)
    bit = BitD(src)
    states = [bit.read(table_log), 0]
    bit.reload()
    states[1] = bit.read(table_log)
    bit.reload()

    def symbol(i):
        sym, nb, new = table[states[i]]
        states[i] = new + bit.read(nb, fast=bool(fast))
        return sym
    out = bytearray()
    olimit = capacity - 3
    while bit.reload() == UNFINISHED and len(out) < olimit:
        out.append(symbol(0))
        out.append(symbol(1))
        out.append(symbol(0))
        out.append(symbol(1))
    while True:
        if len(out) > capacity - 2:
            raise ZstdError("dstSize_tooSmall")
        out.append(symbol(0))
        if bit.reload() == OVERFLOW:
            out.append(symbol(1))
            break
        if len(out) > capacity - 2:
            raise ZstdError("dstSize_tooSmall")
        out.append(symbol(1))
        if bit.reload() == OVERFLOW:
            out.append(symbol(0))
            break
    return bytes(out)


# ------------------------------------------------------------------ HUF_readStats
def _read_stats_wksp_size():
    """sizeof(U32[HUF_READ_STATS_WORKSPACE_SIZE_U32]): FSE_DECOMPRESS_WKSP_SIZE_U32(6, 11)."""
    dtable = 1 + (1 << 6)
    build = (2 * 12 + (1 << 6) + 8 + 3) // 4
    return 4 * (dtable + build + (FSE_MAX_SYMBOL_VALUE + 1) // 2 + 1)


def read_stats(k, src: bytes, hw_size: int):
    """HUF_readStats_body(): (bytes read, weights, rankStats, nbSymbols, tableLog)."""
    if not src:
        raise ZstdError("srcSize_wrong")
    i_size = src[0]
    if i_size >= 128:
        o_size = i_size - 127
        i_size = (o_size + 1) // 2
        if i_size + 1 > len(src):
            raise ZstdError("srcSize_wrong")
        if o_size >= hw_size:
            raise ZstdError("corruption_detected")
        weights = []
        for n in range(0, o_size, 2):
            weights += [src[1 + n // 2] >> 4, src[1 + n // 2] & 15]
        weights = weights[:o_size] + weights[o_size:o_size + 1]   # huffWeight[n+1] written too
    else:
        if i_size + 1 > len(src):
            raise ZstdError("srcSize_wrong")
        weights = list(fse_decompress(k, src[1:1 + i_size], hw_size - 1, 6,
                                      _read_stats_wksp_size()))
        o_size = len(weights)
    rank = [0] * (HUF_TABLELOG_MAX + 1)
    total = 0
    for n in range(o_size):
        if weights[n] >= HUF_TABLELOG_MAX:
            raise ZstdError("corruption_detected")
        rank[weights[n]] += 1
        total += (1 << weights[n]) >> 1
    if total == 0:
        raise ZstdError("corruption_detected")
    table_log = _highbit32(total) + 1
    if table_log > HUF_TABLELOG_MAX:
        raise ZstdError("corruption_detected")
    rest = (1 << table_log) - total
    if 1 << _highbit32(rest) != rest:
        raise ZstdError("corruption_detected")
    last = _highbit32(rest) + 1
    weights = weights[:o_size] + [last] + weights[o_size + 1:]
    rank[last] += 1
    if rank[1] < 2 or rank[1] & 1:
        raise ZstdError("corruption_detected")
    return i_size + 1, weights, rank, o_size + 1, table_log


@export("size_t HUF_readStats(BYTE *huffWeight, size_t hwSize, U32 *rankStats, "
        "U32 *nbSymbolsPtr, U32 *tableLogPtr, const void *src, size_t srcSize)")
def HUF_readStats(k, huff_weight, hw_size, rank_stats, nb_symbols_ptr, table_log_ptr, src,
                  src_size):
    """Read a compact Huffman tree description: bytes read or an error code."""
    m = k.machine
    try:
        size, weights, rank, nb, tlog = read_stats(k, m.read(src, src_size) if src_size else b"",
                                                   hw_size)
    except ZstdError as exc:
        return error(k, str(exc))
    m.write(huff_weight, bytes(weights))
    m.write(rank_stats, b"".join(r.to_bytes(4, "little") for r in rank))
    m.write_u32(nb_symbols_ptr, nb)
    m.write_u32(table_log_ptr, tlog)
    return size


# ------------------------------------------------------------ zstd decompression
@functools.lru_cache(maxsize=None)
def _libzstd():
    name = ctypes.util.find_library("zstd") or "libzstd.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.ZSTD_decompress.restype = ctypes.c_size_t
    lib.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                    ctypes.c_size_t]
    lib.ZSTD_estimateDCtxSize.restype = ctypes.c_size_t
    return lib


def is_error(k, code: int) -> bool:
    """ZSTD_isError(): codes above (size_t)-ZSTD_error_maxCode."""
    return (code & U64) > (-k.target.const("ZSTD_error_maxCode") & U64)


@export("unsigned int zstd_is_error(size_t code)")
def zstd_is_error(k, code):
    return int(is_error(k, code))


@export("size_t zstd_dctx_workspace_bound(void)")
def zstd_dctx_workspace_bound(k):
    """ZSTD_estimateDCtxSize(): sizeof(ZSTD_DCtx), as the host's libzstd has it."""
    lib = _libzstd()
    return lib.ZSTD_estimateDCtxSize() if lib else 160 * 1024


@export("zstd_dctx *zstd_init_dctx(void *workspace, size_t workspace_size)")
def zstd_init_dctx(k, workspace, workspace_size):
    """ZSTD_initStaticDCtx(): the context at the (8-aligned) workspace, NULL if too small."""
    if not workspace or workspace & 7 or workspace_size < zstd_dctx_workspace_bound(k):
        return 0
    return workspace


@export("size_t zstd_decompress_dctx(zstd_dctx *dctx, void *dst, size_t dst_capacity, "
        "const void *src, size_t src_size)")
def zstd_decompress_dctx(k, dctx, dst, dst_capacity, src, src_size):
    """Decompress the frames in ``src``: the decompressed size or an error code."""
    lib = _libzstd()
    if lib is None:
        k.finding("not-modelled", "zstd_decompress_dctx() needs the host's libzstd, which is "
                                  "not installed", k.current_module())
        return error(k, "GENERIC")
    data = k.machine.read(src, src_size) if src_size else b""
    bad = k.machine.first_unmapped(dst, dst_capacity)
    room = dst_capacity if bad is None else bad - dst     # the host buffer: what is mapped
    out = ctypes.create_string_buffer(max(room, 1))
    ret = lib.ZSTD_decompress(out, room, data, src_size)
    if bad is not None and ret == error(k, "dstSize_tooSmall"):
        raise MemoryFault(bad, "write", k.machine.reg("rip"))   # it writes on into the hole
    if not is_error(k, ret) and ret:
        k.machine.write(dst, out.raw[:ret])
    return ret


@export("int zstd_get_error_code(size_t code)")            # zstd_error_code, an enum
def zstd_get_error_code(k, code):
    """ZSTD_getErrorCode(): 0 for a result, else the error's enum value."""
    return (-code) & 0xFFFFFFFF if is_error(k, code) else 0


@export("size_t zstd_dstream_workspace_bound(size_t max_window_size)")
def zstd_dstream_workspace_bound(k, max_window_size):
    """ZSTD_estimateDStreamSize(): the workspace a streaming decoder of that window
    needs, as the host's libzstd computes it (btrfs and squashfs size pools by it)."""
    lib = _libzstd()
    if lib is None:
        k.finding("not-modelled", "zstd_dstream_workspace_bound() needs the host's libzstd, "
                                  "which is not installed", k.current_module())
        return 0
    lib.ZSTD_estimateDStreamSize.restype = ctypes.c_size_t
    lib.ZSTD_estimateDStreamSize.argtypes = [ctypes.c_size_t]
    return lib.ZSTD_estimateDStreamSize(max_window_size)


for _proto, _result in (
        ("zstd_dstream *zstd_init_dstream(size_t max_window_size, void *workspace, "
         "size_t workspace_size)", 0),
        ("size_t zstd_decompress_stream(zstd_dstream *dstream, zstd_out_buffer *output, "
         "zstd_in_buffer *input)", (-1) & U64),
):
    unreachable(_proto, _result, "kemu models only whole-frame zstd decompression (the "
                                 "streaming decoder is used when reading a mounted filesystem)")
