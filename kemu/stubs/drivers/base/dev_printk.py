"""drivers/base/core.c: dev_printk() and friends, dev_err_probe().

``__dev_printk`` prefixes the message with ``dev_driver_string(dev)`` and
``dev_name(dev)`` (``"%s %s: %pV"``), or ``"(NULL device *): "`` without a
device, at the level of the function. ``dev_err_probe`` prints ``error %pe:``
before the message for every error but -EPROBE_DEFER, which it records as the
device's deferred-probe reason instead (printed at debug level only).
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import VaList
from kemu.kernel.log import KERN_ERR

from kemu.stubs.lib.vsprintf import vformat
from ...lib.vsprintf import errname

EPROBE_DEFER = 517


def dev_prefix(k, dev) -> bytes:
    """``"<driver string> <dev_name>: "`` as __dev_printk prints it."""
    from .base import dev_driver_string_of, dev_name
    if not dev:
        return b"(NULL device *): "
    return f"{dev_driver_string_of(k, dev)} {dev_name(k, dev)}: ".encode(
        "utf-8", "surrogateescape")


def dev_emit(k, level: int, dev, text: bytes) -> int:
    """dev_printk_emit(): one record at ``level`` with the device prefix."""
    from ...kernel.printk import vprintk_emit
    return vprintk_emit(k, bytes([1, 0x30 + level]) + dev_prefix(k, dev) + text)


def _make(name: str, level: int):
    def fn(k, dev, fmt, va):
        dev_emit(k, level, dev, vformat(k, fmt, va))
    fn.__name__ = name
    fn.__doc__ = f"{name}(): dev_printk at KERN_{level}."
    export(f"void {name}(const struct device *dev, const char *fmt, ...)")(fn)


for _name, _level in (("_dev_emerg", 0), ("_dev_alert", 1), ("_dev_crit", 2), ("_dev_err", 3),
                      ("_dev_warn", 4), ("_dev_notice", 5), ("_dev_info", 6)):
    _make(_name, _level)


def _level_of(k, level_addr) -> tuple[int, bytes]:
    """A KERN_<LEVEL> string: (level or -1, the bytes after the level)."""
    raw = k.machine.read_cstr(level_addr, 8) if level_addr else b""
    if len(raw) >= 2 and raw[0] == 1 and 0x30 <= raw[1] <= 0x37:
        return raw[1] - 0x30, raw[2:]
    return -1, raw


# 5.10 exports dev_printk(); 5.12 made it a macro over _dev_printk()
@export("void dev_printk(const char *level, const struct device *dev, const char *fmt, ...)",
        until="6.1")
@export("void _dev_printk(const char *level, const struct device *dev, const char *fmt, ...)")
def _dev_printk(k, level, dev, fmt, va):
    from ...kernel.printk import vprintk_emit
    lvl, _rest = _level_of(k, level)
    head = bytes([1, 0x30 + lvl]) if lvl >= 0 else b""
    vprintk_emit(k, head + dev_prefix(k, dev) + vformat(k, fmt, va))


@export("int dev_vprintk_emit(int level, const struct device *dev, const char *fmt, "
        "va_list args)")
def dev_vprintk_emit(k, level, dev, fmt, args):
    from ...kernel.printk import vprintk_emit
    head = bytes([1, 0x30 + level]) if 0 <= level <= 7 else b""
    return vprintk_emit(k, head + vformat(k, fmt, VaList(k.machine, args)))


@export("int dev_printk_emit(int level, const struct device *dev, const char *fmt, ...)")
def dev_printk_emit(k, level, dev, fmt, va):
    from ...kernel.printk import vprintk_emit
    head = bytes([1, 0x30 + level]) if 0 <= level <= 7 else b""
    return vprintk_emit(k, head + vformat(k, fmt, va))


class DeferredReasons:
    """device_set_deferred_probe_reason(): dev -> reason text."""

    def __init__(self, k):
        self.reasons: dict[int, str] = {}


def _errname(err: int) -> str:
    """%pe of ERR_PTR(err): lib/errname.c's name, else the number."""
    return errname(err) or str(err)


@export("int dev_err_probe(const struct device *dev, int err, const char *fmt, ...)")
def dev_err_probe(k, dev, err, fmt, va):
    text = vformat(k, fmt, va)
    if err != -EPROBE_DEFER:
        dev_emit(k, KERN_ERR, dev, f"error {_errname(err)}: ".encode("utf-8", "surrogateescape") + text)
    else:
        k.model(DeferredReasons).reasons[dev] = text.decode("utf-8", "surrogateescape")
    return err

