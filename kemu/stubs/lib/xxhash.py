"""lib/xxhash.c: xxHash32/64, one-shot and streaming, states in module memory."""
from kemu import export
from kemu.abi.exports import members

members("struct xxh32_state", "total_len_32", "large_len", "v1", "v2", "v3", "v4", "mem32",
        "memsize")
members("struct xxh64_state", "total_len", "v1", "v2", "v3", "v4", "mem64", "memsize")

M32, M64 = 0xFFFFFFFF, (1 << 64) - 1
P32 = (2654435761, 2246822519, 3266489917, 668265263, 374761393)
P64 = (11400714785074694791, 14029467366897019727, 1609587929392839161,
       9650029242287828579, 2870177450012600261)


def _rotl32(x, r):
    return ((x << r) | (x >> (32 - r))) & M32


def _rotl64(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def _r32(acc, inp):
    return (_rotl32((acc + inp * P32[1]) & M32, 13) * P32[0]) & M32


def _r64(acc, inp):
    return (_rotl64((acc + inp * P64[1]) & M64, 31) * P64[0]) & M64


def _merge64(acc, val):
    acc ^= _r64(0, val)
    return (acc * P64[0] + P64[3]) & M64


def _le32(b, i):
    return int.from_bytes(b[i:i + 4], "little")


def _le64(b, i):
    return int.from_bytes(b[i:i + 8], "little")


def _tail32(h, mem: bytes):
    p = 0
    while p + 4 <= len(mem):
        h = (h + _le32(mem, p) * P32[2]) & M32
        h = (_rotl32(h, 17) * P32[3]) & M32
        p += 4
    while p < len(mem):
        h = (h + mem[p] * P32[4]) & M32
        h = (_rotl32(h, 11) * P32[0]) & M32
        p += 1
    h ^= h >> 15
    h = (h * P32[1]) & M32
    h ^= h >> 13
    h = (h * P32[2]) & M32
    h ^= h >> 16
    return h


def _tail64(h, mem: bytes):
    p = 0
    while p + 8 <= len(mem):
        h ^= _r64(0, _le64(mem, p))
        h = (_rotl64(h, 27) * P64[0] + P64[3]) & M64
        p += 8
    if p + 4 <= len(mem):
        h ^= (_le32(mem, p) * P64[0]) & M64
        h = (_rotl64(h, 23) * P64[1] + P64[2]) & M64
        p += 4
    while p < len(mem):
        h ^= (mem[p] * P64[4]) & M64
        h = (_rotl64(h, 11) * P64[0]) & M64
        p += 1
    h ^= h >> 33
    h = (h * P64[1]) & M64
    h ^= h >> 29
    h = (h * P64[2]) & M64
    h ^= h >> 32
    return h


def _lanes32(v, data, p, end, tick=None):
    n = 0
    while p + 16 <= end:
        v = [_r32(v[i], _le32(data, p + 4 * i)) for i in range(4)]
        p += 16
        n += 1
        if tick is not None and not n & 0xFFF:
            tick()                   # the entry's time budget (a hostile length)
    return v, p


def _lanes64(v, data, p, end, tick=None):
    n = 0
    while p + 32 <= end:
        v = [_r64(v[i], _le64(data, p + 8 * i)) for i in range(4)]
        p += 32
        n += 1
        if tick is not None and not n & 0xFFF:
            tick()
    return v, p


def xxh32_bytes(data: bytes, seed: int, tick=None) -> int:
    n = len(data)
    if n >= 16:
        v = [(seed + P32[0] + P32[1]) & M32, (seed + P32[1]) & M32, seed, (seed - P32[0]) & M32]
        v, p = _lanes32(v, data, 0, n, tick)
        h = (_rotl32(v[0], 1) + _rotl32(v[1], 7) + _rotl32(v[2], 12) + _rotl32(v[3], 18)) & M32
    else:
        h, p = (seed + P32[4]) & M32, 0
    return _tail32((h + n) & M32, data[p:])


def xxh64_bytes(data: bytes, seed: int, tick=None) -> int:
    n = len(data)
    if n >= 32:
        v = [(seed + P64[0] + P64[1]) & M64, (seed + P64[1]) & M64, seed, (seed - P64[0]) & M64]
        v, p = _lanes64(v, data, 0, n, tick)
        h = (_rotl64(v[0], 1) + _rotl64(v[1], 7) + _rotl64(v[2], 12) + _rotl64(v[3], 18)) & M64
        for lane in v:
            h = _merge64(h, lane)
    else:
        h, p = (seed + P64[4]) & M64, 0
    return _tail64((h + n) & M64, data[p:])


def _data(k, p, n):
    return k.machine.read(p, n) if n else b""


@export("u32 xxh32(const void *input, size_t length, u32 seed)")
def xxh32(k, input_, length, seed):
    return xxh32_bytes(_data(k, input_, length), seed, k.machine.check_deadline)


@export("u64 xxh64(const void *input, size_t length, u64 seed)")
def xxh64(k, input_, length, seed):
    return xxh64_bytes(_data(k, input_, length), seed, k.machine.check_deadline)


class _State:
    """A struct xxh32_state / xxh64_state in emulated memory."""

    def __init__(self, k, addr, bits):
        self.k, self.addr, self.bits = k, addr, bits
        self.s = f"xxh{bits}_state"
        self.w = bits // 8

    def off(self, member):
        return self.addr + self.k.target.offset(f"{self.s}.{member}")

    def get(self, member, size=None):
        return int.from_bytes(self.k.machine.read(self.off(member), size or self.w), "little")

    def put(self, member, value, size=None):
        size = size or self.w
        self.k.machine.write(self.off(member), (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))

    def mem(self):
        return self.k.machine.read(self.off(f"mem{self.bits}"), 4 * self.w)

    def set_mem(self, data: bytes):
        self.k.machine.write(self.off(f"mem{self.bits}"), data)


@export("void xxh32_reset(struct xxh32_state *state, u32 seed)")
def xxh32_reset(k, state, seed):
    k.machine.write(state, bytes(k.target.sizeof("xxh32_state")))
    s = _State(k, state, 32)
    for name, v in zip(("v1", "v2", "v3", "v4"),
                       ((seed + P32[0] + P32[1]) & M32, (seed + P32[1]) & M32, seed,
                        (seed - P32[0]) & M32)):
        s.put(name, v)


@export("void xxh64_reset(struct xxh64_state *state, u64 seed)")
def xxh64_reset(k, state, seed):
    k.machine.write(state, bytes(k.target.sizeof("xxh64_state")))
    s = _State(k, state, 64)
    for name, v in zip(("v1", "v2", "v3", "v4"),
                       ((seed + P64[0] + P64[1]) & M64, (seed + P64[1]) & M64, seed,
                        (seed - P64[0]) & M64)):
        s.put(name, v)


def _update(k, state, input_, length, bits):
    if not input_:
        return -22
    s = _State(k, state, bits)
    block = 4 * s.w                            # 16 or 32 bytes
    data = _data(k, input_, length)
    if bits == 32:
        s.put("total_len_32", s.get("total_len_32", 4) + length, 4)
        s.put("large_len", s.get("large_len", 4) | (length >= 16) |
              (s.get("total_len_32", 4) >= 16), 4)
    else:
        s.put("total_len", s.get("total_len", 8) + length, 8)
    memsize = s.get("memsize", 4)
    mem = s.mem()
    if memsize + length < block:
        s.set_mem(mem[:memsize] + data + mem[memsize + length:])
        s.put("memsize", memsize + length, 4)
        return 0
    v = [s.get(n) for n in ("v1", "v2", "v3", "v4")]
    lanes = _lanes32 if bits == 32 else _lanes64
    p = 0
    if memsize:
        full = mem[:memsize] + data[:block - memsize]
        v, _ = lanes(v, full, 0, block)
        p = block - memsize
        memsize = 0
    v, p = lanes(v, data, p, length, k.machine.check_deadline)
    for n, val in zip(("v1", "v2", "v3", "v4"), v):
        s.put(n, val)
    if p < length:
        rest = data[p:]
        s.set_mem(rest + mem[len(rest):])
        memsize = len(rest)
    s.put("memsize", memsize, 4)
    return 0


@export("int xxh32_update(struct xxh32_state *state, const void *input, size_t length)")
def xxh32_update(k, state, input_, length):
    return _update(k, state, input_, length, 32)


@export("int xxh64_update(struct xxh64_state *state, const void *input, size_t length)")
def xxh64_update(k, state, input_, length):
    return _update(k, state, input_, length, 64)


@export("u32 xxh32_digest(const struct xxh32_state *state)")
def xxh32_digest(k, state):
    s = _State(k, state, 32)
    v = [s.get(n) for n in ("v1", "v2", "v3", "v4")]
    if s.get("large_len", 4):
        h = (_rotl32(v[0], 1) + _rotl32(v[1], 7) + _rotl32(v[2], 12) + _rotl32(v[3], 18)) & M32
    else:
        h = (v[2] + P32[4]) & M32
    h = (h + s.get("total_len_32", 4)) & M32
    return _tail32(h, s.mem()[:s.get("memsize", 4)])


@export("u64 xxh64_digest(const struct xxh64_state *state)")
def xxh64_digest(k, state):
    s = _State(k, state, 64)
    v = [s.get(n) for n in ("v1", "v2", "v3", "v4")]
    total = s.get("total_len", 8)
    if total >= 32:
        h = (_rotl64(v[0], 1) + _rotl64(v[1], 7) + _rotl64(v[2], 12) + _rotl64(v[3], 18)) & M64
        for lane in v:
            h = _merge64(h, lane)
    else:
        h = (v[2] + P64[4]) & M64
    h = (h + total) & M64
    return _tail64(h, s.mem()[:s.get("memsize", 4)])


@export("void xxh32_copy_state(struct xxh32_state *dst, const struct xxh32_state *src)")
def xxh32_copy_state(k, dst, src):
    k.machine.write(dst, k.machine.read(src, k.target.sizeof("xxh32_state")))


@export("void xxh64_copy_state(struct xxh64_state *dst, const struct xxh64_state *src)")
def xxh64_copy_state(k, dst, src):
    k.machine.write(dst, k.machine.read(src, k.target.sizeof("xxh64_state")))
