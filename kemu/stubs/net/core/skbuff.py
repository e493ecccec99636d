"""net/core/skbuff.c: linear sk_buffs on the target's real ``struct sk_buff``.

An skb from ``__alloc_skb`` has a data buffer of SKB_DATA_ALIGN(size) bytes
followed by its ``struct skb_shared_info`` (``end`` is the offset of that
area: NET_SKBUFF_DATA_USES_OFFSET on x86_64, so ``tail``/``end`` are offsets
from ``head``). ``skb_clone`` makes a second sk_buff sharing the data
(``cloned`` set on both, ``dataref`` counted); freeing drops ``users``, runs
the destructor and frees the data when the last reference goes.

Only linear skbs (``data_len == 0``) are modelled; paged or frag_list data
is a "not-modelled" finding. The skb_over/under_panic BUGs and the
``__skb_pull`` BUG_ON are raised as the kernel raises them.

Receive-side allocation (``__netdev_alloc_skb``, ``__napi_alloc_skb``) reserves
NET_SKB_PAD of headroom and sets ``skb->dev`` as 6.1 does (always from kmalloc:
page fragments are not modelled, so ``head_frag`` stays 0). The sk_buff_head
queue operations keep ``next``/``prev``/``qlen`` as include/linux/skbuff.h does.

Python API (helpers on an skb address, no emulation needed):
``skb_pull_(k, skb, n)``, ``skb_push_(k, skb, n)``, ``skb_put_(k, skb, n)``,
``skb_trim_(k, skb, n)``, ``skb_copy_bits_(k, skb, off, n) -> bytes|None``,
``alloc_skb_(k, size) -> skb``, ``clone_skb(k, skb) -> skb``,
``free_skb(k, skb)`` (without running a destructor).
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.kernel.log import KERN_EMERG
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, s32, static, static_addr, wr
from ...lib.kemu_warn import bug, warn, warn_once

members("struct sk_buff", "transport_header", "mac_header", "head", "data", "cloned",
        "destructor", "ip_summed", "csum", "csum_start", "csum_offset", "pkt_type")
members("struct skb_shared_info", "dataref", "nr_frags", "frag_list")
members("struct skb_checksum_ops", "update", "combine")
members("struct ts_ops", "find", "get_pattern_len", "name", "init", "destroy", "get_pattern",
        "owner")
members("struct ts_config", "ops", "get_next_block", "finish", "flags")
members("struct ts_state", "cb", "offset")
members("struct sk_buff_head", "next", "prev", "qlen")
members("struct napi_struct", "dev")

NET_SKB_PAD = 64          # max(32, L1_CACHE_BYTES)
NET_IP_ALIGN = 0          # x86


def _align(k, n: int) -> int:
    a = k.target.const("SMP_CACHE_BYTES")
    return (n + a - 1) & ~(a - 1)


def _u32(k, skb, member):
    return rd(k, skb, f"sk_buff.{member}", 4)


def _set32(k, skb, member, v):
    wr(k, skb, f"sk_buff.{member}", v & 0xFFFFFFFF, 4)


def headlen(k, skb) -> int:
    """skb_headlen(): len - data_len."""
    return _u32(k, skb, "len") - _u32(k, skb, "data_len")


def _cloned_bit(k):
    bit, _bits = k.target.bitfield("sk_buff.cloned")
    return bit // 8, 1 << (bit % 8)


def is_cloned(k, skb) -> bool:
    byte, mask = _cloned_bit(k)
    return bool(k.machine.read_u8(skb + byte) & mask)


def _set_cloned(k, skb) -> None:
    byte, mask = _cloned_bit(k)
    k.machine.write_u8(skb + byte, k.machine.read_u8(skb + byte) | mask)


def _shinfo(k, skb) -> int | None:
    """skb_shinfo(skb), or None when the buffer has no room for it (a hand-built skb)."""
    head = rd(k, skb, "sk_buff.head")
    end = _u32(k, skb, "end")
    obj = k.heap.find(head)
    if obj is None or obj.size < end + k.target.sizeof("skb_shared_info"):
        return None
    return head + end


def _not_modelled(k, what: str) -> None:
    k.finding("not-modelled", f"{what}: kemu models only linear sk_buffs", k.current_module())


# ------------------------------------------------------------ Python helpers
def alloc_skb_(k, size: int) -> int:
    """__alloc_skb(): an empty linear skb with ``size`` bytes of room."""
    t = k.target
    size = _align(k, size)
    shsize = t.sizeof("skb_shared_info")
    data = k.heap.alloc(size + _align(k, shsize), kind="skb data", zero=True)
    skb = k.heap.alloc(t.sizeof("sk_buff"), kind="sk_buff", zero=True)
    wr(k, skb, "sk_buff.head", data)
    wr(k, skb, "sk_buff.data", data)
    _set32(k, skb, "tail", 0)
    _set32(k, skb, "end", size)
    _set32(k, skb, "truesize", size + _align(k, t.sizeof("sk_buff")) + _align(k, shsize))
    _set32(k, skb, "users", 1)
    wr(k, skb, "sk_buff.mac_header", 0xFFFF, 2)
    wr(k, skb, "sk_buff.transport_header", 0xFFFF, 2)
    k.machine.write_u32(data + size + t.offset("skb_shared_info.dataref"), 1)
    return skb


def skb_put_(k, skb: int, n: int) -> int:
    if _u32(k, skb, "data_len"):
        bug(k, "include/linux/skbuff.h:2540")
    head = rd(k, skb, "sk_buff.head")
    tail = _u32(k, skb, "tail")
    if tail + n > _u32(k, skb, "end"):
        k.log.emit(KERN_EMERG, f"skbuff: skb_over_panic: text:{0:016x} len:{n} put:{n} "
                      f"head:{head:016x} data:{rd(k, skb, 'sk_buff.data'):016x} "
                      f"tail:{tail + n:#x} end:{_u32(k, skb, 'end'):#x} dev:<NULL>")
        bug(k, "net/core/skbuff.c:113")
    _set32(k, skb, "tail", tail + n)
    _set32(k, skb, "len", _u32(k, skb, "len") + n)
    return head + tail


def skb_push_(k, skb: int, n: int) -> int:
    data = rd(k, skb, "sk_buff.data") - n
    if data < rd(k, skb, "sk_buff.head"):
        bug(k, "net/core/skbuff.c:113")
    wr(k, skb, "sk_buff.data", data)
    _set32(k, skb, "len", _u32(k, skb, "len") + n)
    return data


def skb_pull_(k, skb: int, n: int) -> int:
    """skb_pull(): the new data pointer, or 0 when ``n`` > len."""
    length = _u32(k, skb, "len")
    if n > length:
        return 0
    length -= n
    if length < _u32(k, skb, "data_len"):
        bug(k, "include/linux/skbuff.h:2630")
    _set32(k, skb, "len", length)
    data = rd(k, skb, "sk_buff.data") + n
    wr(k, skb, "sk_buff.data", data)
    return data


def skb_trim_(k, skb: int, n: int) -> None:
    if _u32(k, skb, "len") <= n:
        return
    if _u32(k, skb, "data_len"):
        warn(k, "include/linux/skbuff.h:3111", "skb_trim+0x34/0x40")
        return
    _set32(k, skb, "len", n)
    data, head = rd(k, skb, "sk_buff.data"), rd(k, skb, "sk_buff.head")
    _set32(k, skb, "tail", data - head + n)


def skb_copy_bits_(k, skb: int, offset: int, n: int) -> bytes | None:
    """The bytes skb_copy_bits() would copy, or None for -EFAULT."""
    if offset < 0 or n < 0 or offset > _u32(k, skb, "len") - n:
        return None
    if offset + n > headlen(k, skb):
        _not_modelled(k, "skb_copy_bits() of paged data")
        return None
    return bytes(k.machine.read(rd(k, skb, "sk_buff.data") + offset, n))


def clone_skb(k, skb: int) -> int:
    """skb_clone(): a new sk_buff sharing the data of ``skb``."""
    size = k.target.sizeof("sk_buff")
    n = k.heap.alloc(size, kind="sk_buff", zero=True)
    k.machine.write(n, bytes(k.machine.read(skb, size)))
    for member in ("next", "prev", "sk", "destructor"):
        wr(k, n, f"sk_buff.{member}", 0)
    _set32(k, n, "users", 1)
    _set_cloned(k, skb)
    _set_cloned(k, n)
    sh = _shinfo(k, skb)
    if sh is not None:
        ref = sh + k.target.offset("skb_shared_info.dataref")
        k.machine.write_u32(ref, k.machine.read_u32(ref) + 1)
    return n


def _release_data(k, skb: int) -> None:
    head = rd(k, skb, "sk_buff.head")
    sh = _shinfo(k, skb)
    if sh is not None and is_cloned(k, skb):
        ref = sh + k.target.offset("skb_shared_info.dataref")
        left = k.machine.read_u32(ref) - 1
        k.machine.write_u32(ref, left)
        if left:
            return
    if k.heap.find(head) is not None:
        k.heap.free(head)


def _unref(k, skb: int) -> bool:
    """skb_unref(): True when this was the last user."""
    users = _u32(k, skb, "users")
    if users == 1:
        return True
    _set32(k, skb, "users", users - 1)
    return False


def free_skb(k, skb: int) -> None:
    """kfree_skb() without the destructor call (for Python callers)."""
    if not skb or not _unref(k, skb):
        return
    _release_data(k, skb)
    k.heap.free(skb)


def _kfree_skb(k, skb):
    if not skb or not _unref(k, skb):
        return
    destructor = rd(k, skb, "sk_buff.destructor")
    if destructor:
        yield k.call_request(destructor, skb)
    _release_data(k, skb)
    k.heap.free(skb)


def skb_reserve_(k, skb: int, n: int) -> None:
    """skb_reserve(): ``n`` bytes of headroom in an empty skb."""
    wr(k, skb, "sk_buff.data", rd(k, skb, "sk_buff.data") + n)
    _set32(k, skb, "tail", _u32(k, skb, "tail") + n)


def netdev_alloc_skb_(k, dev: int, length: int, pad: int = NET_SKB_PAD) -> int:
    """__netdev_alloc_skb(): room for ``length`` bytes after ``pad`` of headroom."""
    skb = alloc_skb_(k, length + pad)
    skb_reserve_(k, skb, pad)
    wr(k, skb, "sk_buff.dev", dev)
    return skb


# ------------------------------------------------------------ exports
@export("struct sk_buff *__netdev_alloc_skb(struct net_device *dev, unsigned int len, "
        "gfp_t gfp_mask)", fails="NULL")
def __netdev_alloc_skb(k, dev, len_, gfp_mask):
    return netdev_alloc_skb_(k, dev, len_)


@export("struct sk_buff *__napi_alloc_skb(struct napi_struct *napi, unsigned int len, "
        "gfp_t gfp_mask)", fails="NULL")
def __napi_alloc_skb(k, napi, len_, gfp_mask):
    return netdev_alloc_skb_(k, rd(k, napi, "napi_struct.dev"), len_,
                             NET_SKB_PAD + NET_IP_ALIGN)


@export("void napi_consume_skb(struct sk_buff *skb, int budget)")
def napi_consume_skb(k, skb, budget):
    yield from _kfree_skb(k, skb)


@export("struct sk_buff *__alloc_skb(unsigned int size, gfp_t gfp_mask, int flags, int node)", fails="NULL")
def __alloc_skb(k, size, gfp_mask, flags, node):
    return alloc_skb_(k, size)


@export("void kfree_skb_reason(struct sk_buff *skb, enum skb_drop_reason reason)")
def kfree_skb_reason(k, skb, reason):
    yield from _kfree_skb(k, skb)


@export("void kfree_skb(struct sk_buff *skb)", until="6.1")
def kfree_skb(k, skb):
    """5.10: kfree_skb() is the export (5.17 added the drop reason)."""
    yield from _kfree_skb(k, skb)


@export("void sk_skb_reason_drop(struct sock *sk, struct sk_buff *skb, "
        "enum skb_drop_reason reason)", since="6.12")
def sk_skb_reason_drop(k, sk, skb, reason):
    """6.12's kfree_skb_reason(skb, reason) is sk_skb_reason_drop(NULL, skb, reason)."""
    yield from _kfree_skb(k, skb)


@export("void consume_skb(struct sk_buff *skb)")
def consume_skb(k, skb):
    yield from _kfree_skb(k, skb)


@export("struct sk_buff *skb_clone(struct sk_buff *skb, gfp_t gfp_mask)")
def skb_clone(k, skb, gfp_mask):
    return clone_skb(k, skb)


@export("void *skb_put(struct sk_buff *skb, unsigned int len)")
def skb_put(k, skb, len_):
    return skb_put_(k, skb, len_)


@export("void *skb_push(struct sk_buff *skb, unsigned int len)")
def skb_push(k, skb, len_):
    return skb_push_(k, skb, len_)


@export("void *skb_pull(struct sk_buff *skb, unsigned int len)")
def skb_pull(k, skb, len_):
    return skb_pull_(k, skb, len_)


@export("void skb_trim(struct sk_buff *skb, unsigned int len)")
def skb_trim(k, skb, len_):
    skb_trim_(k, skb, len_)


@export("int skb_store_bits(struct sk_buff *skb, int offset, const void *from, int len)")
def skb_store_bits(k, skb, offset, from_, len_):
    """Copy ``len`` bytes into the skb at ``offset`` (-EFAULT outside it)."""
    if offset < 0 or len_ < 0 or offset > _u32(k, skb, "len") - len_:
        return -errno.EFAULT
    if offset + len_ > headlen(k, skb):
        _not_modelled(k, "skb_store_bits() into paged data")
        return -errno.EFAULT
    if len_:
        k.machine.write(rd(k, skb, "sk_buff.data") + offset, bytes(k.machine.read(from_, len_)))
    return 0


@export("int skb_copy_bits(const struct sk_buff *skb, int offset, void *to, int len)")
def skb_copy_bits(k, skb, offset, to, len_):
    got = skb_copy_bits_(k, skb, offset, len_)
    if got is None:
        return -errno.EFAULT
    k.machine.write(to, got)
    return 0


@export("void *__pskb_pull_tail(struct sk_buff *skb, int delta)")
def __pskb_pull_tail(k, skb, delta):
    if _u32(k, skb, "data_len") == 0:
        if delta > 0:      # skb_copy_bits() past a linear skb's end fails: BUG()
            bug(k, "net/core/skbuff.c:2268")
        return rd(k, skb, "sk_buff.head") + _u32(k, skb, "tail")
    _not_modelled(k, "__pskb_pull_tail() of a non-linear skb")
    return 0


@export("int skb_ensure_writable(struct sk_buff *skb, unsigned int write_len)")
def skb_ensure_writable(k, skb, write_len):
    if write_len > _u32(k, skb, "len"):
        return -errno.ENOMEM
    if write_len > headlen(k, skb):
        _not_modelled(k, "skb_ensure_writable() of paged data")
        return -errno.ENOMEM
    sh = _shinfo(k, skb)
    if not is_cloned(k, skb) or (sh is not None and k.machine.read_u32(
            sh + k.target.offset("skb_shared_info.dataref")) & 0xFFFF == 1):
        return 0
    _not_modelled(k, "skb_ensure_writable() of a cloned skb (pskb_expand_head)")
    return -errno.ENOMEM


# ------------------------------------------------------------ checksums
def ip_summed(k, skb) -> int:
    """skb->ip_summed (a 2-bit field)."""
    bit, bits = k.target.bitfield("sk_buff.ip_summed")
    raw = int.from_bytes(bytes(k.machine.read(skb + bit // 8, 2)), "little")
    return (raw >> (bit % 8)) & ((1 << bits) - 1)


def set_ip_summed(k, skb, value: int) -> None:
    bit, bits = k.target.bitfield("sk_buff.ip_summed")
    raw = int.from_bytes(bytes(k.machine.read(skb + bit // 8, 2)), "little")
    mask = ((1 << bits) - 1) << (bit % 8)
    raw = (raw & ~mask) | ((value << (bit % 8)) & mask)
    k.machine.write(skb + bit // 8, raw.to_bytes(2, "little"))


@export("__wsum __skb_checksum(const struct sk_buff *skb, int offset, int len, __wsum csum, "
        "const struct skb_checksum_ops *ops)")
def __skb_checksum(k, skb, offset, len, csum, ops):
    if offset + len > headlen(k, skb):
        _not_modelled(k, "__skb_checksum() of paged data")
        return csum
    if len <= 0:
        return csum
    data = rd(k, skb, "sk_buff.data") + offset
    return (yield k.call_request(rd(k, ops, "skb_checksum_ops.update"), data, len, csum))


@export("__wsum skb_checksum(const struct sk_buff *skb, int offset, int len, __wsum csum)")
def skb_checksum(k, skb, offset, len, csum):
    from ...arch.x86.lib.csum import partial
    if offset + len > headlen(k, skb):
        _not_modelled(k, "skb_checksum() of paged data")
        return csum
    return partial(bytes(k.machine.read(rd(k, skb, "sk_buff.data") + offset, max(len, 0))), csum)


@export("int skb_checksum_help(struct sk_buff *skb)")
def skb_checksum_help(k, skb):
    from ...arch.x86.lib.csum import fold, partial
    t = k.target
    if ip_summed(k, skb) == t.const("CHECKSUM_COMPLETE"):
        set_ip_summed(k, skb, t.const("CHECKSUM_NONE"))
        return 0
    head, data = rd(k, skb, "sk_buff.head"), rd(k, skb, "sk_buff.data")
    offset = rd(k, skb, "sk_buff.csum_start", 2) - (data - head)   # skb_checksum_start_offset
    if offset >= headlen(k, skb):
        warn_once(k, "net/core/dev.c:3353", "skb_checksum_help+0x14e/0x1d0",
                  f"offset ({offset}) >= skb_headlen() ({headlen(k, skb)})")
        return -errno.EINVAL
    csum = partial(bytes(k.machine.read(data + offset, _u32(k, skb, "len") - offset)), 0)
    offset += rd(k, skb, "sk_buff.csum_offset", 2)
    if offset + 2 > headlen(k, skb):
        warn_once(k, "net/core/dev.c:3362", "skb_checksum_help+0x180/0x1d0",
                  f"offset+2 ({offset + 2}) > skb_headlen() ({headlen(k, skb)})")
        return -errno.EINVAL
    ret = skb_ensure_writable(k, skb, offset + 2)
    if ret:
        return ret
    k.machine.write_u16(data + offset, fold(csum) or t.const("CSUM_MANGLED_0"))
    set_ip_summed(k, skb, t.const("CHECKSUM_NONE"))
    return 0


@export("int pskb_trim_rcsum_slow(struct sk_buff *skb, unsigned int len)")
def pskb_trim_rcsum_slow(k, skb, len):
    from ...arch.x86.lib.csum import partial
    t = k.target
    if ip_summed(k, skb) == t.const("CHECKSUM_COMPLETE"):
        delta = _u32(k, skb, "len") - len
        data = rd(k, skb, "sk_buff.data")
        sub = ~partial(bytes(k.machine.read(data + len, max(delta, 0))), 0) & 0xFFFFFFFF
        if len & 1:                                  # csum_block_sub(): ror32(~csum2, 8)
            sub = ((sub >> 8) | (sub << 24)) & 0xFFFFFFFF
        s = rd(k, skb, "sk_buff.csum", 4) + sub
        wr(k, skb, "sk_buff.csum", ((s & 0xFFFFFFFF) + (s >> 32)) & 0xFFFFFFFF, 4)
    elif ip_summed(k, skb) == t.const("CHECKSUM_PARTIAL"):
        hdlen = min(len, headlen(k, skb))
        head, data = rd(k, skb, "sk_buff.head"), rd(k, skb, "sk_buff.data")
        offset = rd(k, skb, "sk_buff.csum_start", 2) - (data - head) + \
            rd(k, skb, "sk_buff.csum_offset", 2)
        if offset + 2 > hdlen:
            return -errno.EINVAL
    if _u32(k, skb, "data_len"):
        _not_modelled(k, "pskb_trim_rcsum_slow() of paged data")
        return -errno.ENOMEM
    skb_trim_(k, skb, len)
    return 0


# ------------------------------------------------------------ text search
# struct skb_seq_state is what skb_find_text keeps in ts_state.cb; for a linear
# skb only the window [from, to) of the head matters: kept as {len, data}.
_TS_LEN, _TS_DATA = 0, 8


@static("unsigned int skb_ts_get_next_block(unsigned int offset, const u8 **text, "
        "struct ts_config *conf, struct ts_state *state)")
def skb_ts_get_next_block(k, offset, text, conf, state):
    cb = state + k.target.offset("ts_state.cb")
    length = k.machine.read_u32(cb + _TS_LEN)
    if offset < length:
        k.machine.write_u64(text, k.machine.read_u64(cb + _TS_DATA) + offset)
        return length - offset
    return 0


@static("void skb_ts_finish(struct ts_config *conf, struct ts_state *state)")
def skb_ts_finish(k, conf, state):
    """skb_abort_seq_read(): nothing was mapped."""


@export("unsigned int skb_find_text(struct sk_buff *skb, unsigned int from, unsigned int to, "
        "struct ts_config *config)")
def skb_find_text(k, skb, from_, to, config):
    t, m = k.target, k.machine
    ops = rd(k, config, "ts_config.ops")
    patlen = (yield k.call_request(rd(k, ops, "ts_ops.get_pattern_len"), config)) & 0xFFFFFFFF
    wr(k, config, "ts_config.get_next_block", static_addr(k, "skb_ts_get_next_block"))
    wr(k, config, "ts_config.finish", static_addr(k, "skb_ts_finish"))
    end = min(to, _u32(k, skb, "len"))
    if end > headlen(k, skb):
        _not_modelled(k, "skb_find_text() over paged data")
        end = headlen(k, skb)
    state_ = k.heap.alloc(t.sizeof("ts_state"), kind="ts_state", zero=True)
    cb = state_ + t.offset("ts_state.cb")
    m.write_u32(cb + _TS_LEN, max(end - from_, 0))
    m.write_u64(cb + _TS_DATA, rd(k, skb, "sk_buff.data") + from_)
    try:
        ret = (yield k.call_request(rd(k, ops, "ts_ops.find"), config, state_)) & 0xFFFFFFFF
    finally:
        k.heap.free(state_)
    return ret if (ret + patlen) & 0xFFFFFFFF <= (to - from_) & 0xFFFFFFFF else 0xFFFFFFFF


# ------------------------------------------------------------ copies and padding
def _tailroom(k, skb) -> int:
    return 0 if _u32(k, skb, "data_len") else _u32(k, skb, "end") - _u32(k, skb, "tail")


@export("struct sk_buff *skb_copy(const struct sk_buff *skb, gfp_t gfp_mask)", fails="NULL")
def skb_copy(k, skb, gfp_mask):
    """A private linear copy: same headroom, data and header offsets."""
    if _u32(k, skb, "data_len"):
        _not_modelled(k, "skb_copy() of a non-linear skb")
        return 0
    head, data = rd(k, skb, "sk_buff.head"), rd(k, skb, "sk_buff.data")
    headroom, length = data - head, _u32(k, skb, "len")
    n = alloc_skb_(k, _u32(k, skb, "end"))
    skb_reserve_(k, n, headroom)
    skb_put_(k, n, length)
    k.machine.write(rd(k, n, "sk_buff.head"), bytes(k.machine.read(head, headroom + length)))
    for member, size in (("dev", 8), ("protocol", 2), ("mac_header", 2),
                         ("network_header", 2), ("transport_header", 2), ("csum", 4)):
        wr(k, n, f"sk_buff.{member}", rd(k, skb, f"sk_buff.{member}", size), size)
    k.machine.write(n + k.target.offset("sk_buff.cb"),
                    bytes(k.machine.read(skb + k.target.offset("sk_buff.cb"), 48)))
    set_ip_summed(k, n, ip_summed(k, skb))
    return n


@export("int __skb_pad(struct sk_buff *skb, int pad, bool free_on_error)")
def __skb_pad(k, skb, pad, free_on_error):
    pad = s32(pad)
    if not is_cloned(k, skb) and _tailroom(k, skb) >= pad:
        if pad > 0:
            k.machine.write(rd(k, skb, "sk_buff.data") + _u32(k, skb, "len"), bytes(pad))
        return 0
    _not_modelled(k, "__skb_pad() past the tailroom (pskb_expand_head)")
    if free_on_error:
        yield from _kfree_skb(k, skb)
    return -errno.ENOMEM


@export("void *skb_pull_rcsum(struct sk_buff *skb, unsigned int len)")
def skb_pull_rcsum(k, skb, len_):
    from ...arch.x86.lib.csum import partial
    if len_ > _u32(k, skb, "len"):
        bug(k, "net/core/skbuff.c:3728")
    data = rd(k, skb, "sk_buff.data")
    if ip_summed(k, skb) == k.target.const("CHECKSUM_COMPLETE"):    # skb_postpull_rcsum()
        sub = ~partial(bytes(k.machine.read(data, len_)), 0) & 0xFFFFFFFF
        s = rd(k, skb, "sk_buff.csum", 4) + sub
        wr(k, skb, "sk_buff.csum", ((s & 0xFFFFFFFF) + (s >> 32)) & 0xFFFFFFFF, 4)
    return skb_pull_(k, skb, len_)


@export("void skb_copy_and_csum_dev(const struct sk_buff *skb, u8 *to)")
def skb_copy_and_csum_dev(k, skb, to):
    from ...arch.x86.lib.csum import fold, partial
    length, data = _u32(k, skb, "len"), rd(k, skb, "sk_buff.data")
    if _u32(k, skb, "data_len"):
        _not_modelled(k, "skb_copy_and_csum_dev() of paged data")
        return
    partial_sum = ip_summed(k, skb) == k.target.const("CHECKSUM_PARTIAL")
    start = (rd(k, skb, "sk_buff.csum_start", 2) - (data - rd(k, skb, "sk_buff.head"))
             if partial_sum else length)
    if start > length:
        bug(k, "net/core/skbuff.c:3127")
    k.machine.write(to, bytes(k.machine.read(data, length)))
    if partial_sum:
        csum = partial(bytes(k.machine.read(data + start, length - start)), 0)
        k.machine.write_u16(to + start + rd(k, skb, "sk_buff.csum_offset", 2), fold(csum))


@export("void skb_tstamp_tx(struct sk_buff *orig_skb, struct skb_shared_hwtstamps *hwtstamps)")
def skb_tstamp_tx(k, orig_skb, hwtstamps):
    """__skb_tstamp_tx() returns at once for an skb without a socket; kemu's have none."""
    if rd(k, orig_skb, "sk_buff.sk"):
        _not_modelled(k, "skb_tstamp_tx() of a socket's skb")


# ------------------------------------------------------------ sk_buff_head
def _q(k, lst, member):
    return rd(k, lst, f"sk_buff_head.{member}")


def _q_insert(k, new, prev, nxt, lst) -> None:
    """__skb_insert(): link ``new`` between ``prev`` and ``nxt`` of ``lst``."""
    wr(k, new, "sk_buff.next", nxt)
    wr(k, new, "sk_buff.prev", prev)
    wr(k, nxt, "sk_buff.prev", new)            # the list head's next/prev share the offsets
    wr(k, prev, "sk_buff.next", new)
    wr(k, lst, "sk_buff_head.qlen", rd(k, lst, "sk_buff_head.qlen", 4) + 1, 4)


def skb_unlink_(k, skb, lst) -> None:
    """__skb_unlink()."""
    wr(k, lst, "sk_buff_head.qlen", rd(k, lst, "sk_buff_head.qlen", 4) - 1, 4)
    nxt, prev = rd(k, skb, "sk_buff.next"), rd(k, skb, "sk_buff.prev")
    wr(k, skb, "sk_buff.next", 0)
    wr(k, skb, "sk_buff.prev", 0)
    wr(k, nxt, "sk_buff.prev", prev)
    wr(k, prev, "sk_buff.next", nxt)


def skb_dequeue_(k, lst) -> int:
    skb = _q(k, lst, "next")
    if skb == lst:
        return 0
    skb_unlink_(k, skb, lst)
    return skb


def skb_queue_tail_(k, lst, new) -> None:
    _q_insert(k, new, _q(k, lst, "prev"), lst, lst)


@export("void skb_queue_tail(struct sk_buff_head *list, struct sk_buff *newsk)")
def skb_queue_tail(k, lst, newsk):
    skb_queue_tail_(k, lst, newsk)


@export("void skb_queue_head(struct sk_buff_head *list, struct sk_buff *newsk)")
def skb_queue_head(k, lst, newsk):
    _q_insert(k, newsk, lst, _q(k, lst, "next"), lst)


@export("void skb_append(struct sk_buff *old, struct sk_buff *newsk, struct sk_buff_head *list)")
def skb_append(k, old, newsk, lst):
    _q_insert(k, newsk, old, rd(k, old, "sk_buff.next"), lst)


@export("struct sk_buff *skb_dequeue(struct sk_buff_head *list)")
def skb_dequeue(k, lst):
    return skb_dequeue_(k, lst)


@export("struct sk_buff *skb_dequeue_tail(struct sk_buff_head *list)")
def skb_dequeue_tail(k, lst):
    skb = _q(k, lst, "prev")
    if skb == lst:
        return 0
    skb_unlink_(k, skb, lst)
    return skb


@export("void skb_unlink(struct sk_buff *skb, struct sk_buff_head *list)")
def skb_unlink(k, skb, lst):
    skb_unlink_(k, skb, lst)


@export("void skb_queue_purge(struct sk_buff_head *list)")
def skb_queue_purge(k, lst):
    while True:
        skb = skb_dequeue_(k, lst)
        if not skb:
            return
        yield from _kfree_skb(k, skb)


@export("void skb_add_rx_frag(struct sk_buff *skb, int i, struct page *page, int off, int size, "
        "unsigned int truesize)")
def skb_add_rx_frag(k, skb, i, page, off, size, truesize):
    _not_modelled(k, "skb_add_rx_frag() (a page fragment)")


@export("void skb_coalesce_rx_frag(struct sk_buff *skb, int i, int size, unsigned int truesize)")
def skb_coalesce_rx_frag(k, skb, i, size, truesize):
    _not_modelled(k, "skb_coalesce_rx_frag() (a page fragment)")
