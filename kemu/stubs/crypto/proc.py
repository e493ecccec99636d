"""crypto/proc.c: /proc/crypto, one block per algorithm on crypto_alg_list.

``c_show()`` prints the common fields, then the frontend's ``cra_type->show``
(crypto_shash_show, crypto_skcipher_show, ... of crypto/shash.c,
crypto/skcipher.c, crypto/aead.c, crypto/ahash.c, crypto/rng.c,
crypto/akcipher.c, crypto/kpp.c, crypto/scompress.c, crypto/acompress.c), or
for a type-less algorithm (a plain cipher, a compressor) the switch on the
type bits in c_show() itself. The list is walked in kernel memory, newest
first, as crypto_alg_list is.

Python API: ``proc_crypto(k) -> str`` (the /proc/crypto text).
"""
from __future__ import annotations

from .internal import alg_field, const, crypto, off, rd32, TypeObjects
from kemu.abi.toolkit import cstr
from kemu.abi.exports import members

members("struct shash_alg", "digestsize")
members("struct crypto_alg", "cra_list", "cra_refcnt", "cra_name", "cra_driver_name", "cra_u")
members("struct cipher_alg", "cia_min_keysize", "cia_max_keysize")
members("struct hash_alg_common", "digestsize", "base")
members("struct skcipher_alg", "min_keysize", "max_keysize", "ivsize", "chunksize", "walksize")
members("struct aead_alg", "ivsize", "maxauthsize", "init", "exit")
members("struct rng_alg", "seedsize", "set_ent")


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _u32(k, addr, member) -> int:
    return k.machine.read_u32(addr + off(k, member))


def _async(k, alg) -> str:
    return f"async        : {_yes_no(alg_field(k, alg, 'cra_flags') & const(k, 'CRYPTO_ALG_ASYNC'))}\n"


def _blocksize(k, alg) -> str:
    return f"blocksize    : {alg_field(k, alg, 'cra_blocksize')}\n"


def _show_shash(k, alg, outer):
    return ("type         : shash\n" + _blocksize(k, alg) +
            f"digestsize   : {_u32(k, outer, 'shash_alg.digestsize')}\n")


def _show_ahash(k, alg, outer):
    halg = alg - off(k, "hash_alg_common.base")
    return ("type         : ahash\n" + _async(k, alg) + _blocksize(k, alg) +
            f"digestsize   : {_u32(k, halg, 'hash_alg_common.digestsize')}\n")


def _show_skcipher(k, alg, outer):
    return ("type         : skcipher\n" + _async(k, alg) + _blocksize(k, alg) +
            f"min keysize  : {_u32(k, outer, 'skcipher_alg.min_keysize')}\n"
            f"max keysize  : {_u32(k, outer, 'skcipher_alg.max_keysize')}\n"
            f"ivsize       : {_u32(k, outer, 'skcipher_alg.ivsize')}\n"
            f"chunksize    : {_u32(k, outer, 'skcipher_alg.chunksize')}\n"
            f"walksize     : {_u32(k, outer, 'skcipher_alg.walksize')}\n")


def _show_aead(k, alg, outer):
    return ("type         : aead\n" + _async(k, alg) + _blocksize(k, alg) +
            f"ivsize       : {_u32(k, outer, 'aead_alg.ivsize')}\n"
            f"maxauthsize  : {_u32(k, outer, 'aead_alg.maxauthsize')}\n"
            "geniv        : <none>\n")


def _show_rng(k, alg, outer):
    return f"type         : rng\nseedsize     : {_u32(k, outer, 'rng_alg.seedsize')}\n"


def _show_named(kind):
    return lambda k, alg, outer: f"type         : {kind}\n"


SHOW = {"shash": _show_shash, "ahash": _show_ahash, "skcipher": _show_skcipher,
        "aead": _show_aead, "rng": _show_rng, "akcipher": _show_named("akcipher"),
        "kpp": _show_named("kpp"), "scomp": _show_named("scomp"),
        "acomp": _show_named("acomp")}


def _show_cipher(k, alg):
    cia = alg + off(k, "crypto_alg.cra_u")
    return ("type         : cipher\n" + _blocksize(k, alg) +
            f"min keysize  : {_u32(k, cia, 'cipher_alg.cia_min_keysize')}\n"
            f"max keysize  : {_u32(k, cia, 'cipher_alg.cia_max_keysize')}\n")


def _show_untyped(k, alg) -> str:
    """The switch in c_show() for algorithms without a cra_type."""
    kind = alg_field(k, alg, "cra_flags") & const(k, "CRYPTO_ALG_TYPE_MASK")
    if kind == const(k, "CRYPTO_ALG_TYPE_CIPHER"):
        return _show_cipher(k, alg)
    if kind == const(k, "CRYPTO_ALG_TYPE_COMPRESS"):
        return "type         : compression\n"
    return "type         : unknown\n"


def c_show(k, alg: int) -> str:
    """One algorithm's block, blank line included."""
    flags = alg_field(k, alg, "cra_flags")
    modptr = alg_field(k, alg, "cra_module", 8)
    mod = k.module_at(modptr) if modptr else None
    prio = alg_field(k, alg, "cra_priority")
    prio = prio - (1 << 32) if prio >> 31 else prio
    text = (f"name         : {cstr(k, alg + off(k, 'crypto_alg.cra_name'))}\n"
            f"driver       : {cstr(k, alg + off(k, 'crypto_alg.cra_driver_name'))}\n"
            f"module       : {mod.name if mod is not None else 'kernel'}\n"
            f"priority     : {prio}\n"
            f"refcnt       : {rd32(k, alg + off(k, 'crypto_alg.cra_refcnt'))}\n"
            f"selftest     : {'passed' if flags & const(k, 'CRYPTO_ALG_TESTED') else 'unknown'}\n"
            f"internal     : {_yes_no(flags & const(k, 'CRYPTO_ALG_INTERNAL'))}\n")
    if flags & const(k, "CRYPTO_ALG_LARVAL"):
        return text + f"type         : larval\nflags        : {flags:#x}\n\n"
    kind = k.model(TypeObjects).kinds.get(alg_field(k, alg, "cra_type", 8))
    show = SHOW.get(kind)
    if show is not None:
        rec = crypto(k).find(alg)
        text += show(k, alg, rec.outer if rec is not None else alg)
    else:
        text += _show_untyped(k, alg)
    return text + "\n"


def proc_crypto(k) -> str:
    """/proc/crypto: c_show() of every algorithm on crypto_alg_list, head first."""
    head = crypto(k).alg_list
    link = off(k, "crypto_alg.cra_list")
    out, p = [], k.machine.read_u64(head)
    while p != head and len(out) < 65536:
        out.append(c_show(k, p - link))
        p = k.machine.read_u64(p)
    return "".join(out)
