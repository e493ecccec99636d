"""parse_args() of kernel/params.c, run over a module's ``__param`` table.

The argument string is copied into kernel memory (the kernel's ``mod->args``)
and split in place exactly as ``next_arg`` does, so values handed to a
``kernel_param_ops.set`` callback are NUL-terminated strings in that buffer.
Each ``set`` runs as emulated code: the kernel's ``param_set_*`` are exports
modelled in ``stubs/kernel/params.py``, and a module's own ops are its own code.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass

from kemu.errors import LoadError
from kemu.kernel.log import KERN_ERR, KERN_NOTICE, KERN_WARNING

KERNEL_PARAM_OPS_FL_NOARG = 1
KERNEL_PARAM_FL_UNSAFE = 1 << 0
_SPACE = b" \t\n\v\f\r"


@dataclass
class KernelParam:
    """One ``struct kernel_param`` of a module."""
    addr: int
    name: str
    ops_addr: int
    perm: int
    level: int
    flags: int
    arg: int


def read_params(k, mod) -> list[KernelParam]:
    """The module's ``__param`` table, read from its relocated memory."""
    addr = mod.sections.get("__param")
    if not addr:
        return []
    t, m = k.target, k.machine
    size = t.sizeof("kernel_param")
    sec = next(s for s in mod.image.sections if s.name == "__param")
    out = []
    for i in range(sec.sh_size // size):
        kp = addr + i * size
        name_addr = m.read_u64(kp + t.offset("kernel_param.name"))
        level = m.read_u8(kp + t.offset("kernel_param.level"))
        out.append(KernelParam(
            kp, m.read_cstr(name_addr, 256).decode("latin-1"),
            m.read_u64(kp + t.offset("kernel_param.ops")),
            m.read_u16(kp + t.offset("kernel_param.perm")),
            level - 256 if level > 127 else level,
            m.read_u8(kp + t.offset("kernel_param.flags")),
            m.read_u64(kp + t.offset("kernel_param.arg"))))
    return out


def parameq(a: str, b: str) -> bool:
    """parameq(): names are equal when '-' and '_' are taken as the same."""
    return a.replace("-", "_") == b.replace("-", "_")


def next_arg(buf: bytearray, pos: int):
    """next_arg(): split one ``param[=val]`` at ``pos``, writing NULs into ``buf``.

    Returns (param_offset, val_offset or None, next_pos).
    """
    in_quote = quoted = False
    if pos < len(buf) and buf[pos] == ord('"'):
        pos += 1
        in_quote = quoted = True
    i, equals = 0, 0
    while pos + i < len(buf) and buf[pos + i]:
        ch = buf[pos + i]
        if ch in _SPACE and not in_quote:
            break
        if equals == 0 and ch == ord("="):
            equals = i
        if ch == ord('"'):
            in_quote = not in_quote
        i += 1
    param = pos
    if not equals:
        val = None
    else:
        buf[pos + equals] = 0
        val = pos + equals + 1
        if buf[val] == ord('"'):
            val += 1
            if buf[pos + i - 1] == ord('"'):
                buf[pos + i - 1] = 0
    if quoted and i > 0 and buf[pos + i - 1] == ord('"'):
        buf[pos + i - 1] = 0
    if pos + i < len(buf) and buf[pos + i]:
        buf[pos + i] = 0
        nxt = pos + i + 1
    else:
        nxt = pos + i
    while nxt < len(buf) and buf[nxt] and buf[nxt] in _SPACE:
        nxt += 1
    return param, val, nxt


def _cstr(buf: bytearray, off: int) -> str:
    end = buf.index(0, off)
    return buf[off:end].decode("utf-8", "backslashreplace")


def parse_args(k, mod, info) -> None:
    """Parse ``mod.args`` against the module's parameters; raises on a bad value."""
    params = read_params(k, mod)
    mod.params = params
    text = mod.args.encode()
    if not text.strip(_SPACE):
        return
    m = k.machine
    buf = bytearray(text + b"\0")
    args_addr = k.heap.alloc(len(buf), kind="module args", owner=mod.name)
    k.module_args[mod.name] = args_addr
    pos = 0
    while pos < len(buf) and buf[pos] in _SPACE:
        pos += 1
    err = 0
    doing = mod.name
    while pos < len(buf) and buf[pos]:
        p_off, v_off, pos = next_arg(buf, pos)
        param = _cstr(buf, p_off)
        val = _cstr(buf, v_off) if v_off is not None else None
        if val is None and param == "--":
            rest = _cstr(buf, pos) if pos < len(buf) else ""
            if rest:
                k.log.emit(KERN_WARNING, f"{mod.name}: parameters '{rest}' after `--' ignored")
            break
        m.write(args_addr, bytes(buf))
        ret = parse_one(k, mod, params, param, val,
                        args_addr + v_off if v_off is not None else 0)
        buf[:] = m.read(args_addr, len(buf))       # set() may split the value in place
        val = _cstr(buf, v_off) if v_off is not None else None
        if ret == 0:
            continue
        if ret == -errno.ENOENT:
            k.log.emit(KERN_ERR, f"{doing}: Unknown parameter `{param}'")
        elif ret == -errno.ENOSPC:
            k.log.emit(KERN_ERR, f"{doing}: `{val or ''}' too large for parameter `{param}'")
        else:
            k.log.emit(KERN_ERR, f"{doing}: `{val or ''}' invalid for parameter `{param}'")
        err = ret
    if err:
        raise LoadError(f"{mod.name}: invalid module parameters", -err)


def parse_one(k, mod, params, param: str, val: str | None, val_addr: int) -> int:
    """parse_one(): find the parameter and call its ``ops->set`` in emulation."""
    t, m = k.target, k.machine
    for kp in params:
        if not parameq(param, kp.name):
            continue
        ops_flags = m.read_u32(kp.ops_addr + t.offset("kernel_param_ops.flags"))
        if val is None and not ops_flags & KERNEL_PARAM_OPS_FL_NOARG:
            return -errno.EINVAL
        if kp.flags & KERNEL_PARAM_FL_UNSAFE:
            k.log.emit(KERN_NOTICE, f"Setting dangerous option {param} - tainting kernel")
            k.add_taint("U")
        set_addr = m.read_u64(kp.ops_addr + t.offset("kernel_param_ops.set"))
        ret = k.call(set_addr, val_addr, kp.addr, entry=f"{mod.name} param {kp.name}",
                     module=mod) & 0xFFFFFFFF
        return ret - (1 << 32) if ret >> 31 else ret
    # unknown_module_param_cb
    if param != "async_probe" and param != "dyndbg":
        k.log.emit(KERN_WARNING, f"{mod.name}: unknown parameter '{param}' ignored")
    return 0


def format_params(params: dict) -> str:
    """``name=value`` words for keyword parameters (lists joined by commas,
    booleans Y/N, values with spaces quoted)."""
    words = []
    for name, value in params.items():
        if isinstance(value, bool):
            value = "Y" if value else "N"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        value = str(value)
        if any(ch.isspace() for ch in value):
            value = f'"{value}"'
        words.append(f"{name}={value}")
    return " ".join(words)
