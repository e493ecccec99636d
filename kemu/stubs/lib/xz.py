"""lib/xz/xz_dec_stream.c: the kernel's .xz decoder API, backed by the host's liblzma.

``xz_dec_init`` gives an opaque decoder (a kmalloc'ed object: one a module
never ends is its leak); ``xz_dec_run`` decodes from ``b->in[in_pos..]`` into
``b->out[out_pos..]``. The host decoder is fed a few bytes at a time and not
while decoded bytes wait for room in ``out``, so ``in_pos`` runs ahead of
``out_pos`` by about what the kernel's decoder holds in its dictionary. Multi-call modes return XZ_BUF_ERROR on
the second call in a row without progress, single-call mode when the
buffers were too small (positions restored), as the kernel. The dictionary
limit of XZ_PREALLOC/XZ_DYNALLOC is not enforced.
"""
from __future__ import annotations

import lzma

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, wr
from ..mm.slab import kfree_addr, kmalloc

members("struct xz_buf", "in_pos", "out_pos", "in", "in_size", "out", "out_size")

FEED = 16                                # host decoder input per step
XZ_DEC_OBJECT_SIZE = 64


class XzDecoder:
    def __init__(self, mode):
        self.mode = mode
        self.reset()

    def reset(self):
        self.obj = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        self.pending = bytearray()
        self.allow_buf_error = False
        self.done = False


class XzDecoders:
    def __init__(self, k):
        self.decoders: dict[int, XzDecoder] = {}


_ERRORS = (("format", "XZ_FORMAT_ERROR"), ("corrupt", "XZ_DATA_ERROR"),
           ("options", "XZ_OPTIONS_ERROR"), ("memory", "XZ_MEMLIMIT_ERROR"),
           ("check", "XZ_DATA_ERROR"))


def _error(k, exc) -> int:
    text = str(exc).lower()
    return next((k.target.const(code) for word, code in _ERRORS if word in text),
                k.target.const("XZ_DATA_ERROR"))


@export("struct xz_dec *xz_dec_init(enum xz_mode mode, u32 dict_max)")
def xz_dec_init(k, mode, dict_max):
    s = kmalloc(k, XZ_DEC_OBJECT_SIZE, k.target.const("GFP_KERNEL"), kind="xz_dec")
    if s:
        k.model(XzDecoders).decoders[s] = XzDecoder(mode)
    return s


@export("void xz_dec_reset(struct xz_dec *s)")
def xz_dec_reset(k, s):
    dec = k.model(XzDecoders).decoders.get(s)
    if dec is not None:
        dec.reset()


@export("void xz_dec_end(struct xz_dec *s)")
def xz_dec_end(k, s):
    if s and k.model(XzDecoders).decoders.pop(s, None) is not None:
        kfree_addr(k, s, "kfree")


def _buf(k, b, member):
    return rd(k, b, f"xz_buf.{member}")


def _step(k, dec: XzDecoder, b) -> int:
    """Decode as far as the buffers allow; the kernel's return code (before BUF_ERROR rules)."""
    m = k.machine
    in_pos, in_size = _buf(k, b, "in_pos"), _buf(k, b, "in_size")
    out_pos, out_size = _buf(k, b, "out_pos"), _buf(k, b, "out_size")
    src, dst = _buf(k, b, "in"), _buf(k, b, "out")
    ret = k.target.const("XZ_OK")
    while True:
        if dec.pending and out_pos < out_size:
            n = min(len(dec.pending), out_size - out_pos)
            m.write(dst + out_pos, bytes(dec.pending[:n]))
            del dec.pending[:n]
            out_pos += n
        if dec.obj.eof and not dec.pending:
            dec.done = True
            ret = k.target.const("XZ_STREAM_END")
            break
        if dec.pending or in_pos >= in_size or dec.obj.eof:     # pending: out is full
            break
        chunk = m.read(src + in_pos, min(FEED, in_size - in_pos))
        try:
            dec.pending += dec.obj.decompress(chunk)
        except lzma.LZMAError as exc:
            ret = _error(k, exc)
            in_pos += len(chunk)
            break
        in_pos += len(chunk) - (len(dec.obj.unused_data) if dec.obj.eof else 0)
    wr(k, b, "xz_buf.in_pos", in_pos)
    wr(k, b, "xz_buf.out_pos", out_pos)
    return ret


@export("enum xz_ret xz_dec_run(struct xz_dec *s, struct xz_buf *b)")
def xz_dec_run(k, s, b):
    dec = k.model(XzDecoders).decoders.get(s)
    c = k.target.const
    if dec is None:
        # not a decoder xz_dec_init() made: Linux reads s->mode from it (faulting
        # when it is unmapped) and goes on with garbage; kemu stops at the read
        k.machine.read_u32(s)
        k.finding("bad-handle", f"xz_dec_run() on {s:#x}, which is not a struct xz_dec "
                                "from xz_dec_init()", k.current_module())
        return c("XZ_DATA_ERROR")
    in_start, out_start = _buf(k, b, "in_pos"), _buf(k, b, "out_pos")
    if dec.done:
        return c("XZ_STREAM_END")
    ret = _step(k, dec, b)
    if dec.mode == c("XZ_SINGLE"):
        if ret == c("XZ_OK"):
            ret = c("XZ_BUF_ERROR")
        if ret != c("XZ_STREAM_END"):
            wr(k, b, "xz_buf.in_pos", in_start)
            wr(k, b, "xz_buf.out_pos", out_start)
        return ret
    if ret == c("XZ_OK"):
        if _buf(k, b, "in_pos") == in_start and _buf(k, b, "out_pos") == out_start:
            if dec.allow_buf_error:
                ret = c("XZ_BUF_ERROR")
            dec.allow_buf_error = True
        else:
            dec.allow_buf_error = False
    return ret
