"""net/core/utils.c: net_ratelimit(), __ratelimit() over net_ratelimit_state (5 s, 10)."""
from kemu import export

from ...lib.ratelimit import ___ratelimit


class NetRatelimit:
    """DEFINE_RATELIMIT_STATE(net_ratelimit_state, 5 * HZ, 10) in kernel data."""

    def __init__(self, k):
        t, m = k.target, k.machine
        self.addr = m.alloc_kdata(t.sizeof("ratelimit_state"), 8)
        m.write_u32(self.addr + t.offset("ratelimit_state.interval"), 5 * k.HZ)
        m.write_u32(self.addr + t.offset("ratelimit_state.burst"), 10)
        self.func = m.alloc_kdata(16, 8)
        m.write(self.func, b"net_ratelimit\0")


@export("int net_ratelimit(void)")
def net_ratelimit(k):
    state = k.model(NetRatelimit)
    return ___ratelimit(k, state.addr, state.func)
