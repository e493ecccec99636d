"""lib/hexdump.c: hex_to_bin, hex2bin, bin2hex, hex_dump_to_buffer, print_hex_dump."""
import errno

from kemu import data, export

from ..kernel.printk import vprintk_emit

HEX_ASC = b"0123456789abcdef"
HEX_ASC_UPPER = b"0123456789ABCDEF"
DUMP_PREFIX_NONE, DUMP_PREFIX_ADDRESS, DUMP_PREFIX_OFFSET = 0, 1, 2


@data("const char hex_asc[17]")
def hex_asc(k, addr):
    k.machine.write(addr, HEX_ASC + b"\0")


@data("const char hex_asc_upper[17]")
def hex_asc_upper(k, addr):
    k.machine.write(addr, HEX_ASC_UPPER + b"\0")


def hex_to_bin_value(ch: int) -> int:
    if 0x30 <= ch <= 0x39:
        return ch - 0x30
    cu = ch & 0xDF
    if 0x41 <= cu <= 0x46:
        return cu - 0x41 + 10
    return -1


@export("int hex_to_bin(unsigned char ch)")
def hex_to_bin(k, ch):
    return hex_to_bin_value(ch)


@export("int hex2bin(u8 *dst, const char *src, size_t count)")
def hex2bin(k, dst, src, count):
    m = k.machine
    for i in range(count):
        pair = m.read(src + 2 * i, 2)
        hi, lo = hex_to_bin_value(pair[0]), hex_to_bin_value(pair[1])
        if (hi | lo) < 0:
            return -errno.EINVAL
        m.write_u8(dst + i, (hi << 4) | lo)
    return 0


@export("char *bin2hex(char *dst, const void *src, size_t count)")
def bin2hex(k, dst, src, count):
    if count:
        k.machine.write(dst, k.machine.read(src, count).hex().encode())
    return dst + 2 * count


def _isprint_ascii(ch: int) -> bool:
    return 0x20 <= ch < 0x7F


def hex_dump_line(data_: bytes, rowsize: int, groupsize: int, linebuflen: int, ascii: bool):
    """hex_dump_to_buffer(): (bytes written into linebuf incl. any NUL, return value)."""
    length = len(data_)
    if rowsize not in (16, 32):
        rowsize = 16
    if length > rowsize:
        length = rowsize
        data_ = data_[:rowsize]
    if groupsize <= 0 or groupsize & (groupsize - 1) or groupsize > 8:
        groupsize = 1
    if length % groupsize:
        groupsize = 1
    ngroups = length // groupsize
    ascii_column = rowsize * 2 + rowsize // groupsize + 1
    overflow1 = ascii_column + length if ascii else (groupsize * 2 + 1) * ngroups - 1
    out = bytearray()
    if not linebuflen:
        return bytes(out), overflow1
    if not length:
        return b"\0", 0
    if groupsize in (8, 4, 2):
        width = groupsize * 2
        for j in range(ngroups):
            value = int.from_bytes(data_[j * groupsize:(j + 1) * groupsize], "little")
            text = (b" " if j else b"") + f"{value:0{width}x}".encode()
            room = linebuflen - len(out)
            if len(text) >= room:            # snprintf() truncated it
                out += text[:room - 1] + b"\0"
                return bytes(out), overflow1
            out += text
    else:
        for ch in data_:
            for c in (HEX_ASC[ch >> 4], HEX_ASC[ch & 15], 0x20):
                if linebuflen < len(out) + 2:
                    return bytes(out) + b"\0", overflow1
                out.append(c)
        if length:
            out.pop()
    if ascii:
        while len(out) < ascii_column:
            if linebuflen < len(out) + 2:
                return bytes(out) + b"\0", overflow1
            out.append(0x20)
        for ch in data_:
            if linebuflen < len(out) + 2:
                return bytes(out) + b"\0", overflow1
            out.append(ch if _isprint_ascii(ch) else ord("."))
    lx = len(out)
    return bytes(out) + b"\0", lx


@export("int hex_dump_to_buffer(const void *buf, size_t len, int rowsize, int groupsize, "
        "char *linebuf, size_t linebuflen, bool ascii)")
def hex_dump_to_buffer(k, buf, length, rowsize, groupsize, linebuf, linebuflen, ascii):
    rs = rowsize if rowsize in (16, 32) else 16
    data_ = k.machine.read(buf, min(length, rs)) if length else b""
    written, ret = hex_dump_line(data_, rowsize, groupsize, linebuflen, bool(ascii))
    if written:
        k.machine.write(linebuf, written)
    return ret


@export("void print_hex_dump(const char *level, const char *prefix_str, int prefix_type, "
        "int rowsize, int groupsize, const void *buf, size_t len, bool ascii)")
def print_hex_dump(k, level, prefix_str, prefix_type, rowsize, groupsize, buf, length, ascii):
    m = k.machine
    lvl = m.read_cstr(level, 16)
    prefix = m.read_cstr(prefix_str, 256) if prefix_str else b"(null)"
    if rowsize not in (16, 32):
        rowsize = 16
    linebuf_size = 32 * 3 + 2 + 32 + 1
    i = 0
    while i < length:
        linelen = min(length - i, rowsize)
        written, _ = hex_dump_line(m.read(buf + i, linelen), rowsize, groupsize,
                                   linebuf_size, bool(ascii))
        line = written.split(b"\0", 1)[0]
        if prefix_type == DUMP_PREFIX_ADDRESS:
            text = lvl + prefix + k.hash_pointer(buf + i).encode() + b": " + line
        elif prefix_type == DUMP_PREFIX_OFFSET:
            text = lvl + prefix + f"{i:08x}: ".encode() + line
        else:
            text = lvl + prefix + line
        vprintk_emit(k, text + b"\n")
        i += rowsize
