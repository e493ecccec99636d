"""A module's appended signature, read as kmod's modinfo reads it.

Models kmod 30's libkmod/libkmod-signature.c (``kmod_module_signature_info``,
``fill_pkcs7`` with OpenSSL, ``fill_default``) and the hex layout of
libkmod-module.c's ``kmod_module_hex_to_str``: the signer is the issuer's
commonName of the first PKCS#7 SignerInfo, the key id its serial number
(``BN_bn2bin``: big-endian, no leading zero bytes), the signature its
encryptedDigest. The PKCS#7 message is walked with a small DER reader; the
signature is not verified (kemu has no keyring), but the key is compared
with the certificates the target kernel image carries (``kernel_keys``).

Left out: kmod's GnuTLS variant, and algorithms OpenSSL knows beyond the
hash table below (kmod 30 does not print those either: ``fill_pkcs7`` fails).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

SIG_MAGIC = b"~Module signature appended~\n"
_MODSIG = struct.Struct(">BBBBB3sI")          # struct module_signature

PKEY_ALGO = ("DSA", "RSA")
PKEY_HASH_ALGO = ("md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224", "sm3")
PKEY_ID_TYPE = ("PGP", "X509", "PKCS#7")
PKEY_ID_PKCS7 = 2

# obj_to_hash_algo(): the digest algorithm OIDs OpenSSL names, as DER bodies
_HASH_OIDS = {
    bytes.fromhex("2a864886f70d0204"): "md4",
    bytes.fromhex("2a864886f70d0205"): "md5",
    bytes.fromhex("2b0e03021a"): "sha1",
    bytes.fromhex("2b24030201"): "rmd160",
    bytes.fromhex("608648016503040201"): "sha256",
    bytes.fromhex("608648016503040202"): "sha384",
    bytes.fromhex("608648016503040203"): "sha512",
    bytes.fromhex("608648016503040204"): "sha224",
    bytes.fromhex("2a811ccf55018311"): "sm3",
}
OID_COMMON_NAME = bytes.fromhex("550403")

TAG_INTEGER, TAG_OCTET_STRING, TAG_OID = 0x02, 0x04, 0x06
TAG_SEQUENCE, TAG_SET, TAG_CONTEXT_0 = 0x30, 0x31, 0xA0


class DerError(ValueError):
    pass


def _der(buf: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """One DER element at pos: (tag, contents, end)."""
    if pos + 2 > len(buf):
        raise DerError("truncated")
    tag, first = buf[pos], buf[pos + 1]
    pos += 2
    if first & 0x80:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > len(buf):
            raise DerError("bad length")
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    else:
        length = first
    if pos + length > len(buf):
        raise DerError("truncated")
    return tag, buf[pos:pos + length], pos + length


def _children(body: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(body):
        tag, contents, pos = _der(body, pos)
        out.append((tag, contents))
    return out


def _expect(item: tuple[int, bytes], tag: int) -> bytes:
    if item[0] != tag:
        raise DerError(f"tag {item[0]:#x} where {tag:#x} was expected")
    return item[1]


def _issuer_name(name: bytes) -> bytes | None:
    """x509_name_to_str(): the commonName; without one, the last entry's value."""
    value = None
    for rdn in _children(name):
        for atv in _children(_expect(rdn, TAG_SET)):
            oid, val = _children(_expect(atv, TAG_SEQUENCE))[:2]
            value = val[1]
            if _expect(oid, TAG_OID) == OID_COMMON_NAME:
                return value
    return value


@dataclass(frozen=True)
class SignatureInfo:
    """kmod's struct kmod_signature_info (the fields modinfo prints)."""
    id_type: str
    signer: bytes
    key_id: bytes
    hash_algo: str
    sig: bytes

    def modinfo(self) -> list[tuple[str, str]]:
        """The (key, value) pairs kmod_module_get_info() appends, in its order."""
        return [("sig_id", self.id_type),
                ("signer", self.signer.decode("utf-8", "surrogateescape")),
                ("sig_key", hex_to_str(self.key_id)),
                ("sig_hashalgo", self.hash_algo),
                ("signature", hex_to_str(self.sig))]


def hex_to_str(data: bytes) -> str:
    """kmod_module_hex_to_str(): XX:XX:..., a "\\n\\t\\t" after every 20 bytes."""
    out = []
    for i, byte in enumerate(data):
        out.append(f"{byte:02X}")
        if i < len(data) - 1:
            out.append(":")
            if (i + 1) % 20 == 0:
                out.append("\n\t\t")
    return "".join(out)


def _fill_pkcs7(raw: bytes) -> SignatureInfo | None:
    try:
        content = _children(_expect(_der(raw)[:2], TAG_SEQUENCE))
        signed = _children(_expect(_children(_expect(content[1], TAG_CONTEXT_0))[0],
                                   TAG_SEQUENCE))
        signer_infos = _children(_expect(signed[-1], TAG_SET))
        info = _children(_expect(signer_infos[0], TAG_SEQUENCE))
        issuer, serial = _children(_expect(info[1], TAG_SEQUENCE))[:2]
        digest_oid = _expect(_children(_expect(info[2], TAG_SEQUENCE))[0], TAG_OID)
        enc_digest = next(body for tag, body in info[3:] if tag == TAG_OCTET_STRING)
        signer = _issuer_name(_expect(issuer, TAG_SEQUENCE))
        serial = _expect(serial, TAG_INTEGER)
    except (DerError, IndexError, StopIteration):
        return None
    hash_algo = _HASH_OIDS.get(digest_oid)
    if hash_algo is None:
        return None
    return SignatureInfo(PKEY_ID_TYPE[PKEY_ID_PKCS7], signer or b"",
                         serial.lstrip(b"\0"), hash_algo, enc_digest)


def signature_info(data: bytes) -> SignatureInfo | None:
    """kmod_module_signature_info(): None when the file carries no readable signature."""
    if len(data) < len(SIG_MAGIC) or not data.endswith(SIG_MAGIC):
        return None
    size = len(data) - len(SIG_MAGIC)
    if size < _MODSIG.size:
        return None
    size -= _MODSIG.size
    algo, hash_, id_type, signer_len, key_id_len, _pad, sig_len = _MODSIG.unpack_from(data, size)
    if algo >= len(PKEY_ALGO) or hash_ >= len(PKEY_HASH_ALGO) or id_type >= len(PKEY_ID_TYPE):
        return None
    if sig_len == 0 or size < signer_len + key_id_len + sig_len:
        return None
    size -= sig_len
    if id_type == PKEY_ID_PKCS7:
        return _fill_pkcs7(data[size:size + sig_len])
    # fill_default(): signer, key id and signature laid out in front of the block
    sig = data[size:size + sig_len]
    key_id = data[size - key_id_len:size]
    size -= key_id_len
    signer = data[size - signer_len:size]
    return SignatureInfo(PKEY_ID_TYPE[id_type], signer, key_id, PKEY_HASH_ALGO[hash_], sig)


# ------------------------------------------------------------ the kernel's own keys
@dataclass(frozen=True)
class SignatureVerdict:
    """Whether a module is signed, by whom, and whether the key is one the target
    kernel carries (its build key: the first of its certificates)."""
    signed: bool
    signer: str = ""
    key: str = ""                 # sig_key as modinfo prints it
    known: str = "unknown"        # "build key", "built-in certificate", "unknown"

    def text(self, release: str) -> str:
        if not self.signed:
            return "not signed"
        which = {"build key": f"the {release} kernel's own build key",
                 "built-in certificate": f"a certificate built into {release}"}.get(
                     self.known, "a key the target kernel does not carry")
        return f"signed by '{self.signer}' (key {self.key}): {which}"

    def as_dict(self) -> dict:
        return {"signed": self.signed, "signer": self.signer, "key": self.key,
                "known": self.known if self.signed else None}


def signature_verdict(data: bytes, certificates: list[dict]) -> SignatureVerdict:
    """The verdict for a module file against the kernel's certificates (kallsyms'
    ``certificates``: serial as hex, build key first)."""
    info = signature_info(data)
    if info is None:
        return SignatureVerdict(False)
    serials = [c["serial"] for c in certificates]
    key = info.key_id.hex()
    known = ("build key" if serials[:1] == [key] else
             "built-in certificate" if key in serials else "unknown")
    return SignatureVerdict(True, info.signer.decode("utf-8", "replace"),
                            hex_to_str(info.key_id), known)



@dataclass(frozen=True)
class Certificate:
    """An X.509 certificate the kernel image carries (its system keyring)."""
    serial: bytes
    issuer_cn: str
    subject_cn: str


def _certificate(der: bytes) -> Certificate | None:
    try:
        tbs = _children(_expect(_children(_expect(_der(der)[:2], TAG_SEQUENCE))[0],
                                TAG_SEQUENCE))
        if tbs[0][0] == TAG_CONTEXT_0:             # [0] version
            tbs = tbs[1:]
        serial = _expect(tbs[0], TAG_INTEGER)
        issuer = _issuer_name(_expect(tbs[2], TAG_SEQUENCE)) or b""
        subject = _issuer_name(_expect(tbs[4], TAG_SEQUENCE)) or b""
    except (DerError, IndexError, ValueError):
        return None
    return Certificate(serial.lstrip(b"\0"), issuer.decode("utf-8", "replace"),
                       subject.decode("utf-8", "replace"))


def find_certificates(image: bytes) -> list[Certificate]:
    """Every DER X.509 certificate in a (decompressed) kernel image.

    certs/system_certificates.S embeds them back to back between
    ``system_certificate_list`` and its end; each starts ``30 82 LL LL 30 82``.
    """
    found, pos = [], image.find(b"\x30\x82")
    while pos >= 0:
        if image[pos + 4:pos + 6] == b"\x30\x82":
            length = 4 + int.from_bytes(image[pos + 2:pos + 4], "big")
            cert = _certificate(image[pos:pos + length])
            if cert is not None and cert.serial:
                found.append(cert)
                pos = image.find(b"\x30\x82", pos + length)
                continue
        pos = image.find(b"\x30\x82", pos + 1)
    return found
