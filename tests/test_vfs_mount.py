"""stubs/fs/vfs_mount.py: mount-time inode/dentry/buffer helpers, on real Debian fs modules."""
import errno

import pytest

import kemu
from kemu.stubs.fs import vfs_mount

NOW_LOADING = ["qnx4"]


@pytest.mark.parametrize("name", NOW_LOADING)
def test_debian_fs_module_loads_and_unloads(debian_modules, name):
    path = next((debian_modules / "fs").rglob(f"{name}.ko*"))
    with kemu.Kernel() as k:
        mod = k.load(str(path))
        k.unload(mod)
        assert k.findings == []


def test_inode_init_once_zeroes_the_inode_and_empties_its_lists():
    with kemu.Kernel() as k:
        size = k.target.sizeof("inode")
        inode = k.heap.alloc(size + 8)
        k.machine.write(inode, b"\xaa" * (size + 8))
        vfs_mount.inode_init_once(k, inode)
        heads = set()
        for head in ("i_devices", "i_io_list", "i_wb_list", "i_lru", "i_sb_list"):
            at = inode + k.target.offset(f"inode.{head}")
            assert k.machine.read_u64(at) == at and k.machine.read_u64(at + 8) == at
            heads |= set(range(at - inode, at - inode + 16))
        private = inode + k.target.offset("inode.i_data") + \
            k.target.offset("address_space.private_list")
        heads |= set(range(private - inode, private - inode + 16))
        raw = k.machine.read(inode, size)
        assert all(b == 0 for i, b in enumerate(raw) if i not in heads)
        assert k.machine.read(inode + size, 8) == b"\xaa" * 8
        assert k.findings == []


def test_memweight_counts_set_bits():
    with kemu.Kernel() as k:
        buf = k.heap.alloc(16)
        k.machine.write(buf, bytes([0xff, 0x01, 0x80, 0x00, 0x0f]) + bytes(11))
        assert vfs_mount.memweight(k, buf, 5) == 14
        assert vfs_mount.memweight(k, buf, 1) == 8
        assert vfs_mount.memweight(k, buf, 0) == 0


def test_generic_read_dir_and_get_next_ino():
    with kemu.Kernel() as k:
        assert vfs_mount.generic_read_dir(k, 0, 0, 0, 0) == -errno.EISDIR
        first = vfs_mount.get_next_ino(k)
        assert vfs_mount.get_next_ino(k) == first + 1
        assert first != 0
        assert k.findings == []


def test_link_only_exports_exist_with_vmlinux_exporter():
    from kemu.abi.exports import REGISTRY
    with kemu.Kernel() as k:
        for name in ("d_make_root", "new_inode", "iget_locked", "iput", "set_nlink",
                     "__bread_gfp", "d_splice_alias", "page_symlink_inode_operations",
                     "inode_init_once", "memweight"):
            assert name in REGISTRY
            assert k.target.get_export(name).exporter == "vmlinux"


def test_link_only_calls_are_reported_and_fail_like_a_refused_mount():
    from kemu.abi.exports import REGISTRY
    with kemu.Kernel() as k:
        assert REGISTRY["d_make_root"].fn(k, 0) == 0               # modelled: NULL for NULL
        assert REGISTRY["d_obtain_alias"].fn(k, 0) == (-errno.ENOMEM) & (2**64 - 1)
        assert [f["kind"] for f in k.findings] == ["not-modelled"]
        assert "d_obtain_alias()" in k.findings[0]["message"]
