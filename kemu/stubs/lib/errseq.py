"""lib/errseq.c: an error code and a sequence counter in one u32 (errseq_t, spelled u32 here).

The low 12 bits hold the latest -errno, bit 12 says whether it was seen
(sampled), the bits above count the errors reported after a sample.
"""
from kemu import export

from .kemu_warn import warn

MAX_ERRNO = 4095
ERRSEQ_SHIFT = 12                          # ilog2(MAX_ERRNO + 1)
ERRSEQ_WITNESS = 1 << ERRSEQ_SHIFT
ERRSEQ_CTR_INC = 1 << (ERRSEQ_SHIFT + 1)
U32 = 0xFFFFFFFF


def _s32(v: int) -> int:
    v &= U32
    return v - (1 << 32) if v >> 31 else v


@export("u32 errseq_set(u32 *eseq, int err)")
def errseq_set(k, eseq, err):
    """Record ``err``; the counter moves only when the previous error was seen."""
    m = k.machine
    old = m.read_u32(eseq)
    err = _s32(err)
    if err == 0 or (-err & U32) > MAX_ERRNO:
        warn(k, "lib/errseq.c:81", "errseq_set+0x7d/0x90", f"err = {err}")
        return old
    new = (old & ~(MAX_ERRNO | ERRSEQ_WITNESS)) | (-err & MAX_ERRNO)
    if old & ERRSEQ_WITNESS:
        new += ERRSEQ_CTR_INC
    new &= U32
    m.write_u32(eseq, new)
    return new


@export("u32 errseq_sample(u32 *eseq)")
def errseq_sample(k, eseq):
    """The current value if its error was already seen, else 0 (so it will be reported)."""
    old = k.machine.read_u32(eseq)
    return old if old & ERRSEQ_WITNESS else 0


@export("int errseq_check(u32 *eseq, u32 since)")
def errseq_check(k, eseq, since):
    cur = k.machine.read_u32(eseq)
    if cur == since & U32:
        return 0
    return -(cur & MAX_ERRNO)


@export("int errseq_check_and_advance(u32 *eseq, u32 *since)")
def errseq_check_and_advance(k, eseq, since):
    m = k.machine
    old = m.read_u32(eseq)
    if old == m.read_u32(since):
        return 0
    new = old | ERRSEQ_WITNESS
    if new != old:
        m.write_u32(eseq, new)
    m.write_u32(since, new)
    return -(new & MAX_ERRNO)
