"""drivers/char/hw_random/core.c: hardware random number generators.

``hwrng_register`` refuses a nameless rng or one without ``read`` /
``data_read`` (-EINVAL) and a name already registered (-EEXIST); the rng
joins ``rng_list`` (a real list through ``rng->list``). With no current rng
(kemu's machine has no other), or a better quality one not chosen by the
user, it becomes current: its ``init`` runs in emulation (a failure fails the
registration) and 32 bytes are read from it for early randomness, as the
kernel does. ``hwrng_unregister`` drops it, calls ``cleanup`` if it was
current and switches to the best remaining rng. The khwrngd thread that
would keep feeding the entropy pool is not started (kemu notes it).

Python API: ``hwrngs(k) -> [(name, owner module name, current)]``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, init_list_head, list_add_tail, list_del, rd, s32

members("struct hwrng", "name", "init", "cleanup", "data_present", "data_read", "read",
        "quality", "list", "priv", "ref", "cleanup_done", "dying")


class Rngs:
    """rng_list, current_rng, the users' choice flag."""

    def __init__(self, k):
        self.k = k
        self.head = k.machine.alloc_kdata(k.target.sizeof("list_head"), 8)
        init_list_head(k, self.head)
        self.rngs: list[int] = []
        self.current = 0
        self.set_by_user = False


def _name(k, rng):
    return cstr(k, rd(k, rng, "hwrng.name"), 64)


def _quality(k, rng):
    return rd(k, rng, "hwrng.quality", 2)


def _init(k, rng):
    """hwrng_init(): rng->init(), 0 or -errno (generator)."""
    fn = rd(k, rng, "hwrng.init")
    if fn:
        ret = s32((yield k.call_request(fn, rng)))
        if ret:
            return ret
    k.note("hwrng: khwrngd (feeding the entropy pool) is not started in kemu")
    return 0


def _cleanup(k, rng):
    fn = rd(k, rng, "hwrng.cleanup")
    if fn:
        yield k.call_request(fn, rng)


def _early_randomness(k, rng):
    """add_early_randomness(): one 32-byte read (wait = 0)."""
    buf = k.heap.alloc(32, kind="rng_buffer", zero=True)
    try:
        read = rd(k, rng, "hwrng.read")
        if read:
            yield k.call_request(read, rng, buf, 32, 0)
            return
        present = rd(k, rng, "hwrng.data_present")
        if present and not s32((yield k.call_request(present, rng, 0))):
            return
        data_read = rd(k, rng, "hwrng.data_read")
        if data_read:
            yield k.call_request(data_read, rng, buf)
    finally:
        k.heap.free(buf)


@export("int hwrng_register(struct hwrng *rng)")
def hwrng_register(k, rng):
    model = k.model(Rngs)
    if not rd(k, rng, "hwrng.name") or not (rd(k, rng, "hwrng.data_read")
                                            or rd(k, rng, "hwrng.read")):
        return -errno.EINVAL
    name = _name(k, rng)
    if any(_name(k, r) == name for r in model.rngs):
        return -errno.EEXIST
    list_add_tail(k, rng + k.target.offset("hwrng.list"), model.head)
    model.rngs.append(rng)
    old = model.current
    if not old or (not model.set_by_user and _quality(k, rng) > _quality(k, old)):
        err = yield from _init(k, rng)
        if err:
            list_del(k, rng + k.target.offset("hwrng.list"))
            model.rngs.remove(rng)
            return err
        if old:
            yield from _cleanup(k, old)
        model.current = rng
        yield from _early_randomness(k, rng)
    elif not rd(k, rng, "hwrng.init"):
        yield from _early_randomness(k, rng)
    owner = k.current_module()
    k.register("hwrng", rng, owner, f"hwrng {name}")
    return 0


@export("void hwrng_unregister(struct hwrng *rng)")
def hwrng_unregister(k, rng):
    model = k.model(Rngs)
    if rng not in model.rngs:
        return
    list_del(k, rng + k.target.offset("hwrng.list"))
    model.rngs.remove(rng)
    if model.current == rng:
        model.current = 0
        yield from _cleanup(k, rng)
        # enable_best_rng()
        if model.rngs:
            best = max(model.rngs, key=lambda r: _quality(k, r))
            if not (yield from _init(k, best)):
                model.current = best
        model.set_by_user = False
    k.unregister("hwrng", rng)


def hwrngs(k) -> list:
    """[(name, owner module name or None, is current)] in rng_list order."""
    model = k.model(Rngs)
    out = []
    for r in model.rngs:
        reg = k.registrations.get(("hwrng", r))
        out.append((_name(k, r), reg.owner.name if reg and reg.owner else None,
                    r == model.current))
    return out
