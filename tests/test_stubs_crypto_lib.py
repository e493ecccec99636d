"""Crypto API, lib/ helpers, NLS, textsearch and kprobes models (stubs/crypto, stubs/lib, ...).

Two kinds of evidence:

* testmods/kemu_lib.ko and testmods/kemu_crypto.ko print what each helper
  returned; the real Debian kernel's log for the same modules is recorded in
  tests/expected/stubs_crypto_lib/ (regenerate.sh) and kemu must print the
  same lines at the same levels;
* Debian's own modules (crypto/*_generic, lib/crc*, lib/ts_*, fs/nls/*) load,
  initialise and unload with nothing left behind, and the hashes they register
  compute, through their own code, the digests Python's hashlib does.
"""
from __future__ import annotations

import hashlib
import os
import re
import struct
import zlib

import pytest

from conftest import EXPECTED, dmesg_lines
from kemu import Kernel
from kemu.errors import KemuError

ORACLE = EXPECTED / "stubs_crypto_lib"
PREREQS = ["crypto/sha512_generic.ko", "crypto/sha3_generic.ko", "crypto/crc32c_generic.ko",
           "fs/nls/nls_cp437.ko", "lib/ts_kmp.ko", "crypto/ecb.ko", "crypto/ctr.ko",
           "crypto/xts.ko", "crypto/cfb.ko", "crypto/cmac.ko"]
# lines whose content is the real machine's (PIDs, registers, stack frames, hardware)
_KEEP = re.compile(r"^<\d>(kemu_|------------\[ cut here|refcount_t:|WARNING:|RIP: 0010:|"
                   r"list_(add|del) |kernel BUG at|invalid opcode|Modules linked in:|"
                   r"---\[ end trace)")


def oracle_steps(name: str) -> dict:
    """TAG -> [b"<level>text", ...] from a raw oracle job output."""
    steps, cur = {}, None
    for raw in (ORACLE / name).read_bytes().split(b"\n"):
        line = raw.rstrip(b"\r")
        if line.startswith(b"@@@BEGIN "):
            cur = steps.setdefault(line[9:].decode(), [])
        elif line.startswith(b"@@@END "):
            cur = None
        elif cur is not None and line.startswith(b"@@@K "):
            m = re.match(rb"@@@K (<\d+>)\[[ \d.]+\] (.*)$", line)
            text = m.group(2)
            if b"taints kernel" in text or b"module verification failed" in text or \
                    text == b"ORACLE-SYNC" or text.startswith((b"tsc: ", b"clocksource: ")):
                continue
            cur.append(m.group(1) + text)
    return steps


def _normalise(lines):
    out = []
    for line in lines:
        text = line.decode("utf-8", "surrogateescape") if isinstance(line, bytes) else line
        if not _KEEP.match(text):
            continue
        text = re.sub(r"PID: \d+", "PID: N", text)
        text = re.sub(r"\b[0-9a-f]{16}\b", "ADDR", text)     # %px of stack addresses
        out.append(text)
    return out


def _new_kernel():
    k = Kernel()
    k.taints.update("OE")          # the oracle's kernel was tainted by the first load
    k.sig_warned = True
    return k


def _mark(k):
    k.log.flush()
    return len(dmesg_lines(k))


def _since(k, mark):
    return dmesg_lines(k)[mark:]


@pytest.fixture(scope="module")
def main_run(testmods, debian_modules):
    """The oracle's main job, step by step, in one kemu kernel: TAG -> log lines."""
    k = _new_kernel()
    out = {}
    for rel in PREREQS:
        mark = _mark(k)
        k.load(str(debian_modules / rel))
        out["pre-" + os.path.basename(rel)[:-3]] = _since(k, mark)
    for tag, action in (("lib", lambda: k.load(str(testmods / "kemu_lib.ko"))),
                        ("lib.rmmod", lambda: k.unload("kemu_lib")),
                        ("crypto", lambda: k.load(str(testmods / "kemu_crypto.ko"))),
                        ("crypto.rmmod", lambda: k.unload("kemu_crypto")),
                        ("lib-mode3", lambda: k.load(str(testmods / "kemu_lib.ko"), "mode=3")),
                        ("lib-mode3.rmmod", lambda: k.unload("kemu_lib"))):
        mark = _mark(k)
        action()
        out[tag] = _since(k, mark)
    out["kernel"] = k
    return out


def _without_slub_reports(lines):
    """Drop SLUB debug reports (the heap sanitizer's own blocks)."""
    out, skipping = [], False
    for line in lines:
        if line.startswith(b"<3>=====") and not skipping:
            skipping = True
            continue
        if skipping:
            if line.startswith(b"<3>Freed in "):
                skipping = False
            continue
        out.append(line)
    return out


@pytest.mark.parametrize("tag", ["pre-" + os.path.basename(p)[:-3] for p in PREREQS] +
                         ["lib", "lib.rmmod", "crypto", "crypto.rmmod"])
def test_log_matches_real_kernel(main_run, tag):
    want = oracle_steps("oracle-main.out")[tag]
    assert _without_slub_reports(main_run[tag]) == want


def test_crypto_requests_free_cleanly(main_run):
    assert main_run["crypto"] == _without_slub_reports(main_run["crypto"])


def test_refcount_warnings_match_real_kernel(main_run):
    want = _normalise(oracle_steps("oracle-main.out")["lib-mode3"])
    got = _normalise(main_run["lib-mode3"])
    assert got == want
    k = main_run["kernel"]
    assert "W" in k.taints
    assert sum(1 for f in k.findings if f["kind"] == "warning") == 5


@pytest.mark.parametrize("mode", [1, 2, 4])
def test_list_corruption_bugs_like_real_kernel(testmods, mode):
    k = _new_kernel()
    with pytest.raises(KemuError):
        k.load(str(testmods / "kemu_lib.ko"), f"mode={mode}")
    want = _normalise(oracle_steps(f"oracle-mode-{mode}.out")[f"lib-mode{mode}"])
    got = _normalise(dmesg_lines(k))
    # the first lines are the kernel's; the oops report that follows is kemu's own shape
    assert got[:3] == want[:3]
    assert got[3][3:] == want[3][3:] == "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI"


# --------------------------------------------------------- Debian's real modules
CRYPTO_GENERIC = ["sha512_generic", "sha3_generic", "crc32c_generic", "crc32_generic",
                  "blake2b_generic", "md4", "rmd160", "wp512", "streebog_generic",
                  "michael_mic", "ghash-generic", "poly1305_generic", "des_generic",
                  "blowfish_generic", "twofish_generic", "serpent_generic", "cast5_generic",
                  "cast6_generic", "camellia_generic", "fcrypt", "anubis", "khazad", "tea",
                  "sm4_generic", "aes_generic", "ecdh_generic", "curve25519-generic",
                  "ansi_cprng", "jitterentropy_rng", "nhpoly1305", "crct10dif_generic"]
LIB = ["crc-itu-t", "crc7", "crc8", "crc16", "crc64", "libcrc32c", "ts_kmp", "ts_bm",
       "ts_fsm", "crc-t10dif"]
# modules that need another loaded first (the kernel would request_module() it)
NEEDS = {"libcrc32c": ["crypto/crc32c_generic.ko"],
         "crct10dif_generic": ["crypto/crct10dif_common.ko"],
         "nls_euc-jp": ["fs/nls/nls_cp932.ko"], "nls_koi8-ru": ["fs/nls/nls_koi8-u.ko"]}


def _find(debian_modules, name):
    for sub in ("crypto", "lib", "fs/nls"):
        path = debian_modules / sub / f"{name}.ko"
        if path.exists():
            return path
    return None


def _strict_cycle(debian_modules, name):
    path = _find(debian_modules, name)
    if path is None:
        pytest.fail(f"{name}.ko is not in {debian_modules}")
    k = Kernel()
    for dep in NEEDS.get(name, []):
        k.load(str(debian_modules / dep))
    try:
        k.load(str(path))
    except KemuError as exc:
        missing = getattr(exc, "missing", [])
        pytest.fail(f"{name}: {exc} {missing[:5]}")
    mod = next(m for m in k.modules.values() if m.path == str(path))
    k.unload(mod.name)
    for dep in reversed(NEEDS.get(name, [])):
        k.unload(os.path.basename(dep)[:-3].replace("-", "_"))
    assert k.findings == []
    assert k.registrations == {}
    k.log.flush()
    assert not [r.text for r in k.log.records if r.level <= 4], "the kernel complained"
    return k


@pytest.mark.parametrize("name", ["sha512_generic", "sha3_generic", "crc32c_generic",
                                  "crc32_generic", "blake2b_generic", "md4", "rmd160",
                                  "crct10dif_generic", "ts_kmp", "ts_bm", "ts_fsm", "crc-itu-t",
                                  "crc7", "crc8", "libcrc32c", "nls_utf8", "nls_euc-jp",
                                  "nls_koi8-ru"])
def test_real_module_strict(debian_modules, name):
    _strict_cycle(debian_modules, name)


def test_every_nls_table_loads_and_unloads(debian_modules):
    k = Kernel()
    names = sorted(p.name[:-3] for p in (debian_modules / "fs/nls").glob("*.ko"))
    assert len(names) > 40
    order = ["nls_cp932", "nls_koi8-u"] + [n for n in names if n not in ("nls_cp932", "nls_koi8-u")]
    for name in order:
        k.load(str(debian_modules / "fs/nls" / f"{name}.ko"))
    assert len(k.registered("nls table")) == len(names)
    for name in reversed(order):
        k.unload(name.replace("-", "_"))
    assert k.findings == [] and k.registrations == {}


def test_registrations_are_owned_and_leftovers_reported(debian_modules):
    k = Kernel()
    k.load(str(debian_modules / "crypto/sha512_generic.ko"))
    algs = k.registered("crypto alg")
    assert sorted(r.what for r in algs) == ["crypto algorithm sha384-generic (sha384)",
                                           "crypto algorithm sha512-generic (sha512)"]
    assert {r.owner.name for r in algs} == {"sha512_generic"}
    k.unload("sha512_generic")
    assert k.registered("crypto alg") == []


# ------------------------------------------------- hashes computed end to end
def _call_export(k, name, *args):
    return k.call(k.export_addr(name), *args, entry=f"kemu {name}")


def _alloc_shash(k, alg):
    name = k.heap.alloc(64, kind="test")
    k.machine.write(name, alg.encode() + b"\0")
    tfm = _call_export(k, "crypto_alloc_shash", name, 0, 0)
    assert tfm < (1 << 64) - 4095, f"crypto_alloc_shash({alg}) failed: {tfm - (1 << 64)}"
    return tfm


def _digest(k, tfm, data: bytes, size: int) -> bytes:
    buf = k.heap.alloc(len(data) + 1, kind="test")
    out = k.heap.alloc(64, kind="test")
    k.machine.write(buf, data)
    assert _call_export(k, "crypto_shash_tfm_digest", tfm, buf, len(data), out) == 0
    return k.machine.read(out, size)


def _crc32c(data: bytes, crc: int = 0xFFFFFFFF) -> int:
    from kemu.stubs.lib.crc32 import crc32c_le
    return crc32c_le(crc, data)


@pytest.mark.parametrize("module,alg,ref,size", [
    ("sha512_generic", "sha512", lambda d: hashlib.sha512(d).digest(), 64),
    ("sha512_generic", "sha384", lambda d: hashlib.sha384(d).digest(), 48),
    ("sha3_generic", "sha3-256", lambda d: hashlib.sha3_256(d).digest(), 32),
    ("blake2b_generic", "blake2b-512", lambda d: hashlib.blake2b(d).digest(), 64),
    ("crc32c_generic", "crc32c", lambda d: struct.pack("<I", ~_crc32c(d) & 0xFFFFFFFF), 4),
    ("crc32_generic", "crc32", lambda d: struct.pack("<I", ~zlib.crc32(d, 0xFFFFFFFF) & 0xFFFFFFFF), 4),
])
def test_shash_digest_equals_python(debian_modules, module, alg, ref, size):
    """crypto_alloc_shash() + crypto_shash_tfm_digest() run the module's own code."""
    k = Kernel()
    k.load(str(debian_modules / f"crypto/{module}.ko"))
    tfm = _alloc_shash(k, alg)
    for data in (b"", b"The quick brown fox jumps over the lazy dog", bytes(range(256)) * 9):
        assert _digest(k, tfm, data, size) == ref(data)
    mod = k.modules[module]
    assert mod.refcount() == 1                     # the transform pins the module
    _call_export(k, "crypto_destroy_tfm", tfm, tfm + k.target.offset("crypto_shash.base"))
    assert mod.refcount() == 0
    k.unload(module)
    assert k.findings == []


def test_shash_module_pinned_while_transform_lives(debian_modules):
    k = Kernel()
    k.load(str(debian_modules / "crypto/sha512_generic.ko"))
    tfm = _alloc_shash(k, "sha512")
    with pytest.raises(KemuError) as err:
        k.unload("sha512_generic")
    assert err.value.errno == 11 or err.value.errno == 16          # EAGAIN/EBUSY: in use
    _call_export(k, "crypto_destroy_tfm", tfm, tfm + k.target.offset("crypto_shash.base"))
    k.unload("sha512_generic")


def _skcipher_encrypt(k, alg, key, iv, data):
    """crypto_alloc_skcipher() + setkey + encrypt over a two-entry scatterlist, from Python."""
    from kemu.stubs.lib.scatterlist import SG
    t, m = k.target, k.machine
    name = k.heap.alloc(64, kind="test")
    m.write(name, alg.encode() + b"\0")
    tfm = _call_export(k, "crypto_alloc_skcipher", name, 0, 0)
    assert tfm < (1 << 64) - 4095, f"crypto_alloc_skcipher({alg}): {tfm - (1 << 64)}"
    kb = k.heap.alloc(len(key), kind="test")
    m.write(kb, key)
    assert _call_export(k, "crypto_skcipher_setkey", tfm, kb, len(key)) == 0
    reqsize = m.read_u32(tfm + t.offset("crypto_skcipher.reqsize"))
    req = k.heap.alloc(t.sizeof("skcipher_request") + reqsize, kind="test", zero=True)
    base = req + t.offset("skcipher_request.base")
    m.write_u64(base + t.offset("crypto_async_request.tfm"), tfm + t.offset("crypto_skcipher.base"))
    buf = k.heap.alloc(len(data), kind="test")
    m.write(buf, data)
    s = SG(k)
    sg = k.heap.alloc(2 * s.size, kind="test")
    s.init_table(sg, 2)
    split = len(data) // 2 + 3                  # a block straddles the two entries
    s.set_buf(sg, buf, split)
    s.set_buf(sg + s.size, buf + split, len(data) - split)
    ivb = k.heap.alloc(16, kind="test")
    m.write(ivb, iv)
    m.write_u32(req + t.offset("skcipher_request.cryptlen"), len(data))
    m.write_u64(req + t.offset("skcipher_request.iv"), ivb)
    m.write_u64(req + t.offset("skcipher_request.src"), sg)
    m.write_u64(req + t.offset("skcipher_request.dst"), sg)
    assert _call_export(k, "crypto_skcipher_encrypt", req) == 0
    out = m.read(buf, len(data))
    _call_export(k, "crypto_destroy_tfm", tfm, tfm + t.offset("crypto_skcipher.base"))
    return out


def test_templates_instantiate_and_encrypt_like_python(debian_modules):
    """ecb/ctr/xts modules' templates over the built-in aes, checked with `cryptography`."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    # no modprobe: the templates must build on the generic ciphers loaded here, not on
    # aesni_intel, which the tree's aliases (crypto-xts(aes)...) would otherwise bring in
    k = Kernel(modules=False)
    for mod in ("ecb", "ctr", "xts"):
        k.load(str(debian_modules / f"crypto/{mod}.ko"))
    key, iv = bytes(range(32)), bytes(range(16, 32))
    data = bytes((i * 29 + 5) & 0xFF for i in range(96))
    want = Cipher(algorithms.AES(key[:16]), modes.ECB()).encryptor().update(data)
    assert _skcipher_encrypt(k, "ecb(aes)", key[:16], iv, data) == want
    want = Cipher(algorithms.AES(key[:24]), modes.CTR(iv)).encryptor().update(data[:90])
    assert _skcipher_encrypt(k, "ctr(aes)", key[:24], iv, data[:90]) == want
    want = Cipher(algorithms.AES(key), modes.XTS(iv)).encryptor().update(data)
    assert _skcipher_encrypt(k, "xts(aes)", key, iv, data) == want
    from kemu.stubs.crypto.internal import crypto
    assert {"ecb(aes-generic)", "ctr(aes-generic)", "xts(ecb(aes-generic))"} <= \
        {a.driver for a in crypto(k).algs}
    k.unload("xts")
    k.unload("ecb")                        # its ecb(aes) instance goes with the template
    assert not any(a.driver.startswith(("ecb(", "xts(")) for a in crypto(k).algs)
    k.unload("ctr")
    assert k.findings == [] and k.registrations == {}


def test_cmac_template_over_builtin_aes(debian_modules):
    from cryptography.hazmat.primitives.cmac import CMAC
    from cryptography.hazmat.primitives.ciphers import algorithms
    k = Kernel()
    k.load(str(debian_modules / "crypto/cmac.ko"))
    tfm = _alloc_shash(k, "cmac(aes)")
    key = bytes(range(100, 116))
    kb = k.heap.alloc(16, kind="test")
    k.machine.write(kb, key)
    assert _call_export(k, "crypto_shash_setkey", tfm, kb, 16) == 0
    data = b"kemu cmac over a real template module" * 3
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    assert _digest(k, tfm, data, 16) == mac.finalize()


def test_builtin_hashes_like_hashlib():
    k = Kernel()
    for alg, ref in (("sha256", hashlib.sha256), ("sha224", hashlib.sha224),
                     ("sha1", hashlib.sha1), ("md5", hashlib.md5)):
        tfm = _alloc_shash(k, alg)
        for data in (b"", b"abc", bytes(range(256)) * 5):
            assert _digest(k, tfm, data, ref().digest_size) == ref(data).digest(), alg


def test_lz4_round_trip_through_the_real_compressor(debian_modules):
    """lz4_compress.ko compresses; kemu's LZ4_decompress_safe() gives the input back."""
    k = Kernel()
    k.load(str(debian_modules / "lib/lz4/lz4_compress.ko"))
    data = (b"kemu " * 40 + bytes(range(256)) + b"abcabcabcabc" * 30)
    src = k.heap.alloc(len(data), kind="test")
    k.machine.write(src, data)
    dst = k.heap.alloc(2 * len(data), kind="test")
    work = k.heap.alloc(1 << 15, kind="test")
    n = k.call_symbol("lz4_compress", "LZ4_compress_default", src, dst, len(data),
                      2 * len(data), work) & 0xFFFFFFFF
    assert 0 < n < len(data)
    back = k.heap.alloc(len(data), kind="test")
    got = _call_export(k, "LZ4_decompress_safe", dst, back, n, len(data)) & 0xFFFFFFFF
    assert got == len(data) and k.machine.read(back, len(data)) == data
    bad = _call_export(k, "LZ4_decompress_safe", dst, back, n, 10) & 0xFFFFFFFF
    assert bad >> 31                               # negative: the output does not fit


def test_libcrc32c_uses_the_registered_crc32c(debian_modules):
    k = Kernel()
    k.load(str(debian_modules / "crypto/crc32c_generic.ko"))
    k.load(str(debian_modules / "lib/libcrc32c.ko"))
    data = b"kemu runs real kernel modules" * 3
    buf = k.heap.alloc(len(data), kind="test")
    k.machine.write(buf, data)
    got = k.call_symbol("libcrc32c", "crc32c", 0x12345678, buf, len(data)) & 0xFFFFFFFF
    assert got == _crc32c(data, 0x12345678)
    with pytest.raises(KemuError):
        k.unload("crc32c_generic")                  # libcrc32c holds its transform
    k.unload("libcrc32c")
    k.unload("crc32c_generic")
    assert k.findings == []


def test_failed_self_test_is_reported_and_alg_unusable(debian_modules, monkeypatch):
    import kemu.stubs.crypto.testmgr as T
    monkeypatch.setitem(T.REFERENCES, "sha384", lambda d: b"\0" * 48)
    k = Kernel()
    k.load(str(debian_modules / "crypto/sha512_generic.ko"))
    text = "\n".join(k.dmesg)
    assert 'alg: shash: sha384-generic test failed (wrong result) on test vector 0, ' \
           'cfg="init+update+final aligned buffer"' in text
    assert "alg: self-tests for sha384 using sha384-generic failed (rc=-22)" in text   # 6.1 wording (oracle)
    name = k.heap.alloc(16, kind="test")
    k.machine.write(name, b"sha384\0")
    assert _call_export(k, "crypto_alloc_shash", name, 0, 0) == (-80) & ((1 << 64) - 1)  # ELIBBAD


@pytest.mark.parametrize("module,func,ref", [
    ("crc-itu-t", "crc_itu_t", "itu"), ("crc16", "crc16", "crc16"),
])
def test_crc_modules_compute_like_python(debian_modules, module, func, ref):
    k = Kernel()
    k.load(str(debian_modules / f"lib/{module}.ko"))
    data = b"123456789"
    buf = k.heap.alloc(16, kind="test")
    k.machine.write(buf, data)
    got = k.call_symbol(module.replace("-", "_"), func, 0, buf, len(data)) & 0xFFFF
    want = {"itu": 0x31C3, "crc16": 0xBB3D}[ref]      # CRC-16/XMODEM, CRC-16/ARC of "123456789"
    assert got == want


def test_static_keys_selftest(debian_modules):
    k = Kernel()
    k.load(str(debian_modules / "lib/test_static_key_base.ko"))
    k.load(str(debian_modules / "lib/test_static_keys.ko"))


def test_static_keys_selftest_with_coming_patch(debian_modules, monkeypatch):
    """What the COMING notification would do: kemu.stubs.kernel.jump_label.jump_label_add_module()."""
    from kemu.stubs.kernel.jump_label import jump_label_add_module
    k = Kernel()
    k.load(str(debian_modules / "lib/test_static_key_base.ko"))
    real_init = k.loader.do_init_module

    def coming_then_init(mod):
        jump_label_add_module(k, mod)
        return real_init(mod)
    monkeypatch.setattr(k.loader, "do_init_module", coming_then_init)
    k.load(str(debian_modules / "lib/test_static_keys.ko"))
    k.unload("test_static_keys")
    k.unload("test_static_key_base")
    assert k.findings == []


# ----------------------------------------------------------- model details
def test_vsscanf_port_edge_cases():
    from kemu.stubs.lib.vsscanf import simple_strntoll, simple_strntoull
    assert simple_strntoull(b"0x1fz\0", 0, 100, 0) == (31, 4)
    assert simple_strntoull(b"0x\0\0\0", 0, 100, 0) == (0, 1)
    assert simple_strntoll(b"-17\0", 0, 2, 10) == ((-1) & ((1 << 64) - 1), 2)
    assert simple_strntoull(b"99999999999999999999\0", 0, 100, 10)[0] == \
        99999999999999999999 & ((1 << 64) - 1)


def test_hex_dump_line_overflow_rules():
    from kemu.stubs.lib.hexdump import hex_dump_line
    assert hex_dump_line(bytes(range(16)), 16, 1, 0, True) == (b"", 65)
    written, ret = hex_dump_line(bytes(range(16)), 16, 4, 10, False)
    assert (written, ret) == (b"03020100 \0", 35)


def test_ctype_table_is_lib_ctype_c():
    from kemu.stubs.lib.ctype import CTYPE
    assert len(CTYPE) == 256 and CTYPE[0xA0] == 0x20 | 0x80 and CTYPE[0xD7] == 0x10
    assert CTYPE[0xDF] == 0x02 and CTYPE[0xF7] == 0x10 and CTYPE[0x80] == 0
