"""fs/fs_parser.c: a filesystem's mount options against its fs_parameter_spec table.

``__fs_parse`` is fs_lookup_key() (the name, a flag wanting no value, "noX"
for a spec with fs_param_neg_with_no) and the spec's type checker, called
through its pointer as the kernel does: the ``fs_param_is_*`` checkers of
bool, u32 (``data`` the base), s32, u64, enum (``data`` a constant_table),
string; a bad value is "Bad value for 'KEY'" in the log with the context's
prefix (inval_plog()), -EINVAL; an unknown key -ENOPARAM.

Left out: blob, blockdev, path and fd parameters (-EINVAL, "Bad value").
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import cstr, rd, s32, wr

from .fs_context import log_message

members("struct fs_parameter_spec", "name", "type", "opt", "flags", "data")
members("struct fs_parameter", "key", "type", "string", "size")
members("struct fs_parse_result", "negated", "uint_64")
members("struct p_log", "prefix", "log")
members("struct constant_table", "name", "value")

FS_PARAM_NEG_WITH_NO = 0x0002           # include/linux/fs_parser.h
FS_PARAM_CAN_BE_EMPTY = 0x0004
FS_PARAM_DEPRECATED = 0x0008
BOOL_NAMES = {"0": 0, "1": 1, "false": 0, "no": 0, "true": 1, "yes": 1}
_PARSE = ("int {name}(struct p_log *log, const struct fs_parameter_spec *p, "
          "struct fs_parameter *param, struct fs_parse_result *result)")


def _specs(k, desc: int):
    size = k.target.sizeof("fs_parameter_spec")
    p = desc
    while rd(k, p, "fs_parameter_spec.name"):
        yield p
        p += size


def _is_string(k, param: int) -> bool:
    return rd(k, param, "fs_parameter.type", 4) == k.target.const("fs_value_is_string")


def bad_value(k, log: int, param: int) -> int:
    """fs_param_bad_value(): inval_plog(log, "Bad value for '%s'", key)."""
    log_message(k, cstr(k, rd(k, log, "p_log.prefix")) if log else "", "e",
                f"Bad value for '{cstr(k, rd(k, param, 'fs_parameter.key'))}'")
    return -errno.EINVAL


def _value(k, p: int, param: int):
    """The string value, '' when empty and allowed, None when the type is wrong."""
    if not _is_string(k, param):
        return None
    text = cstr(k, rd(k, param, "fs_parameter.string"))
    if not text and not rd(k, p, "fs_parameter_spec.flags", 2) & FS_PARAM_CAN_BE_EMPTY:
        return None
    return text


def _set(k, result: int, value: int, size: int) -> None:
    k.machine.write(result + k.target.offset("fs_parse_result.uint_64"),
                    (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))


def _int_param(k, log, p, param, result, size: int, signed: bool, base=None):
    text = _value(k, p, param)
    if text is None:
        return bad_value(k, log, param)
    if not text:
        return 0
    if base is None:
        base = rd(k, p, "fs_parameter_spec.data") or 0
    try:
        v = int(text, base)
    except ValueError:
        return bad_value(k, log, param)
    lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else \
        (0, (1 << (8 * size)) - 1)
    if not lo <= v <= hi:
        return bad_value(k, log, param)
    _set(k, result, v, size)
    return 0


@export(_PARSE.format(name="fs_param_is_u32"))
def fs_param_is_u32(k, log, p, param, result):
    return _int_param(k, log, p, param, result, 4, False)


@export(_PARSE.format(name="fs_param_is_s32"))
def fs_param_is_s32(k, log, p, param, result):
    return _int_param(k, log, p, param, result, 4, True, base=0)


@export(_PARSE.format(name="fs_param_is_u64"))
def fs_param_is_u64(k, log, p, param, result):
    return _int_param(k, log, p, param, result, 8, False, base=0)


@export(_PARSE.format(name="fs_param_is_bool"))
def fs_param_is_bool(k, log, p, param, result):
    text = _value(k, p, param)
    if text is None or text and text not in BOOL_NAMES:
        return bad_value(k, log, param)
    if text:
        _set(k, result, BOOL_NAMES[text], 1)
    return 0


@export(_PARSE.format(name="fs_param_is_enum"))
def fs_param_is_enum(k, log, p, param, result):
    text = _value(k, p, param)
    if text is None:
        return bad_value(k, log, param)
    if not text:
        return 0
    table = rd(k, p, "fs_parameter_spec.data")
    size = k.target.sizeof("constant_table")
    while table and rd(k, table, "constant_table.name"):
        if cstr(k, rd(k, table, "constant_table.name")) == text:
            _set(k, result, rd(k, table, "constant_table.value", 4), 4)
            return 0
        table += size
    return bad_value(k, log, param)


@export(_PARSE.format(name="fs_param_is_string"))
def fs_param_is_string(k, log, p, param, result):
    return 0 if _value(k, p, param) is not None else bad_value(k, log, param)


for _kind in ("blob", "blockdev", "path", "fd"):
    export(_PARSE.format(name=f"fs_param_is_{_kind}"))(
        lambda k, log, p, param, result: bad_value(k, log, param))


@export("int __fs_parse(struct p_log *log, const struct fs_parameter_spec *desc, "
        "struct fs_parameter *param, struct fs_parse_result *result)")
def __fs_parse(k, log, desc, param, result):
    key = cstr(k, rd(k, param, "fs_parameter.key"))
    want_flag = rd(k, param, "fs_parameter.type", 4) == k.target.const("fs_value_is_flag")
    wr(k, result, "fs_parse_result.uint_64", 0)
    k.machine.write_u8(result + k.target.offset("fs_parse_result.negated"), 0)
    found, negated = 0, False
    for p in _specs(k, desc):
        if cstr(k, rd(k, p, "fs_parameter_spec.name")) != key:
            continue
        if (rd(k, p, "fs_parameter_spec.type") == 0) == want_flag:
            found = p
            break
        found = found or p
    if not found and want_flag and key.startswith("no") and len(key) > 2:
        for p in _specs(k, desc):
            if cstr(k, rd(k, p, "fs_parameter_spec.name")) == key[2:] and \
                    rd(k, p, "fs_parameter_spec.flags", 2) & FS_PARAM_NEG_WITH_NO:
                found, negated = p, True
                break
    if not found:
        return -k.target.const("ENOPARAM")
    k.machine.write_u8(result + k.target.offset("fs_parse_result.negated"), int(negated))
    prefix = cstr(k, rd(k, log, "p_log.prefix")) if log else ""
    if rd(k, found, "fs_parameter_spec.flags", 2) & FS_PARAM_DEPRECATED:
        log_message(k, prefix, "w", f"Deprecated parameter '{key}'")
    checker = rd(k, found, "fs_parameter_spec.type")
    if not checker:
        if not want_flag:
            log_message(k, prefix, "e", f"Unexpected value for '{key}'")
            return -errno.EINVAL
        k.machine.write_u8(result + k.target.offset("fs_parse_result.uint_64"), int(not negated))
    else:
        ret = s32((yield k.call_request(checker, log, found, param, result)))
        if ret:
            return ret
    return k.machine.read_u8(found + k.target.offset("fs_parameter_spec.opt"))
