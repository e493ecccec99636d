"""fs/nls/nls_base.c: the NLS table list, load_nls() and the UTF-8/16/32 converters.

The list starts at the built-in "default" table (ASCII/Latin-1) exactly as
``tables = &default_table`` does, and registered tables are linked through
their ->next in module memory. load_nls() finds a table by charset or alias
and takes a reference on its module; a charset not registered yet is asked
of modprobe as ``nls_<charset>`` first (try_then_request_module()).
"""
import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import static, static_addr
from ..kernel.kmod import request_module
from ..kernel.module import module_put, try_module_get

members("struct nls_table", "charset", "uni2char", "char2uni", "charset2lower",
        "charset2upper", "alias", "owner", "next")

UNICODE_MAX = 0x0010FFFF
PLANE_SIZE = 0x00010000
SURROGATE_MASK = 0xFFFFF800
SURROGATE_PAIR = 0x0000D800
SURROGATE_LOW = 0x00000400
SURROGATE_BITS = 0x000003FF
NLS_DEFAULT = "utf8"                    # CONFIG_NLS_DEFAULT

# struct utf8_table: (cmask, cval, shift, lmask, lval)
UTF8_TABLE = [(0x80, 0x00, 0 * 6, 0x7F, 0), (0xE0, 0xC0, 1 * 6, 0x7FF, 0x80),
              (0xF0, 0xE0, 2 * 6, 0xFFFF, 0x800), (0xF8, 0xF0, 3 * 6, 0x1FFFFF, 0x10000),
              (0xFC, 0xF8, 4 * 6, 0x3FFFFFF, 0x200000),
              (0xFE, 0xFC, 5 * 6, 0x7FFFFFFF, 0x4000000)]


def utf8_to_utf32_bytes(s: bytes, inlen: int):
    """utf8_to_utf32(): (bytes used, code point) or (-errno, None). ``s`` holds the input.

    Debian's 6.1.192 has the stable fix that returns -EILSEQ for a bad or
    overlong sequence and -EOVERFLOW when the input ends inside one.
    """
    nc = 0
    c0 = s[0] if s else 0
    value = c0
    i = 0
    for cmask, cval, _shift, lmask, lval in UTF8_TABLE:
        nc += 1
        if (c0 & cmask) == cval:
            value &= lmask
            if value < lval or value > UNICODE_MAX or (value & SURROGATE_MASK) == SURROGATE_PAIR:
                return -errno.EILSEQ, None
            return nc, value
        if inlen <= nc:
            return -errno.EOVERFLOW, None
        i += 1
        c = ((s[i] if i < len(s) else 0) ^ 0x80) & 0xFF
        if c & 0xC0:
            return -errno.EILSEQ, None
        value = (value << 6) | c
    return -errno.EILSEQ, None


def utf32_to_utf8_bytes(u: int, maxout: int):
    """utf32_to_utf8(): the bytes, or -EILSEQ / -EOVERFLOW (no room)."""
    if u > UNICODE_MAX or (u & SURROGATE_MASK) == SURROGATE_PAIR:
        return -errno.EILSEQ
    for cmask, cval, shift, lmask, _lval in UTF8_TABLE:
        if maxout <= 0:
            break
        maxout -= 1
        if u <= lmask:
            out = bytearray([(cval | (u >> shift)) & 0xFF])
            c = shift
            while c > 0:
                c -= 6
                out.append(0x80 | ((u >> c) & 0x3F))
            return bytes(out)
    return -errno.EOVERFLOW


@export("int utf8_to_utf32(const u8 *s, int inlen, unsigned int *pu)")
def utf8_to_utf32(k, s, inlen, pu):
    data = k.machine.read(s, max(1, min(inlen, 6)))
    n, value = utf8_to_utf32_bytes(data, inlen)
    if n < 0:
        return n
    k.machine.write_u32(pu, value)
    return n


@export("int utf32_to_utf8(unsigned int u, u8 *s, int maxout)")
def utf32_to_utf8(k, u, s, maxout):
    if not s:
        return 0
    out = utf32_to_utf8_bytes(u, maxout)
    if isinstance(out, int):
        return out
    k.machine.write(s, out)
    return len(out)


def _endian(k, endian):
    if endian == k.target.const("UTF16_BIG_ENDIAN"):
        return "big"
    return "little"                      # host (x86) and little endian


@export("int utf8s_to_utf16s(const u8 *s, int inlen, enum utf16_endian endian, u16 *pwcs, "
        "int maxout)")
def utf8s_to_utf16s(k, s, inlen, endian, pwcs, maxout):
    m = k.machine
    order = _endian(k, endian)
    out = bytearray()
    inlen = inlen if inlen < 0x80000000 else inlen - (1 << 32)
    while inlen > 0 and maxout > 0:
        c = m.read_u8(s)
        if not c:
            break
        if c & 0x80:
            size, u = utf8_to_utf32_bytes(m.read(s, min(inlen, 6)), inlen)
            if size < 0:
                if out:
                    m.write(pwcs, bytes(out))
                return -errno.EINVAL
            s += size
            inlen -= size
            if u >= PLANE_SIZE:
                if maxout < 2:
                    break
                u -= PLANE_SIZE
                out += (SURROGATE_PAIR | ((u >> 10) & SURROGATE_BITS)).to_bytes(2, order)
                out += (SURROGATE_PAIR | SURROGATE_LOW | (u & SURROGATE_BITS)).to_bytes(2, order)
                maxout -= 2
            else:
                out += u.to_bytes(2, order)
                maxout -= 1
        else:
            out += c.to_bytes(2, order)
            s += 1
            inlen -= 1
            maxout -= 1
    if out:
        m.write(pwcs, bytes(out))
    return len(out) // 2


@export("int utf16s_to_utf8s(const u16 *pwcs, int inlen, enum utf16_endian endian, u8 *s, "
        "int maxout)")
def utf16s_to_utf8s(k, pwcs, inlen, endian, s, maxout):
    m = k.machine
    order = _endian(k, endian)
    out = bytearray()
    while inlen > 0 and maxout > 0:
        u = int.from_bytes(m.read(pwcs, 2), order)
        if not u:
            break
        pwcs += 2
        inlen -= 1
        if u > 0x7F:
            if (u & SURROGATE_MASK) == SURROGATE_PAIR:
                if u & SURROGATE_LOW:
                    continue
                if inlen <= 0:
                    break
                v = int.from_bytes(m.read(pwcs, 2), order)
                if (v & SURROGATE_MASK) != SURROGATE_PAIR or not v & SURROGATE_LOW:
                    continue
                u = PLANE_SIZE + ((u & SURROGATE_BITS) << 10) + (v & SURROGATE_BITS)
                pwcs += 2
                inlen -= 1
            enc = utf32_to_utf8_bytes(u, maxout)
            if enc == -errno.EILSEQ:
                continue                     # ignore the character and move on
            if isinstance(enc, int):
                break                        # it does not fit: stop filling the buffer
            out += enc
            maxout -= len(enc)
        else:
            out.append(u)
            maxout -= 1
    if out:
        m.write(s, bytes(out))
    return len(out)


# --------------------------------------------------------------- the table list
@static("int nls_default_uni2char(u16 uni, unsigned char *out, int boundlen)")
def nls_default_uni2char(k, uni, out, boundlen):
    """default_table.uni2char: Latin-1."""
    if boundlen <= 0:
        return -errno.ENAMETOOLONG
    if uni > 0xFF:
        return -errno.EINVAL
    k.machine.write_u8(out, uni)
    return 1


@static("int nls_default_char2uni(const unsigned char *rawstring, int boundlen, u16 *uni)")
def nls_default_char2uni(k, rawstring, boundlen, uni):
    if boundlen <= 0:
        return -errno.ENAMETOOLONG
    k.machine.write_u16(uni, k.machine.read_u8(rawstring))
    return 1


class Nls:
    """The `tables` list: Python view plus the default table in kernel data."""

    def __init__(self, k):
        t, m = k.target, k.machine
        self.k = k
        self.default = m.alloc_kdata(t.sizeof("nls_table"), 8)
        name = m.alloc_kdata(8, 1)
        m.write(name, b"default\0")
        lower = m.alloc_kdata(256, 1)
        upper = m.alloc_kdata(256, 1)
        m.write(lower, bytes(c + 32 if 0x41 <= c <= 0x5A else c for c in range(256)))
        m.write(upper, bytes(c - 32 if 0x61 <= c <= 0x7A else c for c in range(256)))
        m.write_u64(self.default + t.offset("nls_table.charset"), name)
        m.write_u64(self.default + t.offset("nls_table.uni2char"),
                    static_addr(k, "nls_default_uni2char"))
        m.write_u64(self.default + t.offset("nls_table.char2uni"),
                    static_addr(k, "nls_default_char2uni"))
        m.write_u64(self.default + t.offset("nls_table.charset2lower"), lower)
        m.write_u64(self.default + t.offset("nls_table.charset2upper"), upper)
        self.tables = self.default           # head of the list

    def field(self, nls, member):
        return self.k.machine.read_u64(nls + self.k.target.offset(f"nls_table.{member}"))

    def set_field(self, nls, member, value):
        self.k.machine.write_u64(nls + self.k.target.offset(f"nls_table.{member}"), value)

    def walk(self):
        nls = self.tables
        while nls:
            yield nls
            nls = self.field(nls, "next")

    def find(self, charset: bytes):
        """find_nls(): by charset or alias, with a reference on the owner."""
        m = self.k.machine
        for nls in self.walk():
            alias = self.field(nls, "alias")
            if m.read_cstr(self.field(nls, "charset"), 256) == charset or \
                    (alias and m.read_cstr(alias, 256) == charset):
                return nls if try_module_get(self.k, self.field(nls, "owner")) else 0
        return 0


@export("int __register_nls(struct nls_table *nls, struct module *owner)")
def __register_nls(k, nls, owner):
    state = k.model(Nls)
    if state.field(nls, "next"):
        return -errno.EBUSY
    state.set_field(nls, "owner", owner)
    if nls in state.walk():
        return -errno.EBUSY
    state.set_field(nls, "next", state.tables)
    state.tables = nls
    charset = k.machine.read_cstr(state.field(nls, "charset"), 256).decode("latin-1")
    mod = k.module_at(owner) or k.current_module()
    k.register("nls table", nls, mod, f"NLS table {charset}")
    return 0


@export("int unregister_nls(struct nls_table *nls)")
def unregister_nls(k, nls):
    state = k.model(Nls)
    prev = 0
    for cur in state.walk():
        if cur == nls:
            nxt = state.field(nls, "next")
            if prev:
                state.set_field(prev, "next", nxt)
            else:
                state.tables = nxt
            k.unregister("nls table", nls)
            return 0
        prev = cur
    return -errno.EINVAL


@export("struct nls_table *load_nls(char *charset)")
def load_nls(k, charset):
    name = k.machine.read_cstr(charset, 256)
    found = k.model(Nls).find(name)
    if not found:
        yield from request_module(k, "nls_" + name.decode("latin-1"))
        found = k.model(Nls).find(name)
    return found


@export("void unload_nls(struct nls_table *nls)")
def unload_nls(k, nls):
    if nls:
        module_put(k, k.model(Nls).field(nls, "owner"))


@export("struct nls_table *load_nls_default(void)")
def load_nls_default(k):
    state = k.model(Nls)
    return state.find(NLS_DEFAULT.encode()) or state.default
