"""lib/refcount.c: the out-of-line refcount_t helpers."""
from kemu import export

from .kemu_warn import warn_once

UINT_MAX = 0xFFFFFFFF
# (line, offset in refcount_warn_saturate, text) per enum refcount_saturation_type, as
# Debian's 6.1.0-56 reports them (recorded by tests/expected/stubs_crypto_lib)
_EVENTS = {0: (19, 0x74, "saturated; leaking memory"), 1: (22, 0x51, "saturated; leaking memory"),
           2: (25, 0x97, "addition on 0; use-after-free"), 3: (28, 0xBA, "underflow; use-after-free"),
           4: (31, 0xFB, "decrement hit 0; leaking memory")}
_UNKNOWN = (34, 0xDD, "unknown saturation event!?")         # offset not recorded


def _refs(k, r):
    return k.machine.read_u32(r)


@export("void refcount_warn_saturate(refcount_t *r, enum refcount_saturation_type t)")
def refcount_warn_saturate(k, r, t):
    k.machine.write_u32(r, k.target.const("REFCOUNT_SATURATED"))
    line, where, text = _EVENTS.get(t, _UNKNOWN)
    warn_once(k, f"lib/refcount.c:{line}", f"refcount_warn_saturate+{where:#x}/0x110",
              f"refcount_t: {text}.")


@export("bool refcount_dec_if_one(refcount_t *r)")
def refcount_dec_if_one(k, r):
    if _refs(k, r) == 1:
        k.machine.write_u32(r, 0)
        return True
    return False


@export("bool refcount_dec_not_one(refcount_t *r)")
def refcount_dec_not_one(k, r):
    val = _refs(k, r)
    if val == UINT_MAX:
        return True
    if val == 1:
        return False
    new = (val - 1) & UINT_MAX
    if new > val:
        warn_once(k, "lib/refcount.c:87", "refcount_dec_not_one+0x48/0x50",
                  "refcount_t: underflow; use-after-free.")
        return True
    k.machine.write_u32(r, new)
    return True
