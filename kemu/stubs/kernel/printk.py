"""kernel/printk/printk.c: printk into the kernel log ring."""
from kemu import export
from kemu.abi.exports import VaList

from ..lib.vsprintf import _Mem, _Sym, _va_format, format_string, vformat  # noqa: F401


def vprintk_emit(k, text: bytes) -> int:
    """Store a formatted message; returns printk's count of bytes stored."""
    entry = k.current_entry.name if k.current_entry else ""
    return k.log.printk(text, caller=entry)


@export("int printk(const char *fmt, ...)", until="5.15")
@export("int _printk(const char *fmt, ...)", since="5.15")
def _printk(k, fmt, va):
    return vprintk_emit(k, vformat(k, fmt, va))


@export("int vprintk(const char *fmt, va_list args)")
def vprintk(k, fmt, args):
    return vprintk_emit(k, vformat(k, fmt, VaList(k.machine, args)))


@export("int vprintk_emit(int facility, int level, const struct dev_printk_info *dev_info, "
        "const char *fmt, va_list args)")
def _vprintk_emit(k, facility, level, dev_info, fmt, args):
    text = vformat(k, fmt, VaList(k.machine, args))
    if level >= 0:
        text = bytes([1, 0x30 + level]) + text
    return vprintk_emit(k, text)


@export("int printk_deferred(const char *fmt, ...)", until="5.15")
@export("int _printk_deferred(const char *fmt, ...)", since="5.15")
def _printk_deferred(k, fmt, va):
    return vprintk_emit(k, vformat(k, fmt, va))


@export("int __printk_ratelimit(const char *func)")
def __printk_ratelimit(k, func):
    return 1


@export("bool printk_timed_ratelimit(unsigned long *caller_jiffies, unsigned int interval_msec)")
def printk_timed_ratelimit(k, caller_jiffies, interval_msec):
    return True
