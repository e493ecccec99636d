"""drivers/char/random.c and lib/random32.c, deterministic.

Every kernel has its own generator, seeded with a constant, so that two runs
of the same modules draw the same "random" bytes. The crng is always ready.
"""
import random as _random

from kemu import export
from kemu.abi.exports import members

members("struct rnd_state", "s1", "s2", "s3", "s4")

SEED = 0x6B656D75                  # "kemu"


class Crng:
    """Per-kernel random source."""

    def __init__(self, k):
        self.rng = _random.Random(SEED)

    def bytes(self, n: int) -> bytes:
        return self.rng.randbytes(n) if n else b""

    def bits(self, n: int) -> int:
        return self.rng.getrandbits(n)


@export("void get_random_bytes(void *buf, size_t len)")
def get_random_bytes(k, buf, length):
    if length:
        k.machine.check_range(buf, length, "write")
        k.machine.write(buf, k.model(Crng).bytes(length))


@export("u8 get_random_u8(void)")
def get_random_u8(k):
    return k.model(Crng).bits(8)


@export("u16 get_random_u16(void)")
def get_random_u16(k):
    return k.model(Crng).bits(16)


@export("u32 prandom_u32(void)", until="6.1")        # 5.10's pseudo-random, same model
@export("u32 get_random_u32(void)")
def get_random_u32(k):
    return k.model(Crng).bits(32)


@export("u64 get_random_u64(void)")
def get_random_u64(k):
    return k.model(Crng).bits(64)


@export("u32 __get_random_u32_below(u32 ceil)")
def __get_random_u32_below(k, ceil):
    """Lemire's method as random.c does it; ceil == 0 gives a plain u32."""
    rng = k.model(Crng)
    rand = rng.bits(32)
    if not ceil:
        return rand
    mult = ceil * rand
    if (mult & 0xFFFFFFFF) < ceil:
        bound = (-ceil & 0xFFFFFFFF) % ceil
        while (mult & 0xFFFFFFFF) < bound:
            mult = ceil * rng.bits(32)
    return mult >> 32


@export("bool rng_is_initialized(void)")
def rng_is_initialized(k):
    return True


@export("int wait_for_random_bytes(void)")
def wait_for_random_bytes(k):
    return 0


@export("void add_device_randomness(const void *buf, size_t len)")
def add_device_randomness(k, buf, length):
    pass


def _taus(s, a, b, c, d):
    return (((s & c) << d) & 0xFFFFFFFF) ^ ((((s << a) & 0xFFFFFFFF) ^ s) >> b)


@export("u32 prandom_u32_state(struct rnd_state *state)")
def prandom_u32_state(k, state):
    m, t = k.machine, k.target
    offs = [t.offset(f"rnd_state.s{i}") for i in (1, 2, 3, 4)]
    s1, s2, s3, s4 = (m.read_u32(state + o) for o in offs)
    s1 = _taus(s1, 6, 13, 4294967294, 18)
    s2 = _taus(s2, 2, 27, 4294967288, 2)
    s3 = _taus(s3, 13, 21, 4294967280, 7)
    s4 = _taus(s4, 3, 12, 4294967168, 13)
    for o, v in zip(offs, (s1, s2, s3, s4)):
        m.write_u32(state + o, v)
    return s1 ^ s2 ^ s3 ^ s4


@export("void prandom_bytes_state(struct rnd_state *state, void *buf, size_t nbytes)")
def prandom_bytes_state(k, state, buf, nbytes):
    bad = k.machine.first_unmapped(buf, nbytes)
    if bad is not None:                 # it writes up to the hole, then faults there
        prandom_bytes_state(k, state, buf, bad - buf)
        from kemu.errors import MemoryFault
        raise MemoryFault(bad, "write", k.machine.reg("rip"))
    out = bytearray()
    while nbytes - len(out) >= 4:
        out += prandom_u32_state(k, state).to_bytes(4, "little")
    rest = nbytes - len(out)
    if rest:
        out += prandom_u32_state(k, state).to_bytes(4, "little")[:rest]
    if out:
        k.machine.write(buf, bytes(out))


@export("void add_disk_randomness(struct gendisk *disk)")
def add_disk_randomness(k, disk):
    """drivers/char/random.c: a disk's completion timing as entropy (kemu's pool needs none)."""
