"""crypto/cipher.c: single-block ciphers (namespace CRYPTO_INTERNAL)."""
import errno

from kemu import export
from kemu.abi.exports import members

from .internal import alg_field, off, temp_buffer, tfm_alg
from kemu.abi.toolkit import s32

members("struct crypto_alg", "cra_u")


def _cia(k, tfm, member):
    alg = tfm_alg(k, tfm)
    return alg + off(k, "crypto_alg.cra_u") + off(k, f"cipher_alg.{member}")


@export("int crypto_cipher_setkey(struct crypto_cipher *tfm, const u8 *key, unsigned int keylen)")
def crypto_cipher_setkey(k, tfm, key, keylen):
    m = k.machine
    if keylen < m.read_u32(_cia(k, tfm, "cia_min_keysize")) or \
            keylen > m.read_u32(_cia(k, tfm, "cia_max_keysize")):
        return -errno.EINVAL
    mask = alg_field(k, tfm_alg(k, tfm), "cra_alignmask")
    setkey = m.read_u64(_cia(k, tfm, "cia_setkey"))
    if key & mask:
        raw = temp_buffer(k, keylen + 2 * mask + 1)
        buf = (raw + mask) & ~mask
        m.write(buf, m.read(key, keylen))
        err = s32((yield k.call_request(setkey, tfm, buf, keylen)))
        m.write(raw, bytes(keylen + 2 * mask + 1))
        k.heap.free(raw)
        return err
    return s32((yield k.call_request(setkey, tfm, key, keylen)))


def _crypt_one(k, tfm, dst, src, enc):
    m = k.machine
    fn = m.read_u64(_cia(k, tfm, "cia_encrypt" if enc else "cia_decrypt"))
    mask = alg_field(k, tfm_alg(k, tfm), "cra_alignmask")
    if (dst | src) & mask:
        bs = alg_field(k, tfm_alg(k, tfm), "cra_blocksize")
        raw = temp_buffer(k, bs + 2 * mask + 1)
        tmp = (raw + mask) & ~mask
        m.write(tmp, m.read(src, bs))
        yield k.call_request(fn, tfm, tmp, tmp)
        m.write(dst, m.read(tmp, bs))
        k.heap.free(raw)
    else:
        yield k.call_request(fn, tfm, dst, src)


@export("void crypto_cipher_encrypt_one(struct crypto_cipher *tfm, u8 *dst, const u8 *src)")
def crypto_cipher_encrypt_one(k, tfm, dst, src):
    yield from _crypt_one(k, tfm, dst, src, True)


@export("void crypto_cipher_decrypt_one(struct crypto_cipher *tfm, u8 *dst, const u8 *src)")
def crypto_cipher_decrypt_one(k, tfm, dst, src):
    yield from _crypt_one(k, tfm, dst, src, False)
