"""lib/oid_registry.c: look_up_OID() and sprint_oid().

The registry is <linux/oid_registry.h>'s enum OID: each enumerator carries its
dotted OID in a comment, from which the kernel's build (build_OID_registry)
generates the encoded table look_up_OID() searches. The same comments are
copied below; the enumerators' values come from the target description.
"""
from __future__ import annotations

import errno

from kemu import export

# (enumerator, dotted OID) in <linux/oid_registry.h> order
OIDS = [
    ("OID_id_dsa_with_sha1", "1.2.840.10030.4.3"), ("OID_id_dsa", "1.2.840.10040.4.1"),
    ("OID_id_ecPublicKey", "1.2.840.10045.2.1"), ("OID_id_prime192v1", "1.2.840.10045.3.1.1"),
    ("OID_id_prime256v1", "1.2.840.10045.3.1.7"), ("OID_id_ecdsa_with_sha1", "1.2.840.10045.4.1"),
    ("OID_id_ecdsa_with_sha224", "1.2.840.10045.4.3.1"),
    ("OID_id_ecdsa_with_sha256", "1.2.840.10045.4.3.2"),
    ("OID_id_ecdsa_with_sha384", "1.2.840.10045.4.3.3"),
    ("OID_id_ecdsa_with_sha512", "1.2.840.10045.4.3.4"),
    ("OID_rsaEncryption", "1.2.840.113549.1.1.1"),
    ("OID_md2WithRSAEncryption", "1.2.840.113549.1.1.2"),
    ("OID_md3WithRSAEncryption", "1.2.840.113549.1.1.3"),
    ("OID_md4WithRSAEncryption", "1.2.840.113549.1.1.4"),
    ("OID_sha1WithRSAEncryption", "1.2.840.113549.1.1.5"),
    ("OID_sha256WithRSAEncryption", "1.2.840.113549.1.1.11"),
    ("OID_sha384WithRSAEncryption", "1.2.840.113549.1.1.12"),
    ("OID_sha512WithRSAEncryption", "1.2.840.113549.1.1.13"),
    ("OID_sha224WithRSAEncryption", "1.2.840.113549.1.1.14"), ("OID_data", "1.2.840.113549.1.7.1"),
    ("OID_signed_data", "1.2.840.113549.1.7.2"), ("OID_email_address", "1.2.840.113549.1.9.1"),
    ("OID_contentType", "1.2.840.113549.1.9.3"), ("OID_messageDigest", "1.2.840.113549.1.9.4"),
    ("OID_signingTime", "1.2.840.113549.1.9.5"), ("OID_smimeCapabilites", "1.2.840.113549.1.9.15"),
    ("OID_smimeAuthenticatedAttrs", "1.2.840.113549.1.9.16.2.11"),
    ("OID_md2", "1.2.840.113549.2.2"), ("OID_md4", "1.2.840.113549.2.4"),
    ("OID_md5", "1.2.840.113549.2.5"), ("OID_mskrb5", "1.2.840.48018.1.2.2"),
    ("OID_krb5", "1.2.840.113554.1.2.2"), ("OID_krb5u2u", "1.2.840.113554.1.2.2.3"),
    ("OID_msIndirectData", "1.3.6.1.4.1.311.2.1.4"),
    ("OID_msStatementType", "1.3.6.1.4.1.311.2.1.11"),
    ("OID_msSpOpusInfo", "1.3.6.1.4.1.311.2.1.12"),
    ("OID_msPeImageDataObjId", "1.3.6.1.4.1.311.2.1.15"),
    ("OID_msIndividualSPKeyPurpose", "1.3.6.1.4.1.311.2.1.21"),
    ("OID_msOutlookExpress", "1.3.6.1.4.1.311.16.4"), ("OID_ntlmssp", "1.3.6.1.4.1.311.2.2.10"),
    ("OID_spnego", "1.3.6.1.5.5.2"), ("OID_IAKerb", "1.3.6.1.5.2.5"),
    ("OID_PKU2U", "1.3.5.1.5.2.7"), ("OID_Scram", "1.3.6.1.5.5.14"),
    ("OID_certAuthInfoAccess", "1.3.6.1.5.5.7.1.1"), ("OID_sha1", "1.3.14.3.2.26"),
    ("OID_id_ansip384r1", "1.3.132.0.34"), ("OID_sha256", "2.16.840.1.101.3.4.2.1"),
    ("OID_sha384", "2.16.840.1.101.3.4.2.2"), ("OID_sha512", "2.16.840.1.101.3.4.2.3"),
    ("OID_sha224", "2.16.840.1.101.3.4.2.4"), ("OID_commonName", "2.5.4.3"),
    ("OID_surname", "2.5.4.4"), ("OID_countryName", "2.5.4.6"), ("OID_locality", "2.5.4.7"),
    ("OID_stateOrProvinceName", "2.5.4.8"), ("OID_organizationName", "2.5.4.10"),
    ("OID_organizationUnitName", "2.5.4.11"), ("OID_title", "2.5.4.12"),
    ("OID_description", "2.5.4.13"), ("OID_name", "2.5.4.41"), ("OID_givenName", "2.5.4.42"),
    ("OID_initials", "2.5.4.43"), ("OID_generationalQualifier", "2.5.4.44"),
    ("OID_subjectKeyIdentifier", "2.5.29.14"), ("OID_keyUsage", "2.5.29.15"),
    ("OID_subjectAltName", "2.5.29.17"), ("OID_issuerAltName", "2.5.29.18"),
    ("OID_basicConstraints", "2.5.29.19"), ("OID_crlDistributionPoints", "2.5.29.31"),
    ("OID_certPolicies", "2.5.29.32"), ("OID_authorityKeyIdentifier", "2.5.29.35"),
    ("OID_extKeyUsage", "2.5.29.37"), ("OID_NetlogonMechanism", "1.2.752.43.14.2"),
    ("OID_appleLocalKdcSupported", "1.2.752.43.14.3"), ("OID_gostCPSignA", "1.2.643.2.2.35.1"),
    ("OID_gostCPSignB", "1.2.643.2.2.35.2"), ("OID_gostCPSignC", "1.2.643.2.2.35.3"),
    ("OID_gost2012PKey256", "1.2.643.7.1.1.1.1"), ("OID_gost2012PKey512", "1.2.643.7.1.1.1.2"),
    ("OID_gost2012Digest256", "1.2.643.7.1.1.2.2"), ("OID_gost2012Digest512", "1.2.643.7.1.1.2.3"),
    ("OID_gost2012Signature256", "1.2.643.7.1.1.3.2"),
    ("OID_gost2012Signature512", "1.2.643.7.1.1.3.3"),
    ("OID_gostTC26Sign256A", "1.2.643.7.1.2.1.1.1"),
    ("OID_gostTC26Sign256B", "1.2.643.7.1.2.1.1.2"),
    ("OID_gostTC26Sign256C", "1.2.643.7.1.2.1.1.3"),
    ("OID_gostTC26Sign256D", "1.2.643.7.1.2.1.1.4"),
    ("OID_gostTC26Sign512A", "1.2.643.7.1.2.1.2.1"),
    ("OID_gostTC26Sign512B", "1.2.643.7.1.2.1.2.2"),
    ("OID_gostTC26Sign512C", "1.2.643.7.1.2.1.2.3"), ("OID_sm2", "1.2.156.10197.1.301"),
    ("OID_sm3", "1.2.156.10197.1.401"), ("OID_SM2_with_SM3", "1.2.156.10197.1.501"),
    ("OID_sm3WithRSAEncryption", "1.2.156.10197.1.504"), ("OID_TPMLoadableKey", "2.23.133.10.1.3"),
    ("OID_TPMImportableKey", "2.23.133.10.1.4"), ("OID_TPMSealedData", "2.23.133.10.1.5"),]


def encode_oid(dotted: str) -> bytes:
    """The BER content octets of a dotted OID (first two arcs as 40 * a + b)."""
    arcs = [int(x) for x in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


class Registry:
    """Encoded OID -> enum OID value, made once per kernel from the target's constants."""

    def __init__(self, k):
        self.by_octets = {encode_oid(dotted): k.target.const(name) for name, dotted in OIDS}
        self.nr = k.target.const("OID__NR")


def look_up_oid(k, octets: bytes) -> int:
    return k.model(Registry).by_octets.get(octets, k.model(Registry).nr)


@export("enum OID look_up_OID(const void *data, size_t datasize)")
def look_up_OID(k, data, datasize):
    """The enum OID whose encoding is exactly the ``datasize`` bytes at ``data``, else OID__NR."""
    return look_up_oid(k, k.machine.read(data, datasize) if datasize else b"")


def _snprintf(k, buf, size, text: bytes) -> int:
    if size:
        k.machine.write(buf, text[:size - 1] + b"\0")
    return len(text)


@export("int sprint_oid(const void *data, size_t datasize, char *buffer, size_t bufsize)")
def sprint_oid(k, data, datasize, buffer, bufsize):
    """The dotted form of an encoded OID: its length, -ENOBUFS or -EBADMSG ("(bad)")."""
    v = k.machine.read(data, datasize) if datasize else b""
    if not v:
        _snprintf(k, buffer, bufsize, b"(bad)")
        return -errno.EBADMSG
    n, i = v[0], 1
    count = _snprintf(k, buffer, bufsize, f"{n // 40}.{n % 40}".encode())
    if count >= bufsize:
        return -errno.ENOBUFS
    ret, buffer, bufsize = count, buffer + count, bufsize - count
    while i < len(v):
        n = v[i]
        i += 1
        num = n
        if n & 0x80:
            num = n & 0x7F
            while True:
                if i >= len(v):
                    _snprintf(k, buffer, bufsize, b"(bad)")
                    return -errno.EBADMSG
                n = v[i]
                i += 1
                num = (num << 7 | (n & 0x7F)) & 0xFFFFFFFFFFFFFFFF
                if not n & 0x80:
                    break
        count = _snprintf(k, buffer, bufsize, f".{num}".encode())
        ret += count
        if count >= bufsize:
            return -errno.ENOBUFS
        buffer, bufsize = buffer + count, bufsize - count
    return ret
