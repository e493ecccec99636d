"""lib/ratelimit.c: ___ratelimit() on the virtual jiffies clock."""
from kemu import export

from ..kernel.printk import vprintk_emit


def _off(k, member):
    return k.target.offset(f"ratelimit_state.{member}")


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


@export("int ___ratelimit(struct ratelimit_state *rs, const char *func)")
def ___ratelimit(k, rs, func):
    m = k.machine
    interval = _s32(m.read_u32(rs + _off(k, "interval")))
    burst = _s32(m.read_u32(rs + _off(k, "burst")))
    if not interval:
        return 1
    if m.read_u32(rs + _off(k, "lock")):        # raw_spin_trylock_irqsave() failed
        return 0
    jiffies = k.jiffies()
    begin = m.read_u64(rs + _off(k, "begin"))
    if not begin:
        begin = jiffies
        m.write_u64(rs + _off(k, "begin"), begin)
    printed = _s32(m.read_u32(rs + _off(k, "printed")))
    missed = _s32(m.read_u32(rs + _off(k, "missed")))
    delta = (begin + interval - jiffies) & 0xFFFFFFFFFFFFFFFF
    if delta >> 63:                             # time_is_before_jiffies(begin + interval)
        if missed:
            flags = m.read_u64(rs + _off(k, "flags"))
            if not flags & k.target.const("RATELIMIT_MSG_ON_RELEASE"):
                name = m.read_cstr(func, 256).decode("latin-1")
                vprintk_emit(k, f"\x014{name}: {missed} callbacks suppressed\n".encode("utf-8", "surrogateescape"))
                missed = 0
        m.write_u64(rs + _off(k, "begin"), jiffies)
        printed = 0
    if burst and burst > printed:
        printed += 1
        ret = 1
    else:
        missed += 1
        ret = 0
    m.write_u32(rs + _off(k, "printed"), printed)
    m.write_u32(rs + _off(k, "missed"), missed)
    return ret
