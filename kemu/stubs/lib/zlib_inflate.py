"""lib/zlib_inflate: the kernel's inflate API, backed by the host's zlib.

A stream is the caller's ``z_stream`` with its ``workspace`` (of
``zlib_inflate_workspacesize()`` bytes, the kernel's struct
inflate_workspace); the inflate state kemu keeps for it is a host
``zlib.decompressobj`` keyed by that workspace, and ``strm->state`` points
into the workspace as in the kernel. ``zlib_inflate`` consumes ``next_in``,
fills ``next_out`` and updates the counters and ``adler`` (zlib-wrapped
streams) exactly as far as the data allows; window sizes, return codes
(Z_BUF_ERROR when no progress is possible or Z_FINISH could not finish) and
``msg`` strings are zlib's.
"""
from __future__ import annotations

import zlib

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, wr

members("struct z_stream_s", "next_in", "avail_in", "total_in", "next_out", "avail_out",
        "total_out", "msg", "state", "workspace", "data_type", "adler")

# sizeof(struct inflate_workspace): struct inflate_state (9544 bytes on x86_64:
# lib/zlib_inflate/inflate.h, codes[ENOUGH = 2048]) + the 32 KiB window
INFLATE_STATE_SIZE = 9544
MAX_WBITS = 15
WORKSPACE_SIZE = INFLATE_STATE_SIZE + (1 << MAX_WBITS)
_MSG_LEN = 64


class Inflates:
    """Host decompressors by workspace address, and the ``msg`` strings handed out."""

    def __init__(self, k):
        self.streams: dict[int, tuple] = {}     # workspace -> (decompressobj, wbits, wrap)
        self.msgs: dict[str, int] = {}

    def msg(self, k, text: str) -> int:
        addr = self.msgs.get(text)
        if addr is None:
            raw = text.encode()[:_MSG_LEN - 1] + b"\0"
            addr = self.msgs[text] = k.machine.alloc_kdata(len(raw), 1)
            k.machine.write(addr, raw)
        return addr


def _c(k, name):
    return k.target.const(name)


def _z(k, strm, member, size=8):
    return rd(k, strm, f"z_stream_s.{member}", size)


def _setz(k, strm, member, value, size=8):
    wr(k, strm, f"z_stream_s.{member}", value & ((1 << (8 * size)) - 1), size)


@export("int zlib_inflate_workspacesize(void)")
def zlib_inflate_workspacesize(k):
    return WORKSPACE_SIZE


def _reset(k, strm) -> int:
    """zlib_inflateReset()."""
    st = k.model(Inflates)
    ws = _z(k, strm, "workspace")
    if not strm or not ws or ws not in st.streams:
        return _c(k, "Z_STREAM_ERROR")
    _obj, wbits, wrap = st.streams[ws]
    st.streams[ws] = (zlib.decompressobj(wbits if wrap else -wbits), wbits, wrap)
    for member in ("total_in", "total_out"):
        _setz(k, strm, member, 0)
    _setz(k, strm, "msg", 0)
    _setz(k, strm, "adler", 1)
    return _c(k, "Z_OK")


@export("int zlib_inflateReset(struct z_stream_s *strm)")
def zlib_inflateReset(k, strm):
    return _reset(k, strm)


@export("int zlib_inflateInit2(struct z_stream_s *strm, int windowBits)")
def zlib_inflateInit2(k, strm, window_bits):
    """windowBits < 0: raw deflate; 8..15: a zlib stream (the kernel has no gzip)."""
    if not strm:
        return _c(k, "Z_STREAM_ERROR")
    ws = _z(k, strm, "workspace")
    _setz(k, strm, "msg", 0)
    _setz(k, strm, "state", ws)                 # &WS(strm)->inflate_state
    if window_bits < 0:
        wrap, wbits = False, -window_bits
    else:
        wrap, wbits = True, window_bits        # wrap = (windowBits >> 4) + 1: 1 in range
    if wbits < 8 or wbits > MAX_WBITS:
        return _c(k, "Z_STREAM_ERROR")
    k.model(Inflates).streams[ws] = (None, max(wbits, 9), wrap)   # host zlib: 9 for 8
    return _reset(k, strm)


@export("int zlib_inflate(struct z_stream_s *strm, int flush)")
def zlib_inflate(k, strm, flush):
    st = k.model(Inflates)
    ws = _z(k, strm, "workspace") if strm else 0
    entry = st.streams.get(ws)
    if entry is None:
        return _c(k, "Z_STREAM_ERROR")
    next_in, next_out = _z(k, strm, "next_in"), _z(k, strm, "next_out")
    if not next_out or (not next_in and _z(k, strm, "avail_in")):
        return _c(k, "Z_STREAM_ERROR")
    obj, wbits, wrap = entry
    if obj.eof:
        return _c(k, "Z_STREAM_END")
    avail_in, avail_out = _z(k, strm, "avail_in"), _z(k, strm, "avail_out")
    src = k.machine.read(next_in, avail_in) if avail_in else b""
    try:
        out = obj.decompress(src, avail_out) if avail_out else b""
    except zlib.error as exc:
        text = str(exc).split(": ", 1)[-1]
        _setz(k, strm, "msg", st.msg(k, text))
        return _c(k, "Z_DATA_ERROR")
    used = (len(src) - len(obj.unconsumed_tail) - len(obj.unused_data)) if avail_out else 0
    if out:
        k.machine.write(next_out, out)
    _setz(k, strm, "next_in", next_in + used)
    _setz(k, strm, "avail_in", avail_in - used)
    _setz(k, strm, "total_in", _z(k, strm, "total_in") + used)
    _setz(k, strm, "next_out", next_out + len(out))
    _setz(k, strm, "avail_out", avail_out - len(out))
    _setz(k, strm, "total_out", _z(k, strm, "total_out") + len(out))
    if wrap and out:
        _setz(k, strm, "adler", zlib.adler32(out, _z(k, strm, "adler")))
    if obj.eof:
        return _c(k, "Z_STREAM_END")
    if (not used and not out) or flush == _c(k, "Z_FINISH"):
        return _c(k, "Z_BUF_ERROR")
    return _c(k, "Z_OK")


@export("int zlib_inflateEnd(struct z_stream_s *strm)")
def zlib_inflateEnd(k, strm):
    if not strm or not _z(k, strm, "state"):
        return _c(k, "Z_STREAM_ERROR")
    k.model(Inflates).streams.pop(_z(k, strm, "workspace"), None)
    return _c(k, "Z_OK")
