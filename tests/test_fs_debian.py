"""Debian's small filesystem modules, strict: load, init, exit, nothing left behind.

Also the fs-side models they rely on: the /proc/filesystems view with the
right owner, sysctl tables (cdrom's), shrinkers (mbcache), quota formats,
match_token, and struct return values in RAX:RDX (current_time).
"""
from __future__ import annotations

import pytest

from kemu import Kernel
from kemu.abi.cproto import PrototypeError, parse_prototype
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
    "hfs": ("fs/hfs/hfs.ko", ["drivers/cdrom/cdrom.ko"]),
    "hfsplus": ("fs/hfsplus/hfsplus.ko", ["drivers/cdrom/cdrom.ko"]),
    "isofs": ("fs/isofs/isofs.ko", ["drivers/cdrom/cdrom.ko"]),
    "reiserfs": ("fs/reiserfs/reiserfs.ko", []), "jfs": ("fs/jfs/jfs.ko", []),
    "coda": ("fs/coda/coda.ko", []), "configfs": ("fs/configfs/configfs.ko", []),
    "autofs4": ("fs/autofs/autofs4.ko", []), "binfmt_misc": ("fs/binfmt_misc.ko", []),
    "zonefs": ("fs/zonefs/zonefs.ko", []), "orangefs": ("fs/orangefs/orangefs.ko", []),
    "jbd2": ("fs/jbd2/jbd2.ko", []), "netfs": ("fs/netfs/netfs.ko", []),
}
# filesystem types each registers (fat registers none: msdos/vfat do)
TYPES = {"adfs": ["adfs"], "affs": ["affs"], "befs": ["befs"], "bfs": ["bfs"], "efs": ["efs"],
         "exfat": ["exfat"], "fat": [], "freevxfs": ["vxfs"], "hpfs": ["hpfs"],
         "minix": ["minix"], "omfs": ["omfs"], "qnx4": ["qnx4"], "qnx6": ["qnx6"],
         "sysv": ["sysv", "v7"], "ufs": ["ufs"], "udf": ["udf"], "msdos": ["msdos"],
         "vfat": ["vfat"], "hfs": ["hfs"], "hfsplus": ["hfsplus"], "isofs": ["iso9660"],
         "reiserfs": ["reiserfs"], "jfs": ["jfs"], "coda": ["coda"], "configfs": ["configfs"],
         "autofs4": ["autofs"], "binfmt_misc": ["binfmt_misc"], "zonefs": ["zonefs"],
         "orangefs": ["pvfs2"], "jbd2": [], "netfs": []}


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
    from kemu.stubs.fs.filesystems import filesystems, proc_filesystems
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
    from kemu.stubs.fs.filesystems import proc_filesystems
    k = Kernel()
    _load(k, debian_modules, "fs/minix/minix.ko")
    text = "\n" + proc_filesystems(k)
    assert "\n\tminix\n" in text and "\nnodev\tminix\n" not in text    # FS_REQUIRES_DEV


def test_quota_formats_register_and_go(debian_modules):
    from kemu.stubs.fs.quota import quota_formats
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
    from kemu.stubs.mm.shrinker import shrinkers
    k = Kernel()
    _load(k, debian_modules, "fs/mbcache.ko")
    assert shrinkers(k) == []          # mbcache registers one per cache, at mount time
    k.unload("mbcache")
    _clean(k)


def test_cdrom_sysctl_table(debian_modules):
    from kemu.stubs.kernel.sysctl import sysctl_entries, sysctl_read, sysctl_write
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
    from kemu.stubs.lib.parser import match_one, wildcard
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
    from kemu.stubs.fs.namei import name_hash
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
    from kemu.stubs.kernel.time.timekeeping import REALTIME_AT_BOOT
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


# ------------------------------------------------ lib and kernel helpers of the filesystems
def _call(k, name, *args):
    return k.call(k.export_addr(name), *args, entry=f"kemu {name}")


def _s(v, bits=32):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def test_jfs_kernel_threads_run_freezable_and_stop(debian_modules):
    k = Kernel()
    _load(k, debian_modules, "fs/jfs/jfs.ko")
    threads = [r.what for r in k.registered("kthread")]
    assert threads and all(r.owner.name == "jfs" for r in k.registered("kthread"))
    k.unload("jfs")
    _clean(k)


def test_lockref_and_dec_and_lock():
    k = Kernel()
    m, t = k.machine, k.target
    ref = k.heap.alloc(t.sizeof("lockref"), zero=True)
    _call(k, "lockref_get", ref)
    assert m.read_u32(ref + t.offset("lockref.count")) == 1
    assert _call(k, "lockref_get_not_zero", ref) == 1
    assert _call(k, "lockref_put_not_zero", ref) == 1
    assert _call(k, "lockref_put_not_zero", ref) == 0            # the last one stays
    assert _call(k, "lockref_put_or_lock", ref) & 0xFF == 0       # ... returned locked
    assert m.read_u32(ref + t.offset("lockref.lock")) != 0
    _call(k, "lockref_mark_dead", ref)
    _call(k, "_raw_spin_unlock", ref + t.offset("lockref.lock"))
    assert _call(k, "lockref_get_not_dead", ref) == 0
    assert _s(_call(k, "lockref_put_return", ref)) == -1
    atomic, lock = k.heap.alloc(4, zero=True), k.heap.alloc(4, zero=True)
    m.write_u32(atomic, 2)
    assert _call(k, "_atomic_dec_and_lock", atomic, lock) == 0 and m.read_u32(lock) == 0
    assert _call(k, "_atomic_dec_and_lock", atomic, lock) == 1 and m.read_u32(lock) != 0
    _call(k, "_raw_spin_unlock", lock)
    assert m.read_u32(atomic) == 0
    # each call is an entry of its own: returning with the lock held is reported as such
    assert [f["message"].split(" returned")[0] for f in k.findings if f["kind"] == "lock-leak"] \
        == ["kemu lockref_put_or_lock", "kemu lockref_mark_dead", "kemu _atomic_dec_and_lock"]


def test_errseq_reports_each_error_once_per_sampler():
    k = Kernel()
    m = k.machine
    eseq, since = k.heap.alloc(4, zero=True), k.heap.alloc(4, zero=True)
    m.write_u32(since, _call(k, "errseq_sample", eseq))
    assert _s(_call(k, "errseq_check", eseq, m.read_u32(since))) == 0
    _call(k, "errseq_set", eseq, -5 & 0xFFFFFFFF)
    assert _s(_call(k, "errseq_check", eseq, m.read_u32(since))) == -5
    assert _s(_call(k, "errseq_check_and_advance", eseq, since)) == -5
    assert _s(_call(k, "errseq_check_and_advance", eseq, since)) == 0   # seen
    _call(k, "errseq_set", eseq, -28 & 0xFFFFFFFF)                       # counter moves
    assert _s(_call(k, "errseq_check_and_advance", eseq, since)) == -28
    assert k.findings == []


def test_uuid_and_string_unescape():
    k = Kernel()
    m = k.machine
    u = k.heap.alloc(16)
    _call(k, "generate_random_uuid", u)
    b = m.read(u, 16)
    assert b[6] >> 4 == 4 and b[8] >> 6 == 2
    text = k.heap.alloc(40)
    m.write(text, b"00112233-4455-6677-8899-aabbccddeeff\0")
    assert _call(k, "uuid_is_valid", text) & 0xFF == 1
    assert _call(k, "guid_parse", text, u) == 0
    assert m.read(u, 4) == bytes.fromhex("33221100")
    m.write(text + 8, b"x")
    assert _s(_call(k, "uuid_parse", text, u)) == -22
    assert m.read(k.export_addr("uuid_null"), 16) == bytes(16)
    m.write(text, rb":a\x41\101\n\q:" + b"\0")
    n = _call(k, "string_unescape", text, text, 0, 15)                  # UNESCAPE_ANY, in place
    assert m.read(text, n + 1) == b":aAA\n\\q:\0"


def test_iov_iter_over_kvecs_copies_advances_and_reverts():
    k = Kernel()
    m, t = k.machine, k.target
    bufs = [k.heap.alloc(4, zero=True), k.heap.alloc(6, zero=True)]
    kv = k.heap.alloc(2 * t.sizeof("kvec"))
    for i, (b, n) in enumerate(zip(bufs, (4, 6))):
        m.write_u64(kv + i * t.sizeof("kvec") + t.offset("kvec.iov_base"), b)
        m.write_u64(kv + i * t.sizeof("kvec") + t.offset("kvec.iov_len"), n)
    it = k.heap.alloc(t.sizeof("iov_iter"))
    _call(k, "iov_iter_kvec", it, 0, kv, 2, 10)                          # READ: a destination
    src = k.heap.alloc(16)
    m.write(src, b"0123456789abcdef")
    assert _call(k, "iov_iter_single_seg_count", it) == 4
    assert _call(k, "_copy_to_iter", src, 6, it) == 6
    assert m.read(bufs[0], 4) == b"0123" and m.read(bufs[1], 2) == b"45"
    assert m.read_u64(it + t.offset("iov_iter.count")) == 4
    _call(k, "iov_iter_revert", it, 3)
    assert m.read_u64(it + t.offset("iov_iter.count")) == 7
    m.write(src, b"ABCDEFGHIJ")
    assert _call(k, "_copy_to_iter", src, 10, it) == 7                    # count limits it
    assert m.read(bufs[0], 4) + m.read(bufs[1], 6) == b"012ABCDEFG"
    assert _call(k, "_copy_from_iter", src, 4, it) == 0                   # wrong direction
    assert any(f["kind"] == "warning" for f in k.findings)


def test_decompressors_give_the_data_back():
    import lzma
    import zlib
    k = Kernel()
    m, t = k.machine, k.target
    raw = bytes(range(256)) * 40
    comp = zlib.compress(raw)
    strm = k.heap.alloc(t.sizeof("z_stream_s"), zero=True)
    m.write_u64(strm + t.offset("z_stream_s.workspace"),
                k.heap.alloc(_call(k, "zlib_inflate_workspacesize"), zero=True))
    assert _call(k, "zlib_inflateInit2", strm, 15) == 0
    src, dst = k.heap.alloc(len(comp)), k.heap.alloc(len(raw))
    m.write(src, comp)
    for member, value in (("next_in", src), ("avail_in", len(comp)), ("next_out", dst),
                          ("avail_out", 1000)):
        m.write_u64(strm + t.offset(f"z_stream_s.{member}"), value)
    assert _call(k, "zlib_inflate", strm, t.const("Z_SYNC_FLUSH")) == t.const("Z_OK")
    m.write_u64(strm + t.offset("z_stream_s.avail_out"), len(raw) - 1000)
    assert _call(k, "zlib_inflate", strm, t.const("Z_FINISH")) == t.const("Z_STREAM_END")
    assert m.read(dst, len(raw)) == raw
    assert m.read_u64(strm + t.offset("z_stream_s.adler")) == zlib.adler32(raw)
    assert _call(k, "zlib_inflateEnd", strm) == 0
    xz = lzma.compress(raw, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    s = _call(k, "xz_dec_init", t.const("XZ_PREALLOC"), 1 << 20)
    b, src = k.heap.alloc(t.sizeof("xz_buf"), zero=True), k.heap.alloc(len(xz))
    m.write(src, xz)
    for member, value in (("in", src), ("in_size", len(xz)), ("out", dst),
                          ("out_size", len(raw))):
        m.write_u64(b + t.offset(f"xz_buf.{member}"), value)
    m.write(dst, bytes(len(raw)))
    assert _call(k, "xz_dec_run", s, b) == t.const("XZ_STREAM_END")
    assert m.read(dst, len(raw)) == raw
    _call(k, "xz_dec_end", s)
    lzo, dlen = k.heap.alloc(16), k.heap.alloc(8)
    m.write(lzo, b"\x15abcd\xec\x00\x11\x00\x00")                       # "abcd", match 8 back 4
    m.write_u64(dlen, 64)
    assert _call(k, "lzo1x_decompress_safe", lzo, 10, dst, dlen) == 0
    assert m.read(dst, m.read_u64(dlen)) == b"abcdabcdabcd"
    m.write_u64(dlen, 6)
    assert _s(_call(k, "lzo1x_decompress_safe", lzo, 10, dst, dlen)) == -5   # output overrun
    assert k.findings == []


def test_xarray_store_find_and_allocate():
    k = Kernel()
    m, t = k.machine, k.target
    xa = k.heap.alloc(t.sizeof("xarray"), zero=True)
    head = xa + t.offset("xarray.xa_head")
    assert _call(k, "xa_store", xa, 0, 0x1000, 0) == 0
    assert m.read_u64(head) == 0x1000                          # a lone index 0 is the head
    _call(k, "xa_store", xa, 70, 0x2000, 0)
    assert m.read_u64(head) not in (0, 0x1000)
    idx = k.heap.alloc(8, zero=True)
    m.write_u64(idx, 1)
    assert _call(k, "xa_find", xa, idx, 1000, t.const("XA_PRESENT")) == 0x2000
    assert m.read_u64(idx) == 70
    assert _call(k, "xa_find_after", xa, idx, 1000, t.const("XA_PRESENT")) == 0
    assert _s(_call(k, "__xa_insert", xa, 70, 0x3000, 0)) == -16
    assert _call(k, "xa_erase", xa, 70) == 0x2000 and _call(k, "xa_erase", xa, 0) == 0x1000
    assert m.read_u64(head) == 0                               # xa_empty()
    ida = k.heap.alloc(t.sizeof("xarray"), zero=True)
    m.write_u32(ida + t.offset("xarray.xa_flags"),
                t.const("XA_FLAGS_TRACK_FREE") | t.const("XA_FLAGS_ZERO_BUSY"))   # ALLOC1
    idp = k.heap.alloc(4)
    ids = []
    for n in range(3):
        assert _call(k, "__xa_alloc", ida, idp, 0x100 + 8 * n, (1 << 32) | 3, 0) == 0
        ids.append(m.read_u32(idp))
    assert ids == [1, 2, 3]
    assert _s(_call(k, "__xa_alloc", ida, idp, 0x200, (1 << 32) | 3, 0)) == -16
    assert _call(k, "xa_load", ida, 2) == 0x108
    _call(k, "xa_destroy", ida)
    assert _call(k, "xa_load", ida, 2) == 0
    assert k.findings == []


def test_creds_and_pids_of_the_running_task():
    k = Kernel()
    m, t = k.machine, k.target
    new = _call(k, "prepare_creds")
    assert m.read_u64(new + t.offset("cred.usage")) == 1
    m.write_u32(new + t.offset("cred.fsuid"), 1000)
    old = _call(k, "override_creds", new)
    assert old and old != new
    _call(k, "revert_creds", old)
    _call(k, "abort_creds", new)                               # the last reference: freed
    pid = _call(k, "find_get_pid", 1)
    assert pid and _call(k, "pid_vnr", pid) == 1
    assert _call(k, "find_get_pid", 4242) == 0
    _call(k, "put_pid", pid)
    task = m.read_u64(m.percpu_addr + k.export_addr("current_task"))
    assert _call(k, "__task_pid_nr_ns", task, t.const("PIDTYPE_TGID"), 0) == 1
    assert k.findings == []


def test_percpu_rwsem_init_and_free(debian_modules):
    k = Kernel()
    t = k.target
    sem = k.heap.alloc(t.sizeof("percpu_rw_semaphore"), zero=True)
    assert _call(k, "__percpu_init_rwsem", sem, 0, 0) == 0
    assert k.machine.read_u64(sem + t.offset("percpu_rw_semaphore.read_count"))
    _call(k, "percpu_down_write", sem)
    assert k.machine.read_u32(sem + t.offset("percpu_rw_semaphore.block")) == 1
    assert _call(k, "__percpu_down_read", sem, 1) & 0xFF == 0     # try: a writer holds it
    _call(k, "percpu_up_write", sem)
    assert _call(k, "__percpu_down_read", sem, 1) & 0xFF == 1
    _call(k, "percpu_free_rwsem", sem)
    assert k.machine.read_u64(sem + t.offset("percpu_rw_semaphore.read_count")) == 0


def test_proc_dou8vec_minmax_and_sysctl_vals():
    k = Kernel()
    m, t = k.machine, k.target
    vals = k.export_addr("sysctl_vals")
    assert [m.read_u32(vals + 4 * i) for i in (0, 1, 9, 11)] == [0, 1, 2**31 - 1, 2**32 - 1]
    table = k.heap.alloc(t.sizeof("ctl_table"), zero=True)
    data = k.heap.alloc(1)
    m.write_u8(data, 7)
    m.write_u64(table + t.offset("ctl_table.data"), data)
    m.write_u32(table + t.offset("ctl_table.maxlen"), 1)
    m.write_u64(table + t.offset("ctl_table.extra2"), vals + 4 * 5)        # SYSCTL_ONE_HUNDRED
    buf, lenp, ppos = k.heap.alloc(64, zero=True), k.heap.alloc(8), k.heap.alloc(8, zero=True)
    m.write_u64(lenp, 64)
    assert _call(k, "proc_dou8vec_minmax", table, 0, buf, lenp, ppos) == 0
    assert m.read(buf, m.read_u64(lenp)) == b"7\n"
    for text, ret, value in ((b"150\n", -34, 7), (b"42\n", 0, 42)):   # -ERANGE: do_proc_douintvec_minmax_conv()
        m.write(buf, text)
        m.write_u64(lenp, len(text))
        m.write_u64(ppos, 0)
        assert _s(_call(k, "proc_dou8vec_minmax", table, 1, buf, lenp, ppos)) == ret
        assert m.read_u8(data) == value
    m.write_u32(table + t.offset("ctl_table.maxlen"), 4)
    assert _s(_call(k, "proc_dou8vec_minmax", table, 0, buf, lenp, ppos)) == -22
