"""Debian's small filesystem modules, strict: load, init, exit, nothing left behind.

Also the fs-side models they rely on: the /proc/filesystems view with the
right owner, sysctl tables (cdrom's), shrinkers (mbcache), quota formats,
match_token, and struct return values in RAX:RDX (current_time).
"""
from __future__ import annotations

import pytest

from kemu import Kernel
from kemu.cproto import PrototypeError, parse_prototype
from kemu.errors import KemuError

# module -> (path, dependencies in load order)
FS = {
    "adfs": ("fs/adfs/adfs.ko", []), "affs": ("fs/affs/affs.ko", []),
    "befs": ("fs/befs/befs.ko", []), "bfs": ("fs/bfs/bfs.ko", []),
    "efs": ("fs/efs/efs.ko", []), "exfat": ("fs/exfat/exfat.ko", []),
    "fat": ("fs/fat/fat.ko", []), "freevxfs": ("fs/freevxfs/freevxfs.ko", []),
    "hpfs": ("fs/hpfs/hpfs.ko", []), "minix": ("fs/minix/minix.ko", []),
    "omfs": ("fs/omfs/omfs.ko", ["lib/crc-itu-t.ko"]), "qnx4": ("fs/qnx4/qnx4.ko", []),
    "qnx6": ("fs/qnx6/qnx6.ko", []), "sysv": ("fs/sysv/sysv.ko", []),
    "ufs": ("fs/ufs/ufs.ko", []),
    "msdos": ("fs/fat/msdos.ko", ["fs/fat/fat.ko"]), "vfat": ("fs/fat/vfat.ko", ["fs/fat/fat.ko"]),
    "udf": ("fs/udf/udf.ko", ["drivers/cdrom/cdrom.ko", "lib/crc-itu-t.ko"]),
}
# filesystem types each registers (fat registers none: msdos/vfat do)
TYPES = {"adfs": ["adfs"], "affs": ["affs"], "befs": ["befs"], "bfs": ["bfs"], "efs": ["efs"],
         "exfat": ["exfat"], "fat": [], "freevxfs": ["vxfs"], "hpfs": ["hpfs"],
         "minix": ["minix"], "omfs": ["omfs"], "qnx4": ["qnx4"], "qnx6": ["qnx6"],
         "sysv": ["sysv", "v7"], "ufs": ["ufs"], "udf": ["udf"], "msdos": ["msdos"],
         "vfat": ["vfat"]}


def _name(path):
    return path.rsplit("/", 1)[1][:-3].replace("-", "_")


def _load(k, debian_modules, path):
    try:
        k.load(str(debian_modules / path))
    except KemuError as exc:
        pytest.fail(f"{path}: {exc} {getattr(exc, 'missing', [])[:8]}")


def _clean(k):
    assert k.findings == []
    assert k.registrations == {}
    k.log.flush()
    assert not [r.text for r in k.log.records if r.level <= 4], "the kernel complained"


@pytest.mark.parametrize("name", sorted(FS))
def test_filesystem_strict_cycle(debian_modules, name):
    from stubs.fs.filesystems import filesystems, proc_filesystems
    path, deps = FS[name]
    k = Kernel()
    for dep in deps:
        _load(k, debian_modules, dep)
    _load(k, debian_modules, path)
    mine = [(fs, owner) for fs, _flags, owner in filesystems(k) if owner == name]
    assert sorted(fs for fs, _ in mine) == sorted(TYPES[name])
    for fs in TYPES[name]:
        assert f"\t{fs}\n" in proc_filesystems(k)
        assert any(r.what == f"filesystem {fs}" and r.owner.name == name
                   for r in k.registered("filesystem"))
    k.unload(name)
    for dep in reversed(deps):
        k.unload(_name(dep))
    assert not [fs for fs, _f, owner in filesystems(k) if owner == name]
    for fs in TYPES[name]:
        assert f"\t{fs}\n" not in proc_filesystems(k)
    _clean(k)


def test_requires_dev_shows_in_proc_filesystems(debian_modules):
    from stubs.fs.filesystems import proc_filesystems
    k = Kernel()
    _load(k, debian_modules, "fs/minix/minix.ko")
    text = "\n" + proc_filesystems(k)
    assert "\n\tminix\n" in text and "\nnodev\tminix\n" not in text    # FS_REQUIRES_DEV


def test_quota_formats_register_and_go(debian_modules):
    from stubs.fs.quota import quota_formats
    k = Kernel()
    _load(k, debian_modules, "fs/quota/quota_v1.ko")
    _load(k, debian_modules, "fs/quota/quota_tree.ko")
    _load(k, debian_modules, "fs/quota/quota_v2.ko")
    owners = sorted(r.owner.name for r in k.registered("quota format"))
    assert owners == ["quota_v1", "quota_v2", "quota_v2"]     # v2 registers vfsv0 and vfsv1
    assert len(quota_formats(k)) == 3
    for name in ("quota_v2", "quota_tree", "quota_v1"):
        k.unload(name)
    assert quota_formats(k) == []
    _clean(k)


def test_mbcache_shrinker_is_registered_by_its_owner(debian_modules):
    from stubs.mm.shrinker import shrinkers
    k = Kernel()
    _load(k, debian_modules, "fs/mbcache.ko")
    assert shrinkers(k) == []          # mbcache registers one per cache, at mount time
    k.unload("mbcache")
    _clean(k)


def test_cdrom_sysctl_table(debian_modules):
    from stubs.kernel.sysctl import sysctl_entries, sysctl_read, sysctl_write
    k = Kernel()
    _load(k, debian_modules, "drivers/cdrom/cdrom.ko")
    entries = sysctl_entries(k)
    assert {p for p in entries if p.startswith("dev/cdrom/")} >= {
        "dev/cdrom/info", "dev/cdrom/autoclose", "dev/cdrom/autoeject", "dev/cdrom/debug",
        "dev/cdrom/lock", "dev/cdrom/check_media"}
    assert {owner for _e, owner in entries.values()} == {"cdrom"}
    assert sysctl_read(k, "dev/cdrom/autoclose") == b"1\n"
    assert sysctl_read(k, "dev/cdrom/info").startswith(b"CD-ROM information")
    assert sysctl_write(k, "dev/cdrom/debug", b"1\n") == 2
    assert sysctl_read(k, "dev/cdrom/debug") == b"1\n"
    k.unload("cdrom")
    assert sysctl_entries(k) == {}
    _clean(k)


def test_sysctl_table_left_registered_is_reported(debian_modules):
    k = Kernel()
    _load(k, debian_modules, "drivers/cdrom/cdrom.ko")
    assert [r.owner.name for r in k.registered("sysctl table")] == ["cdrom"]


# ------------------------------------------------ match_token (lib/parser.c)
def test_match_one_patterns():
    from stubs.lib.parser import match_one, wildcard
    assert match_one(b"uid=1000", b"uid=%u") == [(4, 8)]
    assert match_one(b"uid=", b"uid=%u") is None
    assert match_one(b"mode=0755", b"mode=%o") == [(5, 9)]
    assert match_one(b"iocharset=utf8", b"iocharset=%s") == [(10, 14)]
    assert match_one(b"iocharset=", b"iocharset=%s") is None
    assert match_one(b"abc", b"%2s") is None                   # trailing text must match
    assert match_one(b"ro", b"ro") == []
    assert match_one(b"100%", b"%d%%") == [(0, 3)]
    assert wildcard(b"ext*", b"ext4") and not wildcard(b"ext?", b"ext44")


def test_match_token_on_a_table_in_kernel_memory():
    k = Kernel()
    t, m = k.target, k.machine
    pats = [b"uid=%u", b"gid=%u", b"ro"]
    table = k.heap.alloc(t.sizeof("match_token") * 4, zero=True)
    for i, p in enumerate(pats):
        s = k.heap.alloc(len(p) + 1)
        m.write(s, p + b"\0")
        m.write_u32(table + i * t.sizeof("match_token") + t.offset("match_token.token"), i + 1)
        m.write_u64(table + i * t.sizeof("match_token") + t.offset("match_token.pattern"), s)
    m.write_u32(table + 3 * t.sizeof("match_token"), 99)        # {Opt_err, NULL}
    text = k.heap.alloc(16)
    m.write(text, b"gid=42\0")
    args = k.heap.alloc(3 * t.sizeof("substring_t"), zero=True)
    assert k.call(k.export_addr("match_token"), text, table, args, entry="t") == 2
    assert m.read_u64(args + t.offset("substring_t.from")) == text + 4
    assert m.read_u64(args + t.offset("substring_t.to")) == text + 6
    result = k.heap.alloc(4, zero=True)
    assert k.call(k.export_addr("match_int"), args, result, entry="t") == 0
    assert m.read_u32(result) == 42
    m.write(text, b"bogus\0")
    assert k.call(k.export_addr("match_token"), text, table, args, entry="t") == 99


def test_full_name_hash_matches_the_kernel_for_short_and_long_names():
    from stubs.fs.namei import name_hash
    assert name_hash(0, b"") == 0                         # fold_hash(0, 0)
    assert name_hash(0, b"a") != name_hash(0, b"b")
    # a trailing NUL is masked in as zero bytes: the kernel hashes these alike too
    assert name_hash(0, b"abcdefgh") == name_hash(0, b"abcdefgh\0")
    assert name_hash(0, b"abcdefghi") != name_hash(0, b"abcdefghj")  # the tail word counts
    assert name_hash(1, b"x") != name_hash(0, b"x")                  # and the salt


# ------------------------------------------------ struct returned in RAX:RDX
def test_struct_return_prototypes():
    p = parse_prototype("struct timespec64 current_time(struct inode *inode)")
    assert p.ret.aggregate and p.ret.size == 16
    assert p.ret.to_raw((5, 7)) == 5 | 7 << 64
    assert p.ret.to_raw((5).to_bytes(8, "little") + (7).to_bytes(8, "little")) == 5 | 7 << 64
    with pytest.raises(PrototypeError):
        parse_prototype("int f(struct timespec64 ts)")        # by-value arguments stay refused
    with pytest.raises(PrototypeError):
        parse_prototype("struct inode f(void)")                 # only listed small structs


def test_current_time_in_rax_rdx_truncated_to_granularity():
    from stubs.kernel.time.timekeeping import REALTIME_AT_BOOT
    k = Kernel()
    t, m = k.target, k.machine
    inode = k.heap.alloc(t.sizeof("inode"), zero=True)
    sb = k.heap.alloc(t.sizeof("super_block"), zero=True)
    m.write_u64(inode + t.offset("inode.i_sb"), sb)
    m.write_u64(sb + t.offset("super_block.s_time_max"), (1 << 63) - 1)
    k.clock_ns += 1_234_567_891
    now = REALTIME_AT_BOOT + k.clock_ns
    for gran, nsec in ((1, (now // 4_000_000 * 4_000_000) % 10**9),
                       (10**9, 0), (10**7, (now // 10**7 * 10**7) % 10**9)):
        m.write_u32(sb + t.offset("super_block.s_time_gran"), gran)
        sec = k.call(k.export_addr("current_time"), inode, entry="t")
        assert sec == now // 10**9
        assert m.reg("rdx") == nsec
    assert k.findings == []
