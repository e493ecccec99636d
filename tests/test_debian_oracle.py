"""kemu against the real Linux kernel: 239 unmodified Debian modules, one boot.

tests/expected/debian_oracle/oracle.out is what Debian's own 6.1.0-56 kernel
printed (real-kernel-oracle.sh, qemu64 CPU) running job.sh: insmod of every
module of modules.txt in dependency order (CRC libraries, generic crypto,
NLS tables, small filesystems, x_tables matches and targets, ebtables, ip_set,
misc drivers, lib), /proc/modules, /proc/filesystems and /proc/crypto, error
cases (a second insmod, busy and absent rmmods, insmod without dependencies),
rmmod of everything in reverse, and the kernel log. This test replays the same
job in kemu, as busybox would (a failed insmod is retried once with
init_module(), so its log appears twice), and requires the same results.

Every place where kemu may differ is listed below with its reason
(README.md in that directory has the details); the test applies exactly these
to the real output and then requires equality, so a change on either side shows.
"""
from __future__ import annotations

import re

import pytest

from kemu import Kernel
from kemu.errors import InitError, LoadError
from kemu.module.modprobe import shared_tree
from kemu.module.unload import UnloadError
from kemu.stubs.fs.proc import proc_list

from conftest import EXPECTED

DIR = EXPECTED / "debian_oracle"

# ---------------------------------------------------------------- documented deviations
# kemu's testmgr (stubs/crypto/testmgr.py) runs only shash self-tests; the real one
# also runs skcipher/aead/kpp/rng vectors, whose side effects persist: ecdh's key
# generation vector allocates the default "stdrng" (ansi_cprng, loaded just before,
# which holds aes-fixed-time from aes_ti), simd ciphers instantiate cryptd(...),
# drbg's vectors instantiate ctr(aes-fixed-time) and hmac(sha512-generic).
TESTMGR_RC = {("rmmod", "ansi_cprng"): (1, 0), ("rmmod", "aes_ti"): (1, 0)}
TESTMGR_REFCOUNT = {"ansi_cprng": (1, 0), "aes_ti": (1, 0)}
TESTMGR_INSTANCES = {"cryptd(__cbc-serpent-sse2)", "cryptd(__ecb-serpent-sse2)",
                     "ctr(aes-fixed-time)"}
TESTMGR_ALG_REFCNT = {"ansi_cprng": (2, 1),
                      "aes-fixed-time": (2, 1)}
# testmgr's alg_test_descs[] is not in kemu: no "No test for" line.
TESTMGR_LOG = {"<6>alg: No test for fips(ansi_cprng) (fips_ansi_cprng)"}
# kemu models x_tables' exports so xt_* modules load alone (kemu/kernel/facade.py
# find_symbol); Linux refuses xt_mark without x_tables.
XT_MODELS_RC = {("insmod-nodeps", "xt_mark"): (2, 0)}
XT_MODELS_LOG = re.compile(r"<4>xt_mark: Unknown symbol xt_(un)?register_(match|targets) \(err -2\)")
# The oracle's CPU is qemu64 (no SSSE3): chacha_x86_64 registers no algorithm there.
CPU_ONLY_KEMU_DRIVERS = {"xchacha12-simd", "xchacha20-simd", "chacha20-simd"}
# Boot state of the real machine, asynchronous to the job.
BOOT_NOISE = re.compile(r"<\d>(tsc: Refined TSC|clocksource: |random: crng init done)")


def _between(text, start, end):
    return text.split(start, 1)[1].split(end, 1)[0]


def _blocks(crypto_text):
    """/proc/crypto as a list of {field: value} dicts, in order."""
    out = []
    for block in crypto_text.strip("\n").split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        out.append(fields)
    return out


def _sections(job: str, dmesg: list[str]) -> dict:
    return {
        "rc": [(m[1], m[2], int(m[3])) for m in
               re.finditer(r"^@@@ (\S+) (\S+) rc=(\d+)$", job, re.M)],
        "modules": _between(job, "@@@ /proc/modules\n", "@@@ /proc/filesystems\n"),
        "filesystems": _between(job, "@@@ /proc/filesystems\n", "@@@ /proc/crypto\n"),
        "crypto": _blocks(_between(job, "@@@ /proc/crypto\n", "@@@ ")),
        "dmesg": dmesg,
        "xt_recent": _between(job, "@@@ /proc/net/xt_recent\n", "@@@ "),
    }


@pytest.fixture(scope="module")
def real():
    text = (DIR / "oracle.out").read_text(encoding="utf-8", errors="surrogateescape")
    job = _between(text, "===ORACLE-JOB-BEGIN===\n", "===ORACLE-JOB-END")
    log = _between(job, "@@@ dmesg\n", "@@@ end\n").splitlines()
    log = [re.sub(r"^(<\d+>)\[ *\d+\.\d+\] ", r"\1", line) for line in log]
    start = log.index("<12>ORACLE: insmod crc16") if "<12>ORACLE: insmod crc16" in log else \
        next(i for i, line in enumerate(log) if line.endswith("ORACLE: insmod crc16"))
    dmesg = [line for line in log[start + 1:] if "ORACLE: " not in line]
    return _sections(job, dmesg)


@pytest.fixture(scope="module")
def kemu(debian_modules):
    """The job replayed in kemu: the same text sections as the real job output."""
    root = debian_modules.parent
    tree = shared_tree(str(root))
    k = Kernel(modules=str(root))
    out = []

    def insmod(name):
        rc = 0
        for _ in range(2):                   # busybox: finit_module(), then init_module()
            try:
                k.load(tree.path(name))
                return 0
            except (LoadError, InitError) as exc:
                rc = exc.errno
        return rc

    def rmmod(name):
        try:
            k.unload(name)
            return 0
        except UnloadError:
            return 1                         # busybox rmmod exits 1

    for line in (DIR / "job.sh").read_text().splitlines():
        m = re.search(r'insmod /mods/\S+\.ko; echo "@@@ (\S+) (\S+) rc', line)
        if m:
            out.append(f"@@@ {m[1]} {m[2]} rc={insmod(m[2])}")
            continue
        m = re.search(r'rmmod \S+; echo "@@@ (\S+) (\S+) rc', line)
        if m:
            out.append(f"@@@ {m[1]} {m[2]} rc={rmmod(m[2])}")
            continue
        if line.startswith('mark "state"'):
            modules = re.sub(r"0x[0-9a-f]+", "0xADDR", k.proc_read("/proc/modules").decode())
            out += ["@@@ /proc/modules", modules.rstrip("\n"),
                    "@@@ /proc/filesystems", k.proc_read("/proc/filesystems").decode().rstrip("\n"),
                    "@@@ /proc/crypto", k.proc_read("/proc/crypto").decode().rstrip("\n"),
                    "@@@ /proc/net/xt_recent"]
            out.append("xt_recent=" + str(any(p == "/proc/net/xt_recent"
                                               for p, *_ in proc_list(k))))
    k.log.flush()
    dmesg = [f"<{rec.level}>{line}" for rec in k.log.records for line in rec.text.split("\n")]
    return _sections("\n".join(out) + "\n", dmesg)


def test_every_command_has_the_real_exit_status(real, kemu):
    expected = []
    for cmd, name, rc in real["rc"]:
        dev = TESTMGR_RC.get((cmd, name)) or XT_MODELS_RC.get((cmd, name))
        if dev is not None:
            assert rc == dev[0]
            rc = dev[1]
        expected.append((cmd, name, rc))
    assert kemu["rc"] == expected
    assert len(expected) > 2 * 239


def test_proc_modules_sizes_counts_holders(real, kemu):
    lines = []
    for line in real["modules"].splitlines():
        name, size, count, rest = line.split(" ", 3)
        if name in TESTMGR_REFCOUNT:
            assert int(count) == TESTMGR_REFCOUNT[name][0]
            count = str(TESTMGR_REFCOUNT[name][1])
        lines.append(" ".join((name, size, count, rest)))
    assert kemu["modules"].splitlines() == lines


def test_proc_filesystems(real, kemu):
    assert kemu["filesystems"] == real["filesystems"]


def test_xt_recent_made_its_proc_net_directory(real, kemu):
    assert real["xt_recent"].split() == [".", ".."]
    assert kemu["xt_recent"].strip() == "xt_recent=True"


def test_proc_crypto_entries_of_modules(real, kemu):
    expected = []
    for block in real["crypto"]:
        if block["module"] == "kernel":
            continue
        if block["driver"] in TESTMGR_INSTANCES:
            continue
        if block["driver"] in TESTMGR_ALG_REFCNT:
            assert int(block["refcnt"]) == TESTMGR_ALG_REFCNT[block["driver"]][0]
            block = dict(block, refcnt=str(TESTMGR_ALG_REFCNT[block["driver"]][1]))
        expected.append(block)
    got = [b for b in kemu["crypto"]
           if b["module"] != "kernel" and b["driver"] not in CPU_ONLY_KEMU_DRIVERS]
    assert [b["driver"] for b in got] == [b["driver"] for b in expected]
    assert got == expected
    assert len(got) > 80


def test_proc_crypto_builtin_entries_are_the_real_ones(real, kemu):
    """kemu builds in a subset of what vmlinux has (no rsa, dh, deflate, lzo,
    compress_null, hmac instances): same fields except refcnt (boot users), same order."""
    builtin = [dict(b, refcnt="-") for b in real["crypto"] if b["module"] == "kernel"]
    mine = [dict(b, refcnt="-") for b in kemu["crypto"] if b["module"] == "kernel"]
    assert mine
    it = iter(builtin)
    assert all(any(b == m for b in it) for m in mine), "not an ordered subset"


def test_kernel_log(real, kemu):
    expected = [line for line in real["dmesg"]
                if not BOOT_NOISE.match(line) and line not in TESTMGR_LOG
                and not XT_MODELS_LOG.fullmatch(line)]
    assert kemu["dmesg"] == expected
    assert "<6>QNX4 filesystem 0.2.3 registered." in expected
