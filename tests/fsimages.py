"""Disk images with known trees, written from Python as the filesystems lay them out.

A tree is a dict: name -> bytes (a regular file), dict (a directory) or
``("symlink", target)``. ``romfs(tree)`` writes the layout of
Documentation/filesystems/romfs.rst as genromfs does ("." and ".." first in
every directory); ``minix(tree)`` a Minix v1 filesystem with 30-character
names (what ``mkfs.minix -n 30`` makes, 1 KiB zones, direct and single
indirect zones), which ``fsck.minix`` accepts.

Run as a script to write the images the oracle recordings used:
``python3 tests/fsimages.py DIR``.
"""
from __future__ import annotations

import struct
import sys

SAMPLE = {
    "hello.txt": b"hello from the image\n",
    "empty": b"",
    "big.bin": bytes((i * 7 + i // 256) & 0xFF for i in range(100 * 1024)),
    "sub": {"nested.txt": b"nested file\n", "deeper": {"leaf": b"leaf\n"}},
    "link": ("symlink", "hello.txt"),
}


# ------------------------------------------------------------------ romfs
def _pad16(b: bytes) -> bytes:
    return b + bytes(-len(b) % 16)


def _be_sum(b: bytes) -> int:
    return sum(struct.unpack(f">{len(b) // 4}I", b)) & 0xFFFFFFFF


def romfs(tree: dict, volume: str = "kemu") -> bytes:
    """A romfs image of ``tree``."""
    out = bytearray()
    head = b"-rom1fs-" + b"\0" * 8 + _pad16(volume.encode() + b"\0")
    out += head

    # a subdirectory's "." is a hard link to the directory's own header
    out += _romfs_dir(tree, len(out), 0)
    out += bytes(-len(out) % 1024)
    out[8:12] = struct.pack(">I", len(out))
    out[12:16] = struct.pack(">I", -_be_sum(bytes(out[:min(512, len(out))])) & 0xFFFFFFFF)
    return bytes(out)


def _romfs_hdr(nxt, kind, spec, size, name, data=b"", exe=False):
    meta = bytearray(struct.pack(">IIII", nxt | kind | (8 if exe else 0), spec, size, 0)
                     + _pad16(name.encode() + b"\0"))
    meta[12:16] = struct.pack(">I", -_be_sum(bytes(meta)) & 0xFFFFFFFF)
    return bytes(meta) + _pad16(data)


def _romfs_dir(d: dict, here: int, parent_hdr: int, self_hdr: int = 0) -> bytes:
    """Directory ``d``'s entries from offset ``here``: "." and ".." (hard links to the
    directory's header and its parent's; the root's "." is the root header itself),
    then the entries, then the subdirectories' contents."""
    entries = [(".", None), ("..", None)] + sorted(d.items())
    sizes = []
    for name, what in entries:
        data = what if isinstance(what, bytes) else \
            what[1].encode() if isinstance(what, tuple) else b""
        sizes.append(16 + len(_pad16(name.encode() + b"\0")) + len(_pad16(data)))
    offsets = [here + sum(sizes[:i]) for i in range(len(entries))]
    root = self_hdr == 0
    me = offsets[0] if root else self_hdr
    tail_at = here + sum(sizes)
    blobs, tails = [], []
    for i, (name, what) in enumerate(entries):
        nxt = offsets[i + 1] if i + 1 < len(entries) else 0
        if name == "." and what is None:
            blobs.append(_romfs_hdr(nxt, 1, offsets[0], 0, ".", exe=True) if root else
                         _romfs_hdr(nxt, 0, me, 0, "."))
        elif name == ".." and what is None:
            blobs.append(_romfs_hdr(nxt, 0, me if root else parent_hdr, 0, ".."))
        elif isinstance(what, bytes):
            blobs.append(_romfs_hdr(nxt, 2, 0, len(what), name, what))
        elif isinstance(what, tuple):
            blobs.append(_romfs_hdr(nxt, 3, 0, len(what[1].encode()), name, what[1].encode()))
        else:
            sub = _romfs_dir(what, tail_at, me, offsets[i])
            blobs.append(_romfs_hdr(nxt, 1, tail_at, 0, name, exe=True))
            tails.append(sub)
            tail_at += len(sub)
    return b"".join(blobs) + b"".join(tails)


# ------------------------------------------------------------------ minix
BLOCK = 1024
MINIX_SUPER_MAGIC2 = 0x138F          # v1, 30-character names
DIRSIZE = 32


def minix(tree: dict, blocks: int = 1440, ninodes: int = 64, mtime: int = 0) -> bytes:
    """A Minix v1 image (30-character names) of ``tree``."""
    imap_blocks = 1
    zmap_blocks = (blocks + BLOCK * 8 - 1) // (BLOCK * 8)
    itable_blocks = (ninodes * 32 + BLOCK - 1) // BLOCK
    first_data = 2 + imap_blocks + zmap_blocks + itable_blocks
    img = bytearray(blocks * BLOCK)
    inodes: list[bytes] = [b""]        # 1-based
    zones_used = [first_data]          # next free zone

    def alloc_zone() -> int:
        z = zones_used[0]
        zones_used[0] += 1
        if z >= blocks:
            raise ValueError("image too small")
        return z

    def write_data(data: bytes) -> list[int]:
        zones = []
        for off in range(0, len(data), BLOCK):
            z = alloc_zone()
            img[z * BLOCK:z * BLOCK + len(data[off:off + BLOCK])] = data[off:off + BLOCK]
            zones.append(z)
        izone = [0] * 9
        izone[:min(7, len(zones))] = zones[:7]
        if len(zones) > 7:
            ind = alloc_zone()
            rest = zones[7:]
            if len(rest) > BLOCK // 2:
                raise ValueError("file too big for single indirect zones")
            img[ind * BLOCK:ind * BLOCK + 2 * len(rest)] = struct.pack(f"<{len(rest)}H", *rest)
            izone[7] = ind
        return izone

    def new_inode() -> int:
        inodes.append(b"")
        return len(inodes) - 1

    def put_inode(ino, mode, size, nlinks, izone):
        inodes[ino] = struct.pack("<HHIIBB9H", mode, 0, size, mtime, 0, nlinks, *izone)

    def make_dir(d: dict, ino: int, parent: int) -> int:
        """Write directory ``d`` as inode ``ino``; returns its link count."""
        ents = [(".", ino), ("..", parent)]
        subdirs = 0
        for name, what in sorted(d.items()):
            child = new_inode()
            ents.append((name, child))
            if isinstance(what, bytes):
                put_inode(child, 0o100644, len(what), 1, write_data(what))
            elif isinstance(what, tuple):
                t = what[1].encode()
                put_inode(child, 0o120777, len(t), 1, write_data(t))
            else:
                subdirs += 1
                make_dir(what, child, ino)
        data = b"".join(struct.pack("<H", i) + n.encode().ljust(30, b"\0") for n, i in ents)
        put_inode(ino, 0o40755, len(data), 2 + subdirs, write_data(data))
        return 2 + subdirs

    root = new_inode()
    make_dir(tree, root, root)
    if len(inodes) - 1 > ninodes:
        raise ValueError("too many files for the inode count")
    # superblock (block 1)
    max_size = (7 + 512 + 512 * 512) * BLOCK
    img[BLOCK:BLOCK + 20] = struct.pack("<HHHHHHIHH", ninodes, blocks, imap_blocks, zmap_blocks,
                                        first_data, 0, max_size, MINIX_SUPER_MAGIC2, 1)
    # bitmaps: bit 0 reserved; inode i is bit i; zone z is bit z - first_data + 1;
    # bits past the end are set, as mkfs.minix leaves them
    imap = bytearray(imap_blocks * BLOCK)
    for i in range(0, len(inodes)):
        imap[i // 8] |= 1 << (i % 8)
    for i in range(ninodes + 1, imap_blocks * BLOCK * 8):
        imap[i // 8] |= 1 << (i % 8)
    zmap = bytearray(zmap_blocks * BLOCK)
    nz = blocks - first_data
    for i in range(0, zones_used[0] - first_data + 1):
        zmap[i // 8] |= 1 << (i % 8)
    for i in range(nz + 1, zmap_blocks * BLOCK * 8):
        zmap[i // 8] |= 1 << (i % 8)
    img[2 * BLOCK:2 * BLOCK + len(imap)] = imap
    zoff = (2 + imap_blocks) * BLOCK
    img[zoff:zoff + len(zmap)] = zmap
    ioff = (2 + imap_blocks + zmap_blocks) * BLOCK
    for i, raw in enumerate(inodes[1:], start=0):
        img[ioff + i * 32:ioff + i * 32 + 32] = raw
    return bytes(img)


if __name__ == "__main__":
    import pathlib
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    (out / "romfs.img").write_bytes(romfs(SAMPLE))
    (out / "minix.img").write_bytes(minix(SAMPLE))
