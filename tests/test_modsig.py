"""``kemu modinfo`` on signed modules: the sig_id, signer, sig_key, sig_hashalgo
and signature lines kmod 30's modinfo prints (libkmod-signature.c).

Goldens under tests/expected/modinfo/RELEASE/ were recorded with Debian's kmod
30 (``modinfo KO | sed 1s/.../``: only the filename line, which depends on
where the modules are, is masked). When kmod's modinfo is installed, more of
Debian's modules are compared with it live.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys

import pytest

from conftest import ROOT, TESTMODS
from kemu.module.modsig import hex_to_str, signature_info

EXPECTED = ROOT / "tests" / "expected" / "modinfo"
GOLDEN = {"crc8": "lib/crc8.ko", "fat": "fs/fat/fat.ko",
          "xt_recent": "net/netfilter/xt_recent.ko",
          "at24": "drivers/misc/eeprom/at24.ko", "xts": "crypto/xts.ko"}
LIVE = ["lib/crc16.ko", "fs/nls/nls_utf8.ko", "net/netfilter/xt_LOG.ko",
        "crypto/ccm.ko", "drivers/char/ipmi/ipmi_msghandler.ko", "fs/isofs/isofs.ko"]


def kemu_modinfo(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kemu", "modinfo", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def _release(debian_modules) -> str:
    return debian_modules.parent.name


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_modinfo_of_a_signed_debian_module_is_kmods(debian_modules, name):
    golden = EXPECTED / _release(debian_modules) / f"{name}.modinfo"
    assert golden.exists(), f"no golden for {_release(debian_modules)}: record {golden} " \
                            "with kmod's modinfo (see this file's docstring)"
    proc = kemu_modinfo(debian_modules / GOLDEN[name])
    assert proc.returncode == 0 and proc.stderr == ""
    first, _, rest = proc.stdout.partition("\n")
    assert first == f"filename:       {debian_modules / GOLDEN[name]}"
    want_first, _, want_rest = golden.read_text().partition("\n")
    assert want_first == f"filename:       KERNEL/{GOLDEN[name]}"
    assert rest == want_rest
    assert "sig_id:         PKCS#7\n" in rest and "\nsignature:      " in rest


@pytest.mark.skipif(not (shutil.which("modinfo") or os.path.exists("/usr/sbin/modinfo")),
                    reason="kmod's modinfo is not installed (the goldens above still run)")
@pytest.mark.parametrize("rel", LIVE)
def test_modinfo_matches_installed_kmod(debian_modules, rel):
    kmod = shutil.which("modinfo") or "/usr/sbin/modinfo"
    want = subprocess.run([kmod, str(debian_modules / rel)], capture_output=True, text=True)
    assert want.returncode == 0
    assert kemu_modinfo(debian_modules / rel).stdout == want.stdout


def _with_signature(body: bytes, id_type: int, hash_: int) -> bytes:
    signer, key, sig = b"kemu test signer", bytes(range(1, 25)), bytes(range(100, 145))
    block = struct.pack(">BBBBB3sI", 1, hash_, id_type, len(signer), len(key), b"\0\0\0", len(sig))
    return body + signer + key + sig + block + b"~Module signature appended~\n"


def test_modinfo_of_an_x509_id_signature(tmp_path):
    """fill_default(): signer and key id stored in the file, 20 bytes a line (checked with kmod 30)."""
    ko = tmp_path / "x509sig.ko"
    ko.write_bytes(_with_signature((TESTMODS / "hello.ko").read_bytes(), 1, 2))
    lines = kemu_modinfo(ko).stdout.split("\n")
    at = lines.index("sig_id:         X509")
    assert lines[at:at + 9] == [
        "sig_id:         X509",
        "signer:         kemu test signer",
        "sig_key:        01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:",
        "\t\t15:16:17:18",
        "sig_hashalgo:   sha1",
        "signature:      64:65:66:67:68:69:6A:6B:6C:6D:6E:6F:70:71:72:73:74:75:76:77:",
        "\t\t78:79:7A:7B:7C:7D:7E:7F:80:81:82:83:84:85:86:87:88:89:8A:8B:",
        "\t\t8C:8D:8E:8F:90",
        "parm:           who:whom to greet (default \"world\") (charp)"]


def test_unsigned_and_unreadable_signatures_print_no_signature_lines(tmp_path):
    hello = (TESTMODS / "hello.ko").read_bytes()
    assert signature_info(hello) is None
    assert "sig_id" not in kemu_modinfo(TESTMODS / "hello.ko").stdout
    # an out-of-range hash id: kmod_module_signature_info() gives up, modinfo goes on
    ko = tmp_path / "badhash.ko"
    ko.write_bytes(_with_signature(hello, 1, 9))
    proc = kemu_modinfo(ko)
    assert proc.returncode == 0 and "sig_" not in proc.stdout and "name:           hello" in proc.stdout


def test_hex_to_str_wraps_after_every_twenty_bytes():
    assert hex_to_str(b"") == ""
    assert hex_to_str(bytes(20)) == ":".join(["00"] * 20)
    assert hex_to_str(bytes(21)) == ":".join(["00"] * 20) + ":\n\t\t00"


def test_signature_verdict_against_the_kernels_own_keys(debian_modules):
    """Debian's modules are signed with the build key that vmlinuz carries
    (certs/system_certificates.S); a testmods module is not signed; a key the
    kernel does not carry is unknown."""
    from kemu.kernel.kallsyms import load_kallsyms
    from kemu.module.modsig import signature_verdict
    certs = load_kallsyms(_release(debian_modules)).certificates
    assert certs and certs[0]["subject"] == "Build time autogenerated kernel key"
    signed = signature_verdict((debian_modules / "lib/crc8.ko").read_bytes(), certs)
    assert (signed.signed, signed.known, signed.signer) == \
        (True, "build key", "Build time autogenerated kernel key")
    assert signed.key.replace(":", "").lower() == certs[0]["serial"]
    assert signed.text(_release(debian_modules)) == (
        f"signed by 'Build time autogenerated kernel key' (key {signed.key}): "
        f"the {_release(debian_modules)} kernel's own build key")
    assert not signature_verdict((TESTMODS / "hello.ko").read_bytes(), certs).signed
    other = signature_verdict(_with_signature((TESTMODS / "hello.ko").read_bytes(), 1, 2), certs)
    assert other.signed and other.known == "unknown"
