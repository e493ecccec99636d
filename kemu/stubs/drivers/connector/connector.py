"""drivers/connector/connector.c and cn_queue.c: the kernel connector's callbacks.

Callbacks are keyed by their ``struct cb_id`` (idx, val); registering an id
already taken is -EINVAL, as ``cn_queue_add_callback`` answers (the booted
kernel's process-events connector holds idx 1, val 1). A callback still
registered after its module's exit is reported. No user space socket is
bound to NETLINK_CONNECTOR in kemu: a broadcast finds no listener (-ESRCH),
a unicast no receiver (-ECONNREFUSED).
"""
from __future__ import annotations

import errno

from kemu import export

from kemu.abi.toolkit import cstr

BOOT_IDS = {(1, 1): "cn_proc"}           # CN_IDX_PROC, CN_VAL_PROC


class Connector:
    """(idx, val) -> callback name of the registered callbacks."""

    def __init__(self, k):
        self.ids: dict[tuple[int, int], str] = dict(BOOT_IDS)


def _id(k, ptr):
    return k.machine.read_u32(ptr), k.machine.read_u32(ptr + 4)


@export("int cn_add_callback(const struct cb_id *id, const char *name, "
        "void (*callback)(struct cn_msg *, struct netlink_skb_parms *))")
def cn_add_callback(k, id_, name, callback):
    model = k.model(Connector)
    key = _id(k, id_)
    if key in model.ids:
        return -errno.EINVAL
    text = cstr(k, name, 64)
    model.ids[key] = text
    k.register("connector callback", key, k.current_module(),
               f"connector callback {text} ({key[0]}:{key[1]})")
    return 0


@export("void cn_del_callback(const struct cb_id *id)")
def cn_del_callback(k, id_):
    key = _id(k, id_)
    if key in BOOT_IDS:
        return
    if k.model(Connector).ids.pop(key, None) is not None:
        k.unregister("connector callback", key)


@export("int cn_netlink_send_mult(struct cn_msg *msg, u16 len, u32 portid, u32 group, "
        "gfp_t gfp_mask)")
def cn_netlink_send_mult(k, msg, len_, portid, group, gfp_mask):
    return -errno.ECONNREFUSED if portid else -errno.ESRCH


@export("int cn_netlink_send(struct cn_msg *msg, u32 portid, u32 group, gfp_t gfp_mask)")
def cn_netlink_send(k, msg, portid, group, gfp_mask):
    return -errno.ECONNREFUSED if portid else -errno.ESRCH
