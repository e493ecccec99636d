"""fs/fs_context.c: the filesystem context of a mount, and its log.

:func:`alloc_fs_context` is fs_context_for_mount(): a ``struct fs_context``
(``fs_type``, ``purpose``, ``sb_flags``, ``cred``, ``user_ns``, ``log.prefix``
the type's name) and the type's ``init_fs_context``; a type without one is a
legacy type whose ``mount`` is called directly (legacy_get_tree()). Options
are passed as generic_parse_monolithic() passes them: split at commas, each
offered to the context's ``parse_param`` (a string ``struct fs_parameter``);
-ENOPARAM for "source" sets ``fc->source``, for anything else is
"Unknown parameter" (-EINVAL), as vfs_parse_fs_param() says it.
``logfc`` prints to the kernel log (a mount(2) context has no fc_log);
errorf()/invalf()/warnf() on a context pass no prefix, as in 6.1.

Left out: fsopen()/fsconfig() (the context's log buffer), reconfiguration
(remount), security_fs_context hooks, the fs_parameter types other than
strings and flags.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import cstr, kfree, kstrdup, rd, s32, wr
from kemu.kernel.log import KERN_ERR, KERN_NOTICE, KERN_WARNING

from ..kernel.process import current_cred
from ..lib.vsprintf import vformat

members("struct fs_context", "ops", "fs_type", "fs_private", "sget_key", "root", "user_ns",
        "net_ns", "cred", "log", "source", "security", "s_fs_info", "sb_flags",
        "sb_flags_mask", "s_iflags", "purpose")
members("struct fs_context_operations", "free", "dup", "parse_param", "parse_monolithic",
        "get_tree", "reconfigure")
members("struct p_log", "prefix", "log")
members("struct fs_parameter", "key", "type", "string", "size", "dirfd")
members("struct file_system_type", "name", "init_fs_context", "mount", "kill_sb", "fs_flags")


def log_message(k, prefix: str, level: str, text: str) -> None:
    """logfc() with no fc_log: printk at the level's KERN_*."""
    lvl = {"w": KERN_WARNING, "e": KERN_ERR}.get(level, KERN_NOTICE)
    k.log.emit(lvl, (f"{prefix}: " if prefix else "") + text)


@export("void logfc(struct fc_log *log, const char *prefix, char level, const char *fmt, ...)")
def logfc(k, log, prefix, level, fmt, va):
    text = vformat(k, fmt, va).decode("utf-8", "replace")
    log_message(k, cstr(k, prefix), chr(level & 0xFF), text)


def alloc_fs_context(k, fs_type: int, sb_flags: int):
    """fs_context_for_mount(): a generator returning (fc, 0) or (fc, -errno)."""
    t = k.target
    fc = k.heap.alloc(t.sizeof("fs_context"), kind="fs_context", zero=True)
    wr(k, fc, "fs_context.purpose", t.const("FS_CONTEXT_FOR_MOUNT"), 1)
    wr(k, fc, "fs_context.sb_flags", sb_flags, 4)
    wr(k, fc, "fs_context.fs_type", fs_type)
    wr(k, fc, "fs_context.cred", current_cred(k))
    wr(k, fc, "fs_context.user_ns", k.export_addr("init_user_ns"))
    wr(k, fc + t.offset("fs_context.log"), "p_log.prefix", rd(k, fs_type, "file_system_type.name"))
    init = rd(k, fs_type, "file_system_type.init_fs_context")
    if init:
        err = s32((yield k.call_request(init, fc)))
        return fc, err
    return fc, 0


def fc_op(k, fc: int, name: str) -> int:
    ops = rd(k, fc, "fs_context.ops")
    return rd(k, ops, f"fs_context_operations.{name}") if ops else 0


def parse_options(k, fc: int, source: str, options: list[str]):
    """vfs_parse_fs_string("source") then each option: a generator returning 0 or -errno."""
    t = k.target
    name = cstr(k, rd(k, rd(k, fc, "fs_context.fs_type"), "file_system_type.name"))
    for key, value in [("source", source)] + [(o.split("=", 1)[0], o.split("=", 1)[1]
                                                if "=" in o else None) for o in options if o]:
        param = k.heap.alloc(t.sizeof("fs_parameter"), kind="fs_parameter", zero=True)
        key_at = kstrdup(k, key)
        str_at = kstrdup(k, value) if value is not None else 0
        try:
            wr(k, param, "fs_parameter.key", key_at)
            wr(k, param, "fs_parameter.type", t.const("fs_value_is_string") if value is not None
               else t.const("fs_value_is_flag"), 4)
            wr(k, param, "fs_parameter.string", str_at)
            wr(k, param, "fs_parameter.size", len(value.encode()) if value is not None else 0)
            ret = -t.const("ENOPARAM")
            parse = fc_op(k, fc, "parse_param")
            if parse:
                ret = s32((yield k.call_request(parse, fc, param)))
            if ret != -t.const("ENOPARAM"):
                if ret:
                    return ret
                continue
            if key == "source":
                if rd(k, fc, "fs_context.source"):
                    log_message(k, "", "e", "VFS: Multiple sources")
                    return -errno.EINVAL
                wr(k, fc, "fs_context.source", str_at)
                str_at = 0
                continue
            log_message(k, "", "e", f"{name}: Unknown parameter '{key}'")
            return -errno.EINVAL
        finally:
            kfree(k, key_at)
            kfree(k, str_at) if str_at else None
            kfree(k, param)
    return 0


def put_fs_context(k, fc: int):
    """put_fs_context(): the context's free op, then the context."""
    free = fc_op(k, fc, "free")
    if free:
        yield k.call_request(free, fc)
    src = rd(k, fc, "fs_context.source")
    if src:
        kfree(k, src)
    kfree(k, fc)
