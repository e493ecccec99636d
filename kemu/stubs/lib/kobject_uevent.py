"""lib/kobject_uevent.c: add_uevent_var(), filling a struct kobj_uevent_env.

kemu has no userspace listening for uevents; what a module adds to an
environment (from a bus's or class's ->uevent callback) is laid out exactly
as Linux lays it out, with the same limits and warnings.
"""
import errno

from kemu import export
from kemu.abi.exports import members

from .kemu_warn import warn
from .vsprintf import vformat

members("struct kobj_uevent_env", "envp", "envp_idx", "buf", "buflen", "argv")


@export("int add_uevent_var(struct kobj_uevent_env *env, const char *format, ...)")
def add_uevent_var(k, env, fmt, va):
    """Append "KEY=value" to env->buf and point the next env->envp at it."""
    t, m = k.target, k.machine
    nenvp = t.const("UEVENT_NUM_ENVP")
    idx = m.read_s32(env + t.offset("kobj_uevent_env.envp_idx"))
    if idx >= nenvp:
        warn(k, "lib/kobject_uevent.c:675", "add_uevent_var+0x103/0x130",
             "add_uevent_var: too many keys")
        return -errno.ENOMEM
    buflen = m.read_s32(env + t.offset("kobj_uevent_env.buflen"))
    room = t.const("UEVENT_BUFFER_SIZE") - buflen
    text = vformat(k, fmt, va)
    if len(text) >= room:
        warn(k, "lib/kobject_uevent.c:686", "add_uevent_var+0x118/0x130",
             "add_uevent_var: buffer size too small")
        return -errno.ENOMEM
    where = env + t.offset("kobj_uevent_env.buf") + buflen
    m.write(where, text + b"\0")
    m.write_u64(env + t.offset("kobj_uevent_env.envp") + 8 * idx, where)
    m.write_u32(env + t.offset("kobj_uevent_env.envp_idx"), idx + 1)
    m.write_u32(env + t.offset("kobj_uevent_env.buflen"), buflen + len(text) + 1)
    return 0
