"""crypto/skcipher.c and crypto/scatterwalk.c: the skcipher walk, ported from 6.1.

The walk state is the caller's struct skcipher_walk (on its stack); kemu runs
skcipher_walk_virt()/skcipher_walk_done() and the AEAD variants over it step by
step as the kernel does (fast in-place steps, page bounce copies for
misaligned data, the slow path for blocks straddling scatterlist entries).
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from ..lib.scatterlist import SG, nth_page, page_address
from ..mm.slab import kfree_addr, kmalloc
from .internal import alg_field, const, member, off, tfm_alg

members("struct crypto_async_request", "tfm", "flags")
members("struct skcipher_alg", "ivsize", "walksize", "base")
members("struct skcipher_request", "cryptlen", "iv", "src", "dst", "base")
members("struct aead_alg", "ivsize", "chunksize", "base")
members("struct crypto_aead", "authsize", "base")
members("struct aead_request", "base", "assoclen", "cryptlen", "iv", "src", "dst")
members("struct scatter_walk", "sg", "offset")

PAGE_SIZE, PAGE_SHIFT = 4096, 12
# enum in crypto/skcipher.c (not in the headers)
WALK_PHYS, WALK_SLOW, WALK_COPY, WALK_DIFF, WALK_SLEEP = 1, 2, 4, 8, 16
U32 = 0xFFFFFFFF


class Walk:
    """Accessors of a struct skcipher_walk and its two struct scatter_walk."""

    def __init__(self, k, addr):
        self.k, self.m, self.addr = k, k.machine, addr
        self.sg = SG(k)

    def _o(self, name):
        return self.addr + off(self.k, f"skcipher_walk.{name}")

    def get(self, name, size=4):
        raw = self.m.read(self._o(name), size)
        return int.from_bytes(raw, "little")

    def put(self, name, value, size=4):
        self.m.write(self._o(name), (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))

    def get64(self, name):
        return self.get(name, 8)

    def put64(self, name, value):
        self.put(name, value, 8)

    # struct scatter_walk "in" / "out"
    def sw(self, which):
        return self._o(which)

    def sw_sg(self, which):
        return self.m.read_u64(self.sw(which) + off(self.k, "scatter_walk.sg"))

    def sw_off(self, which):
        return self.m.read_u32(self.sw(which) + off(self.k, "scatter_walk.offset"))

    def sw_set(self, which, sg=None, offset=None):
        if sg is not None:
            self.m.write_u64(self.sw(which) + off(self.k, "scatter_walk.sg"), sg)
        if offset is not None:
            self.m.write_u32(self.sw(which) + off(self.k, "scatter_walk.offset"), offset)


def sw_start(w: Walk, which, sg):
    w.sw_set(which, sg, w.sg.offset(sg) if sg else 0)


def sw_pagelen(w: Walk, which):
    sg, offset = w.sw_sg(which), w.sw_off(which)
    length = (w.sg.offset(sg) + w.sg.length(sg) - offset) & U32
    this_page = ((~offset) & (PAGE_SIZE - 1)) + 1
    return min(this_page, length)


def sw_clamp(w: Walk, which, nbytes):
    return min(nbytes, sw_pagelen(w, which))


def sw_page(w: Walk, which):
    return nth_page(w.k, w.sg.page(w.sw_sg(which)), w.sw_off(which) >> PAGE_SHIFT)


def sw_map(w: Walk, which):
    return page_address(w.k, sw_page(w, which)) + (w.sw_off(which) & (PAGE_SIZE - 1))


def sw_advance(w: Walk, which, nbytes):
    w.sw_set(which, offset=(w.sw_off(which) + nbytes) & U32)


def sw_pagedone(w: Walk, which, more):
    sg, offset = w.sw_sg(which), w.sw_off(which)
    if more and offset >= w.sg.offset(sg) + w.sg.length(sg):
        sw_start(w, which, w.sg.next(sg))


def sw_done(w: Walk, which, more):
    sg, offset = w.sw_sg(which), w.sw_off(which)
    if not more or offset >= w.sg.offset(sg) + w.sg.length(sg) or not offset & (PAGE_SIZE - 1):
        sw_pagedone(w, which, more)


def sw_copychunks(w: Walk, buf, which, nbytes, out):
    """scatterwalk_copychunks(): out 0 copies from the list, 1 to it, 2 only skips."""
    m = w.m
    while True:
        n = min(sw_pagelen(w, which), nbytes)
        if out != 2 and n:
            vaddr = sw_map(w, which)
            if out:
                m.write(vaddr, m.read(buf, n))
            else:
                m.write(buf, m.read(vaddr, n))
        sw_advance(w, which, n)
        if nbytes == n:
            break
        buf += n
        nbytes -= n
        sw_pagedone(w, which, 1)


def _get_spot(start, length):
    end_page = (start + length - 1) & ~(PAGE_SIZE - 1)
    return max(start, end_page)


def _gfp(k, w: Walk):
    return const(k, "GFP_KERNEL") if w.get("flags") & WALK_SLEEP else const(k, "GFP_ATOMIC")


def walk_done(k, w: Walk, err):
    n = w.get("nbytes")
    nbytes = 0
    if n:
        if err >= 0:
            n -= err
            nbytes = w.get("total") - n
        flags = w.get("flags")
        if flags & WALK_COPY and not flags & (WALK_PHYS | WALK_DIFF):
            dst = sw_map(w, "out")
            w.put64("dst.virt.addr", dst)
            w.m.write(dst, w.m.read(w.get64("page"), n))
        elif flags & WALK_SLOW and not flags & (WALK_PHYS | WALK_DIFF | WALK_COPY):
            if err > 0:
                err, nbytes = -errno.EINVAL, 0
            else:
                addr = (w.get64("buffer") + w.get("alignmask")) & ~w.get("alignmask")
                addr = _get_spot(addr, n)
                sw_copychunks(w, addr, "out", n, 2 if flags & WALK_PHYS else 1)
                n = 0
        if err > 0:
            err = 0
        w.put("total", nbytes)
        w.put("nbytes", 0)
        sw_advance(w, "in", n)
        sw_advance(w, "out", n)
        sw_done(w, "in", nbytes)
        sw_done(w, "out", nbytes)
        if nbytes:
            return walk_next(k, w)
    buffer, page = w.get64("buffer"), w.get64("page")
    if not (buffer | page) or w.get("flags") & WALK_PHYS:
        return err
    iv, oiv = w.get64("iv"), w.get64("oiv")
    if iv != oiv:
        w.m.write(oiv, w.m.read(iv, w.get("ivsize")))
    if buffer != page:
        kfree_addr(k, buffer)
    if page:
        kfree_addr(k, page)
    return err


def _next_slow(k, w: Walk, bsize):
    alignmask = w.get("alignmask")
    if not w.get64("buffer"):
        w.put64("buffer", w.get64("page"))
    buffer = w.get64("buffer")
    if not buffer:
        a = const(k, "CRYPTO_MINALIGN") - 1
        n = bsize + (alignmask & ~a) + ((bsize - 1) & ~(alignmask | a))
        buffer = kmalloc(k, n, _gfp(k, w) | const(k, "__GFP_ZERO"), kind="skcipher walk buffer")
        w.put64("buffer", buffer)
    dst = _get_spot((buffer + alignmask) & ~alignmask, bsize)
    w.put64("dst.virt.addr", dst)
    w.put64("src.virt.addr", dst)
    sw_copychunks(w, dst, "in", bsize, 0)
    w.put("nbytes", bsize)
    w.put("flags", w.get("flags") | WALK_SLOW)
    return 0


def _next_copy(k, w: Walk):
    tmp = w.get64("page")
    src = sw_map(w, "in")
    w.m.write(tmp, w.m.read(src, w.get("nbytes")))
    w.put64("src.virt.addr", tmp)
    w.put64("dst.virt.addr", tmp)
    return 0


def _next_fast(k, w: Walk):
    w.put64("src.phys.page", sw_page(w, "in"))
    w.put64("src.phys.offset", w.sw_off("in") & (PAGE_SIZE - 1))
    w.put64("dst.phys.page", sw_page(w, "out"))
    w.put64("dst.phys.offset", w.sw_off("out") & (PAGE_SIZE - 1))
    diff = (w.get64("src.phys.offset") - w.get64("dst.phys.offset")) | \
        (w.get64("src.virt.page") - w.get64("dst.virt.page"))
    src = sw_map(w, "in")
    w.put64("src.virt.addr", src)
    w.put64("dst.virt.addr", src)
    if diff:
        w.put("flags", w.get("flags") | WALK_DIFF)
        w.put64("dst.virt.addr", sw_map(w, "out"))
    return 0


def walk_next(k, w: Walk):
    w.put("flags", w.get("flags") & ~(WALK_SLOW | WALK_COPY | WALK_DIFF))
    n = w.get("total")
    bsize = min(w.get("stride"), max(n, w.get("blocksize")))
    n = sw_clamp(w, "in", n)
    n = sw_clamp(w, "out", n)
    if n < bsize:
        if w.get("total") < w.get("blocksize"):
            return walk_done(k, w, -errno.EINVAL)
        return _next_slow(k, w, bsize)
    if (w.sw_off("in") | w.sw_off("out")) & w.get("alignmask"):
        if not w.get64("page"):
            w.put64("page", kmalloc(k, PAGE_SIZE, _gfp(k, w), kind="skcipher walk page"))
        page = w.get64("page")
        w.put("nbytes", min(n, PAGE_SIZE - (page & (PAGE_SIZE - 1))))
        w.put("flags", w.get("flags") | WALK_COPY)
        return _next_copy(k, w)
    w.put("nbytes", n)
    return _next_fast(k, w)


def _copy_iv(k, w: Walk):
    a = const(k, "CRYPTO_MINALIGN") - 1
    alignmask, ivsize, bs = w.get("alignmask"), w.get("ivsize"), w.get("stride")
    aligned_bs = (bs + alignmask) & ~alignmask
    size = (alignmask & ~a) + aligned_bs + ivsize + ((bs - 1) & ~(alignmask | a))
    buffer = kmalloc(k, size, _gfp(k, w), kind="skcipher walk iv")
    w.put64("buffer", buffer)
    iv = _get_spot((buffer + alignmask) & ~alignmask, bs) + aligned_bs
    w.m.write(iv, w.m.read(w.get64("iv"), ivsize))
    w.put64("iv", iv)
    return 0


def walk_first(k, w: Walk):
    w.put64("buffer", 0)
    if w.get64("iv") & w.get("alignmask"):
        _copy_iv(k, w)
    w.put64("page", 0)
    return walk_next(k, w)


def _s32(v):
    v &= U32
    return v - (1 << 32) if v >> 31 else v


@export("int skcipher_walk_done(struct skcipher_walk *walk, int err)")
def skcipher_walk_done(k, walk, err):
    return walk_done(k, Walk(k, walk), err)


@export("int skcipher_walk_virt(struct skcipher_walk *walk, struct skcipher_request *req, "
        "bool atomic)")
def skcipher_walk_virt(k, walk, req, atomic):
    w = Walk(k, walk)
    w.put("flags", w.get("flags") & ~WALK_PHYS)
    tfm_base = k.machine.read_u64(req + off(k, "skcipher_request.base") +
                                  off(k, "crypto_async_request.tfm"))
    alg = tfm_alg(k, tfm_base)
    outer = alg - off(k, "skcipher_alg.base")
    w.put("total", member(k, req, "skcipher_request.cryptlen", 4))
    w.put("nbytes", 0)
    iv = member(k, req, "skcipher_request.iv")
    w.put64("iv", iv)
    w.put64("oiv", iv)
    if not w.get("total"):
        err = 0
    else:
        sw_start(w, "in", member(k, req, "skcipher_request.src"))
        sw_start(w, "out", member(k, req, "skcipher_request.dst"))
        flags = w.get("flags") & ~WALK_SLEEP
        req_flags = k.machine.read_u32(req + off(k, "skcipher_request.base") +
                                       off(k, "crypto_async_request.flags"))
        if req_flags & const(k, "CRYPTO_TFM_REQ_MAY_SLEEP"):
            flags |= WALK_SLEEP
        w.put("flags", flags)
        w.put("blocksize", alg_field(k, alg, "cra_blocksize"))
        w.put("stride", member(k, outer, "skcipher_alg.walksize", 4))
        w.put("ivsize", member(k, outer, "skcipher_alg.ivsize", 4))
        w.put("alignmask", alg_field(k, alg, "cra_alignmask"))
        err = walk_first(k, w)
    if atomic:
        w.put("flags", w.get("flags") & ~WALK_SLEEP)
    return err


def _aead_common(k, walk, req, atomic):
    w = Walk(k, walk)
    tfm_base = k.machine.read_u64(req + off(k, "aead_request.base") +
                                  off(k, "crypto_async_request.tfm"))
    alg = tfm_alg(k, tfm_base)
    outer = alg - off(k, "aead_alg.base")
    w.put("nbytes", 0)
    iv = member(k, req, "aead_request.iv")
    w.put64("iv", iv)
    w.put64("oiv", iv)
    if not w.get("total"):
        return 0
    w.put("flags", w.get("flags") & ~WALK_PHYS)
    sw_start(w, "in", member(k, req, "aead_request.src"))
    sw_start(w, "out", member(k, req, "aead_request.dst"))
    assoclen = member(k, req, "aead_request.assoclen", 4)
    sw_copychunks(w, 0, "in", assoclen, 2)
    sw_copychunks(w, 0, "out", assoclen, 2)
    sw_done(w, "in", w.get("total"))
    sw_done(w, "out", w.get("total"))
    req_flags = k.machine.read_u32(req + off(k, "aead_request.base") +
                                   off(k, "crypto_async_request.flags"))
    flags = w.get("flags") & ~WALK_SLEEP
    if req_flags & const(k, "CRYPTO_TFM_REQ_MAY_SLEEP"):
        flags |= WALK_SLEEP
    w.put("flags", flags)
    w.put("blocksize", alg_field(k, alg, "cra_blocksize"))
    w.put("stride", member(k, outer, "aead_alg.chunksize", 4))
    w.put("ivsize", member(k, outer, "aead_alg.ivsize", 4))
    w.put("alignmask", alg_field(k, alg, "cra_alignmask"))
    err = walk_first(k, w)
    if atomic:
        w.put("flags", w.get("flags") & ~WALK_SLEEP)
    return err


@export("int skcipher_walk_aead_encrypt(struct skcipher_walk *walk, struct aead_request *req, "
        "bool atomic)")
def skcipher_walk_aead_encrypt(k, walk, req, atomic):
    Walk(k, walk).put("total", member(k, req, "aead_request.cryptlen", 4))
    return _aead_common(k, walk, req, atomic)


@export("int skcipher_walk_aead_decrypt(struct skcipher_walk *walk, struct aead_request *req, "
        "bool atomic)")
def skcipher_walk_aead_decrypt(k, walk, req, atomic):
    tfm_base = k.machine.read_u64(req + off(k, "aead_request.base") +
                                  off(k, "crypto_async_request.tfm"))
    authsize = member(k, tfm_base - off(k, "crypto_aead.base"), "crypto_aead.authsize", 4)
    Walk(k, walk).put("total", (member(k, req, "aead_request.cryptlen", 4) - authsize) & U32)
    return _aead_common(k, walk, req, atomic)


@export("void scatterwalk_copychunks(void *buf, struct scatter_walk *walk, size_t nbytes, int out)")
def scatterwalk_copychunks(k, buf, walk, nbytes, out):
    w = _ScatterOnly(k, walk)
    sw_copychunks(w, buf, "x", nbytes, out)


class _ScatterOnly(Walk):
    """A lone struct scatter_walk seen through the Walk accessors."""

    def __init__(self, k, addr):
        super().__init__(k, addr)

    def sw(self, which):
        return self.addr
