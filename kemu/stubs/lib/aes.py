"""lib/crypto/aes.c and crypto/aes_generic.c: the AES library and its tables.

aes_expandkey() fills struct crypto_aes_ctx exactly as the kernel does (key
words little endian, decryption keys through InvMixColumns in reverse round
order); aes_encrypt()/aes_decrypt() run FIPS-197 on those round keys.
"""
import errno

from kemu import data, export
from kemu.abi.exports import members

members("struct crypto_aes_ctx", "key_enc", "key_dec", "key_length")


def _xtime(b):
    return ((b << 1) ^ (0x1B if b & 0x80 else 0)) & 0xFF


def _mul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a, b = _xtime(a), b >> 1
    return r


def _sbox():
    # multiplicative inverses in GF(2^8) through log/antilog tables of generator 3
    exp, log = [0] * 255, [0] * 256
    value = 1
    for i in range(255):
        exp[i], log[value] = value, i
        value = _mul(value, 3)
    inv = [0] + [exp[(255 - log[x]) % 255] for x in range(1, 256)]
    box = []
    for x in range(256):
        b = inv[x]
        s = b
        for i in range(1, 5):
            s ^= ((b << i) | (b >> (8 - i))) & 0xFF
        box.append(s ^ 0x63)
    return box


SBOX = _sbox()
INV_SBOX = [0] * 256
for _i, _v in enumerate(SBOX):
    INV_SBOX[_v] = _i


def _word(b0, b1, b2, b3):
    return b0 | b1 << 8 | b2 << 16 | b3 << 24


def _rotl(w, n):
    return ((w << n) | (w >> (32 - n))) & 0xFFFFFFFF


FT0 = [_word(_mul(SBOX[i], 2), SBOX[i], SBOX[i], _mul(SBOX[i], 3)) for i in range(256)]
IT0 = [_word(_mul(INV_SBOX[i], 14), _mul(INV_SBOX[i], 9), _mul(INV_SBOX[i], 13),
             _mul(INV_SBOX[i], 11)) for i in range(256)]
FT_TAB = [[_rotl(w, 8 * r) for w in FT0] for r in range(4)]
IT_TAB = [[_rotl(w, 8 * r) for w in IT0] for r in range(4)]


def _sub_word(w):
    return _word(*(SBOX[(w >> s) & 0xFF] for s in (0, 8, 16, 24)))


def _inv_mix_columns(w):
    b = [(w >> s) & 0xFF for s in (0, 8, 16, 24)]
    return _word(_mul(b[0], 14) ^ _mul(b[1], 11) ^ _mul(b[2], 13) ^ _mul(b[3], 9),
                 _mul(b[0], 9) ^ _mul(b[1], 14) ^ _mul(b[2], 11) ^ _mul(b[3], 13),
                 _mul(b[0], 13) ^ _mul(b[1], 9) ^ _mul(b[2], 14) ^ _mul(b[3], 11),
                 _mul(b[0], 11) ^ _mul(b[1], 13) ^ _mul(b[2], 9) ^ _mul(b[3], 14))


def expand_key(key: bytes):
    """(key_enc[60], key_dec[60]) as aes_expandkey() computes them."""
    nk = len(key) // 4
    enc = [int.from_bytes(key[4 * i:4 * i + 4], "little") for i in range(nk)] + [0] * (60 - nk)
    rc = 1
    total = len(key) + 28
    for i in range(nk, total):
        t = enc[i - 1]
        if i % nk == 0:
            t = _sub_word(_rotl(t, 24)) ^ rc
            rc = _xtime(rc)
        elif nk == 8 and i % nk == 4:
            t = _sub_word(t)
        enc[i] = enc[i - nk] ^ t
    dec = [0] * 60
    kl = len(key)
    dec[0:4] = enc[kl + 24:kl + 28]
    i, j = 4, kl + 20
    while j > 0:
        dec[i:i + 4] = [_inv_mix_columns(w) for w in enc[j:j + 4]]
        i, j = i + 4, j - 4
    dec[i:i + 4] = enc[0:4]
    return enc, dec


def _add(state, keys, r):
    return [state[c] ^ keys[4 * r + c] for c in range(4)]


def _bytes_of(state):
    return b"".join(w.to_bytes(4, "little") for w in state)


def encrypt_block(enc, rounds, block: bytes) -> bytes:
    s = _add([int.from_bytes(block[4 * c:4 * c + 4], "little") for c in range(4)], enc, 0)
    for r in range(1, rounds + 1):
        b = [[(s[c] >> (8 * i)) & 0xFF for i in range(4)] for c in range(4)]
        t = []
        for c in range(4):
            col = [SBOX[b[(c + i) % 4][i]] for i in range(4)]        # SubBytes + ShiftRows
            if r != rounds:
                col = [_mul(col[0], 2) ^ _mul(col[1], 3) ^ col[2] ^ col[3],
                       col[0] ^ _mul(col[1], 2) ^ _mul(col[2], 3) ^ col[3],
                       col[0] ^ col[1] ^ _mul(col[2], 2) ^ _mul(col[3], 3),
                       _mul(col[0], 3) ^ col[1] ^ col[2] ^ _mul(col[3], 2)]
            t.append(_word(*col))
        s = _add(t, enc, r)
    return _bytes_of(s)


def decrypt_block(dec, rounds, block: bytes) -> bytes:
    """The equivalent inverse cipher on key_dec, as the kernel's tables use it."""
    s = _add([int.from_bytes(block[4 * c:4 * c + 4], "little") for c in range(4)], dec, 0)
    for r in range(1, rounds + 1):
        b = [[(s[c] >> (8 * i)) & 0xFF for i in range(4)] for c in range(4)]
        t = []
        for c in range(4):
            col = [INV_SBOX[b[(c - i) % 4][i]] for i in range(4)]    # InvSubBytes + InvShiftRows
            if r != rounds:
                col = [_mul(col[0], 14) ^ _mul(col[1], 11) ^ _mul(col[2], 13) ^ _mul(col[3], 9),
                       _mul(col[0], 9) ^ _mul(col[1], 14) ^ _mul(col[2], 11) ^ _mul(col[3], 13),
                       _mul(col[0], 13) ^ _mul(col[1], 9) ^ _mul(col[2], 14) ^ _mul(col[3], 11),
                       _mul(col[0], 11) ^ _mul(col[1], 13) ^ _mul(col[2], 9) ^ _mul(col[3], 14)]
            t.append(_word(*col))
        s = _add(t, dec, r)
    return _bytes_of(s)


def _ctx(k, ctx):
    t, m = k.target, k.machine
    key_len = m.read_u32(ctx + t.offset("crypto_aes_ctx.key_length"))
    rounds = 6 + key_len // 4
    # a corrupt key_length makes Linux read round keys past the schedule (and
    # fault past mapped memory): the words are read from memory as it would
    n = 4 * max(rounds + 1, 15)
    enc = [int.from_bytes(w, "little") for w in
           _words(m.read(ctx + t.offset("crypto_aes_ctx.key_enc"), 4 * n))]
    dec = [int.from_bytes(w, "little") for w in
           _words(m.read(ctx + t.offset("crypto_aes_ctx.key_dec"), 4 * n))]
    return enc, dec, rounds


def _words(data: bytes):
    return (data[i:i + 4] for i in range(0, len(data), 4))


@export("int aes_expandkey(struct crypto_aes_ctx *ctx, const u8 *in_key, unsigned int key_len)")
def aes_expandkey(k, ctx, in_key, key_len):
    if key_len not in (16, 24, 32):
        return -errno.EINVAL
    t, m = k.target, k.machine
    enc, dec = expand_key(m.read(in_key, key_len))
    m.write(ctx + t.offset("crypto_aes_ctx.key_enc"), b"".join(w.to_bytes(4, "little") for w in enc))
    m.write(ctx + t.offset("crypto_aes_ctx.key_dec"), b"".join(w.to_bytes(4, "little") for w in dec))
    m.write_u32(ctx + t.offset("crypto_aes_ctx.key_length"), key_len)
    return 0


@export("void aes_encrypt(const struct crypto_aes_ctx *ctx, u8 *out, const u8 *in)")
def aes_encrypt(k, ctx, out, in_):
    enc, _, rounds = _ctx(k, ctx)
    k.machine.write(out, encrypt_block(enc, rounds, k.machine.read(in_, 16)))


@export("void aes_decrypt(const struct crypto_aes_ctx *ctx, u8 *out, const u8 *in)")
def aes_decrypt(k, ctx, out, in_):
    _, dec, rounds = _ctx(k, ctx)
    k.machine.write(out, decrypt_block(dec, rounds, k.machine.read(in_, 16)))


@data("const u8 crypto_aes_sbox[256]", align=64)
def crypto_aes_sbox(k, addr):
    k.machine.write(addr, bytes(SBOX))


@data("const u8 crypto_aes_inv_sbox[256]", align=64)
def crypto_aes_inv_sbox(k, addr):
    k.machine.write(addr, bytes(INV_SBOX))


def _table(rows):
    return b"".join(w.to_bytes(4, "little") for row in rows for w in row)


@data("const u32 crypto_ft_tab[4][256]", align=64)
def crypto_ft_tab(k, addr):
    k.machine.write(addr, _table(FT_TAB))


@data("const u32 crypto_it_tab[4][256]", align=64)
def crypto_it_tab(k, addr):
    k.machine.write(addr, _table(IT_TAB))
