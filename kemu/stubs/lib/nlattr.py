"""lib/nlattr.c: netlink attributes (parse, validate, copy, compare, put, reserve).

Attributes are real ``struct nlattr`` headers in kernel memory (4-byte
length and type, payload aligned to NLA_ALIGNTO). ``__nla_parse`` and
``__nla_validate`` walk them as ``__nla_validate_parse``/``validate_nla`` do:
per-type length checks (``nla_attr_len``/``nla_attr_minlen``), strings, flags,
nested policies (recursively, up to MAX_POLICY_RECURSION_DEPTH), NLA_REJECT,
the NL_VALIDATE_* strictness bits, integer ranges and masks, and a policy's
``validate`` callback; errors set ``extack->_msg``/``bad_attr``/``policy``
like NL_SET_ERR_MSG_ATTR_POL. The put/reserve family appends to an sk_buff's
tail and fails -EMSGSIZE when the tailroom is too small; on x86_64
(CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS) the ``_64bit`` variants never pad.

Python API: ``nla_put_(k, skb, type, payload) -> 0|-EMSGSIZE``,
``attrs(k, head, len) -> [(type, nla address, payload length)]``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.kernel.log import KERN_WARNING
from kemu.abi.exports import members

from kemu.abi.toolkit import err_ptr, rd, s32, wr
from ..net.core.skbuff import skb_put_

members("struct sk_buff", "data_len", "tail", "end", "next", "prev", "dev", "sk", "tstamp",
        "cb", "len", "mac_len", "hdr_len", "protocol", "truesize")
members("struct nlattr", "nla_len", "nla_type")
# netlink, nf_log, sockets, fragments, conntrack (stubs/lib/nlattr.py, stubs/net)
members("struct nla_policy", "type", "validation_type", "len", "strict_start_type",
        "bitfield32_valid", "mask", "reject_message", "nested_policy", "range", "range_signed",
        "min", "max", "validate")
members("struct netlink_ext_ack", "_msg", "bad_attr", "policy")
members("struct netlink_range_validation", "min", "max")
members("struct netlink_range_validation_signed", "min", "max")

NLA_ALIGNTO = 4
NLA_HDRLEN = 4                      # NLA_ALIGN(sizeof(struct nlattr))
MAX_POLICY_RECURSION_DEPTH = 10     # lib/nlattr.c


def nla_align(n: int) -> int:
    """NLA_ALIGN()."""
    return (n + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1)


def nla_total_size(payload: int) -> int:
    """nla_total_size()."""
    return nla_align(NLA_HDRLEN + payload)


def _c(k, name):
    return k.target.const(name)


def _nla_len(k, nla) -> int:
    return k.machine.read_u16(nla + k.target.offset("nlattr.nla_len"))


def _nla_type_raw(k, nla) -> int:
    return k.machine.read_u16(nla + k.target.offset("nlattr.nla_type"))


def nla_type(k, nla) -> int:
    """nla_type(): the type without the NLA_F_NESTED/NLA_F_NET_BYTEORDER bits."""
    return _nla_type_raw(k, nla) & _c(k, "NLA_TYPE_MASK")


def nla_payload_len(k, nla) -> int:
    """nla_len(): the payload length."""
    return _nla_len(k, nla) - NLA_HDRLEN


def attrs(k, head: int, length: int):
    """nla_for_each_attr(): [(type, nla, payload length)], and the bytes left over."""
    out = []
    nla, rem = head, length
    while rem >= NLA_HDRLEN:            # nla_ok()
        total = _nla_len(k, nla)
        if total < NLA_HDRLEN or total > rem:
            break
        out.append((nla_type(k, nla), nla, total - NLA_HDRLEN))
        step = nla_align(total)
        rem -= step
        nla += step
    return out, rem


# ------------------------------------------------------------ length tables
def _attr_len(k) -> dict:
    return {_c(k, n): size for n, size in (("NLA_U8", 1), ("NLA_U16", 2), ("NLA_U32", 4),
                                            ("NLA_U64", 8), ("NLA_S8", 1), ("NLA_S16", 2),
                                            ("NLA_S32", 4), ("NLA_S64", 8), ("NLA_BE16", 2),
                                            ("NLA_BE32", 4))}


def _attr_minlen(k) -> dict:
    out = _attr_len(k)
    out[_c(k, "NLA_MSECS")] = 8
    out[_c(k, "NLA_NESTED")] = NLA_HDRLEN
    return out


@export("int nla_policy_len(const struct nla_policy *p, int n)")
def nla_policy_len(k, p, n):
    size = k.target.sizeof("nla_policy")
    exact, minimum = _attr_len(k), _attr_minlen(k)
    total = 0
    for i in range(max(s32(n), 0)):
        pol = p + i * size
        ptype, plen = rd(k, pol, "nla_policy.type", 1), rd(k, pol, "nla_policy.len", 2)
        if plen:
            total += nla_total_size(plen)
        elif exact.get(ptype):
            total += nla_total_size(exact[ptype])
        elif minimum.get(ptype):
            total += nla_total_size(minimum[ptype])
    return total


# ------------------------------------------------------------ validation
def _set_err(k, extack, msg: str | None, nla=0, policy=0):
    """NL_SET_ERR_MSG_ATTR_POL(): message (a kernel string), bad attribute, policy."""
    if not extack:
        return
    if msg is not None:
        wr(k, extack, "netlink_ext_ack._msg", _kernel_string(k, msg))
    if nla:
        wr(k, extack, "netlink_ext_ack.bad_attr", nla)
    if policy:
        wr(k, extack, "netlink_ext_ack.policy", policy)


class _Strings:
    """The extack messages live in kernel rodata, one copy each."""

    def __init__(self, k):
        self.addrs: dict[str, int] = {}


def _kernel_string(k, text: str) -> int:
    st = k.model(_Strings)
    if text not in st.addrs:
        data = text.encode() + b"\0"
        addr = k.machine.alloc_kdata(len(data), 1)
        k.machine.write(addr, data)
        st.addrs[text] = addr
    return st.addrs[text]


def _comm(k) -> str:
    """current->comm."""
    from ..kernel.sched.core import sched
    return sched(k).current().comm


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >> (bits - 1) else value


def _int_value(k, nla, ptype):
    """The attribute's integer (sign-extended for NLA_S*, byte-swapped for NLA_BE*)."""
    m = k.machine
    data = nla + NLA_HDRLEN
    sizes = {"NLA_U8": (1, False), "NLA_U16": (2, False), "NLA_U32": (4, False),
             "NLA_U64": (8, False), "NLA_MSECS": (8, False), "NLA_BINARY": (None, False),
             "NLA_S8": (1, True), "NLA_S16": (2, True), "NLA_S32": (4, True),
             "NLA_S64": (8, True), "NLA_BE16": (2, False), "NLA_BE32": (4, False)}
    for name, (size, signed) in sizes.items():
        if _c(k, name) == ptype:
            if size is None:
                return nla_payload_len(k, nla), False
            raw = bytes(m.read(data, size))
            order = "big" if name.startswith("NLA_BE") else "little"
            return int.from_bytes(raw, order, signed=signed), signed
    return None, False


def _validate_range(k, pt, nla, ptype, extack, validate):
    """nla_validate_int_range(): NLA_VALIDATE_RANGE/MIN/MAX/RANGE_PTR/RANGE_WARN_TOO_LONG."""
    value, signed = _int_value(k, nla, ptype)
    if value is None:
        from .kemu_warn import warn
        warn(k, "lib/nlattr.c:338", "__nla_validate_parse+0x682/0xc30")
        return -errno.EINVAL
    vt = rd(k, pt, "nla_policy.validation_type", 1)
    if vt == _c(k, "NLA_VALIDATE_RANGE_PTR"):
        rng = rd(k, pt, "nla_policy.range_signed" if signed else "nla_policy.range")
        name = "netlink_range_validation_signed" if signed else "netlink_range_validation"
        lo, hi = rd(k, rng, f"{name}.min"), rd(k, rng, f"{name}.max")
        if signed:
            lo, hi = _signed(lo, 64), _signed(hi, 64)
    else:
        lo = _signed(rd(k, pt, "nla_policy.min", 2), 16)
        hi = _signed(rd(k, pt, "nla_policy.max", 2), 16)
        if not signed and ptype != _c(k, "NLA_BINARY"):
            lo, hi = lo & 0xFFFF if lo < 0 else lo, hi
        if vt == _c(k, "NLA_VALIDATE_MIN"):
            hi = (1 << 63) if not signed else (1 << 63) - 1
        elif vt == _c(k, "NLA_VALIDATE_MAX"):
            lo = 0 if not signed else -(1 << 63)
    if value < lo or value > hi:
        if ptype == _c(k, "NLA_BINARY") and vt == _c(k, "NLA_VALIDATE_RANGE_WARN_TOO_LONG") \
                and value > hi:
            k.log.emit(KERN_WARNING, f"netlink: '{_comm(k)}': attribute type "
                          f"{nla_type(k, nla)} exceeds maximum length {hi}.")
            if validate & _c(k, "NL_VALIDATE_STRICT_ATTRS"):
                _set_err(k, extack, "attribute exceeds maximum length", nla, pt)
                return -errno.EINVAL
            return 0
        _set_err(k, extack, "integer out of range", nla, pt)
        return -errno.ERANGE
    return 0


def _validate_nla(k, nla, maxtype, policy, validate, extack, depth):
    """validate_nla()."""
    t, m = k.target, k.machine
    psize = t.sizeof("nla_policy")
    strict_start = rd(k, policy, "nla_policy.strict_start_type", 2)
    attrlen, atype = nla_payload_len(k, nla), nla_type(k, nla)
    if strict_start and atype >= strict_start:
        validate |= 0x1F                                  # NL_VALIDATE_STRICT
    if atype <= 0 or atype > maxtype:
        return 0
    pt = policy + atype * psize
    ptype = rd(k, pt, "nla_policy.type", 1)
    plen = rd(k, pt, "nla_policy.len", 2)
    exact = _attr_len(k)
    err = -errno.ERANGE
    if exact.get(ptype) and attrlen != exact[ptype]:
        k.log.emit(KERN_WARNING, f"netlink: '{_comm(k)}': attribute type {atype} has an invalid "
                      "length.")
        if validate & _c(k, "NL_VALIDATE_STRICT_ATTRS"):
            _set_err(k, extack, "invalid attribute length", nla, pt)
            return -errno.EINVAL
    nested_types = (_c(k, "NLA_NESTED"), _c(k, "NLA_NESTED_ARRAY"))
    if validate & _c(k, "NL_VALIDATE_NESTED"):
        flagged = _nla_type_raw(k, nla) & _c(k, "NLA_F_NESTED")
        if ptype in nested_types and not flagged:
            _set_err(k, extack, "NLA_F_NESTED is missing", nla, pt)
            return -errno.EINVAL
        if ptype not in nested_types and ptype != _c(k, "NLA_UNSPEC") and flagged:
            _set_err(k, extack, "NLA_F_NESTED not expected", nla, pt)
            return -errno.EINVAL
    data = nla + NLA_HDRLEN
    failed = False
    if ptype == _c(k, "NLA_REJECT"):
        msg = rd(k, pt, "nla_policy.reject_message")
        if extack and msg:
            wr(k, extack, "netlink_ext_ack.bad_attr", nla)
            wr(k, extack, "netlink_ext_ack._msg", msg)
            return -errno.EINVAL
        err, failed = -errno.EINVAL, True
    elif ptype == _c(k, "NLA_FLAG"):
        failed = attrlen > 0
    elif ptype == _c(k, "NLA_BITFIELD32"):
        failed = attrlen != 8
        if not failed:
            value, selector = m.read_u32(data), m.read_u32(data + 4)
            valid = rd(k, pt, "nla_policy.bitfield32_valid", 4)
            if (value | selector) & ~valid & 0xFFFFFFFF:
                _set_err(k, extack, "Unexpected bits set in bitfield32", nla)
                err, failed = -errno.EINVAL, True
            elif value & ~selector & 0xFFFFFFFF:
                _set_err(k, extack, "Unexpected value bits set", nla)
                err, failed = -errno.EINVAL, True
    elif ptype in (_c(k, "NLA_NUL_STRING"), _c(k, "NLA_STRING")):
        buf = bytes(m.read(data, max(attrlen, 0)))
        if ptype == _c(k, "NLA_NUL_STRING"):
            minlen = min(attrlen, plen + 1) if plen else attrlen
            if not minlen or b"\0" not in buf[:minlen]:
                err, failed = -errno.EINVAL, True
        if not failed:
            if attrlen < 1:
                failed = True
            elif plen:
                n = attrlen - 1 if buf[attrlen - 1] == 0 else attrlen
                failed = n > plen
    elif ptype == _c(k, "NLA_BINARY"):
        failed = bool(plen) and attrlen > plen
    elif ptype in nested_types:
        if attrlen == 0:
            pass
        elif attrlen < NLA_HDRLEN:
            failed = True
        else:
            nested = rd(k, pt, "nla_policy.nested_policy")
            if nested and ptype == _c(k, "NLA_NESTED"):
                err = yield from _validate_parse(k, data, attrlen, plen, nested, validate,
                                                 extack, 0, depth + 1)
                if err < 0:
                    return err
            elif nested:
                for _t, inner, ilen in attrs(k, data, attrlen)[0]:
                    err = yield from _validate_parse(k, inner + NLA_HDRLEN, ilen, plen, nested,
                                                     validate, extack, 0, depth + 1)
                    if err < 0:
                        return err
    elif ptype == _c(k, "NLA_UNSPEC"):
        if validate & _c(k, "NL_VALIDATE_UNSPEC"):
            _set_err(k, extack, "Unsupported attribute", nla)
            return -errno.EINVAL
        failed = attrlen < plen
    else:
        minlen = plen or _attr_minlen(k).get(ptype, 0)
        failed = attrlen < minlen
    if failed:
        _set_err(k, extack, "Attribute failed policy validation", nla, pt)
        return err
    vt = rd(k, pt, "nla_policy.validation_type", 1)
    if vt in (_c(k, "NLA_VALIDATE_RANGE_PTR"), _c(k, "NLA_VALIDATE_RANGE"),
              _c(k, "NLA_VALIDATE_RANGE_WARN_TOO_LONG"), _c(k, "NLA_VALIDATE_MIN"),
              _c(k, "NLA_VALIDATE_MAX")):
        return _validate_range(k, pt, nla, ptype, extack, validate)
    if vt == _c(k, "NLA_VALIDATE_MASK"):
        value, _signed_ = _int_value(k, nla, ptype)
        if value is not None and value & ~rd(k, pt, "nla_policy.mask", 4) & 0xFFFFFFFFFFFFFFFF:
            _set_err(k, extack, "reserved bit set", nla, pt)
            return -errno.EINVAL
        return 0
    if vt == _c(k, "NLA_VALIDATE_FUNCTION"):
        fn = rd(k, pt, "nla_policy.validate")
        if fn:
            ret = s32((yield k.call_request(fn, nla, extack)))
            if ret:
                return ret
    return 0


def _validate_parse(k, head, length, maxtype, policy, validate, extack, tb, depth):
    """__nla_validate_parse(): generator returning 0 or -errno; fills ``tb`` if given."""
    if depth >= MAX_POLICY_RECURSION_DEPTH:
        _set_err(k, extack, "allowed policy recursion depth exceeded")
        return -errno.EINVAL
    if tb:
        k.machine.fill(tb, 0, 8 * (maxtype + 1))     # memset(): a negative maxtype is huge
    found, rem = attrs(k, head, length)
    for atype, nla, _plen in found:
        if atype == 0 or atype > maxtype:
            if validate & _c(k, "NL_VALIDATE_MAXTYPE"):
                _set_err(k, extack, "Unknown attribute type", nla)
                return -errno.EINVAL
            continue
        if policy:
            err = yield from _validate_nla(k, nla, maxtype, policy, validate, extack, depth)
            if err < 0:
                return err
        if tb:
            k.machine.write_u64(tb + 8 * atype, nla)
    if rem > 0:
        k.log.emit(KERN_WARNING, f"netlink: {rem} bytes leftover after parsing attributes in process "
                      f"`{_comm(k)}'.")
        _set_err(k, extack, "bytes leftover after parsing attributes")
        if validate & _c(k, "NL_VALIDATE_TRAILING"):
            return -errno.EINVAL
    return 0


@export("int __nla_parse(struct nlattr **tb, int maxtype, const struct nlattr *head, int len, "
        "const struct nla_policy *policy, unsigned int validate, "
        "struct netlink_ext_ack *extack)")
def __nla_parse(k, tb, maxtype, head, len_, policy, validate, extack):
    return (yield from _validate_parse(k, head, s32(len_), s32(maxtype), policy, validate,
                                       extack, tb, 0))


@export("int __nla_validate(const struct nlattr *head, int len, int maxtype, "
        "const struct nla_policy *policy, unsigned int validate, "
        "struct netlink_ext_ack *extack)")
def __nla_validate(k, head, len_, maxtype, policy, validate, extack):
    return (yield from _validate_parse(k, head, s32(len_), s32(maxtype), policy, validate,
                                       extack, 0, 0))


# ------------------------------------------------------------ reading
@export("struct nlattr *nla_find(const struct nlattr *head, int len, int attrtype)")
def nla_find(k, head, len_, attrtype):
    for atype, nla, _n in attrs(k, head, s32(len_))[0]:
        if atype == attrtype:
            return nla
    return 0


@export("ssize_t nla_strscpy(char *dst, const struct nlattr *nla, size_t dstsize)")
def nla_strscpy(k, dst, nla, dstsize):
    if dstsize == 0:
        return -errno.E2BIG
    if dstsize > 0xFFFF:
        from .kemu_warn import warn_once
        warn_once(k, "lib/nlattr.c:757", "nla_strscpy+0x6f/0x90")
        return -errno.E2BIG
    srclen = nla_payload_len(k, nla)
    src = bytes(k.machine.read(nla + NLA_HDRLEN, srclen))
    if srclen > 0 and src[srclen - 1] == 0:
        srclen -= 1
    if srclen >= dstsize:
        length, ret = dstsize - 1, -errno.E2BIG
    else:
        length, ret = srclen, srclen
    k.machine.write(dst, src[:length] + bytes(dstsize - length))     # zero padded
    return ret


@export("char *nla_strdup(const struct nlattr *nla, gfp_t flags)")
def nla_strdup(k, nla, flags):
    srclen = nla_payload_len(k, nla)
    src = bytes(k.machine.read(nla + NLA_HDRLEN, srclen))
    if srclen > 0 and src[srclen - 1] == 0:
        srclen -= 1
    from kemu.abi.toolkit import kstrdup
    return kstrdup(k, src[:srclen], "kmalloc")


@export("int nla_memcpy(void *dest, const struct nlattr *src, int count)")
def nla_memcpy(k, dest, src, count):
    n = min(s32(count), nla_payload_len(k, src))
    if n <= 0:
        return 0
    k.machine.write(dest, bytes(k.machine.read(src + NLA_HDRLEN, n)))
    if s32(count) > n:
        k.machine.write(dest + n, bytes(s32(count) - n))
    return n


@export("int nla_memcmp(const struct nlattr *nla, const void *data, size_t size)")
def nla_memcmp(k, nla, data, size):
    d = nla_payload_len(k, nla) - size
    if d:
        return s32(d & 0xFFFFFFFF)
    a, b = bytes(k.machine.read(nla + NLA_HDRLEN, size)), bytes(k.machine.read(data, size))
    return 0 if a == b else (1 if a > b else -1)


@export("int nla_strcmp(const struct nlattr *nla, const char *str)")
def nla_strcmp(k, nla, str_):
    from kemu.abi.toolkit import cstr
    s = cstr(k, str_).encode("utf-8", "surrogateescape")
    attrlen = nla_payload_len(k, nla)
    buf = bytes(k.machine.read(nla + NLA_HDRLEN, max(attrlen, 0)))
    while attrlen > 0 and buf[attrlen - 1] == 0:
        attrlen -= 1
    d = attrlen - len(s)
    if d == 0:
        a = buf[:attrlen]
        d = 0 if a == s else (1 if a > s else -1)
    return d


# ------------------------------------------------------------ writing
def _tailroom(k, skb) -> int:
    t, m = k.target, k.machine
    if m.read_u32(skb + t.offset("sk_buff.data_len")):
        return 0
    return m.read_u32(skb + t.offset("sk_buff.end")) - m.read_u32(skb + t.offset("sk_buff.tail"))


def reserve(k, skb, attrtype, attrlen) -> int:
    """__nla_reserve(): header written, padding zeroed, payload left as it was."""
    total = nla_total_size(attrlen)
    nla = skb_put_(k, skb, total)
    k.machine.write_u16(nla + k.target.offset("nlattr.nla_type"), attrtype & 0xFFFF)
    k.machine.write_u16(nla + k.target.offset("nlattr.nla_len"), NLA_HDRLEN + attrlen)
    k.machine.write(nla + NLA_HDRLEN + attrlen, bytes(total - NLA_HDRLEN - attrlen))
    return nla


def _reserve_nohdr(k, skb, attrlen) -> int:
    n = nla_align(attrlen)
    start = skb_put_(k, skb, n)
    k.machine.fill(start, 0, n)                 # skb_put_zero()
    return start


@export("struct nlattr *__nla_reserve(struct sk_buff *skb, int attrtype, int attrlen)")
def __nla_reserve(k, skb, attrtype, attrlen):
    return reserve(k, skb, attrtype, s32(attrlen))


@export("struct nlattr *__nla_reserve_64bit(struct sk_buff *skb, int attrtype, int attrlen, "
        "int padattr)")
def __nla_reserve_64bit(k, skb, attrtype, attrlen, padattr):
    return reserve(k, skb, attrtype, s32(attrlen))


@export("void *__nla_reserve_nohdr(struct sk_buff *skb, int attrlen)")
def __nla_reserve_nohdr(k, skb, attrlen):
    return _reserve_nohdr(k, skb, s32(attrlen))


@export("struct nlattr *nla_reserve(struct sk_buff *skb, int attrtype, int attrlen)")
def nla_reserve(k, skb, attrtype, attrlen):
    if _tailroom(k, skb) < nla_total_size(s32(attrlen)):
        return 0
    return reserve(k, skb, attrtype, s32(attrlen))


@export("struct nlattr *nla_reserve_64bit(struct sk_buff *skb, int attrtype, int attrlen, "
        "int padattr)")
def nla_reserve_64bit(k, skb, attrtype, attrlen, padattr):
    return nla_reserve(k, skb, attrtype, attrlen)


@export("void *nla_reserve_nohdr(struct sk_buff *skb, int attrlen)")
def nla_reserve_nohdr(k, skb, attrlen):
    if _tailroom(k, skb) < nla_align(s32(attrlen)):
        return 0
    return _reserve_nohdr(k, skb, s32(attrlen))


def _payload(k, data, attrlen) -> bytes:
    return bytes(k.machine.read(data, attrlen)) if attrlen > 0 and data else bytes(max(attrlen, 0))


def _put(k, skb, attrtype, payload: bytes) -> int:
    nla = reserve(k, skb, attrtype, len(payload))
    k.machine.write(nla + NLA_HDRLEN, payload)
    return nla


def nla_put_(k, skb: int, attrtype: int, payload: bytes) -> int:
    """nla_put(): 0, or -EMSGSIZE when the skb's tailroom is too small."""
    if _tailroom(k, skb) < nla_total_size(len(payload)):
        return -errno.EMSGSIZE
    _put(k, skb, attrtype, payload)
    return 0


@export("void __nla_put(struct sk_buff *skb, int attrtype, int attrlen, const void *data)")
def __nla_put(k, skb, attrtype, attrlen, data):
    _put(k, skb, attrtype, _payload(k, data, s32(attrlen)))


@export("void __nla_put_64bit(struct sk_buff *skb, int attrtype, int attrlen, "
        "const void *data, int padattr)")
def __nla_put_64bit(k, skb, attrtype, attrlen, data, padattr):
    _put(k, skb, attrtype, _payload(k, data, s32(attrlen)))


@export("void __nla_put_nohdr(struct sk_buff *skb, int attrlen, const void *data)")
def __nla_put_nohdr(k, skb, attrlen, data):
    start = _reserve_nohdr(k, skb, s32(attrlen))
    k.machine.write(start, _payload(k, data, s32(attrlen)))


@export("int nla_put(struct sk_buff *skb, int attrtype, int attrlen, const void *data)")
def nla_put(k, skb, attrtype, attrlen, data):
    return nla_put_(k, skb, attrtype, _payload(k, data, s32(attrlen)))


@export("int nla_put_64bit(struct sk_buff *skb, int attrtype, int attrlen, const void *data, "
        "int padattr)")
def nla_put_64bit(k, skb, attrtype, attrlen, data, padattr):
    return nla_put_(k, skb, attrtype, _payload(k, data, s32(attrlen)))


@export("int nla_put_nohdr(struct sk_buff *skb, int attrlen, const void *data)")
def nla_put_nohdr(k, skb, attrlen, data):
    if _tailroom(k, skb) < nla_align(s32(attrlen)):
        return -errno.EMSGSIZE
    __nla_put_nohdr(k, skb, attrlen, data)
    return 0


@export("int nla_append(struct sk_buff *skb, int attrlen, const void *data)")
def nla_append(k, skb, attrlen, data):
    n = s32(attrlen)
    if _tailroom(k, skb) < nla_align(n):
        return -errno.EMSGSIZE
    start = skb_put_(k, skb, n)
    k.machine.write(start, _payload(k, data, n))
    return 0


__all__ = ["nla_put_", "attrs", "nla_total_size", "err_ptr"]
