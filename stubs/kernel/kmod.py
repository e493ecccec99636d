"""kernel/kmod.c: request_module(). kemu runs no modprobe; the request fails."""
import errno

from kemu import export

from .printk import vformat


@export("int __request_module(bool wait, const char *fmt, ...)")
def __request_module(k, wait, fmt, va):
    """No userspace modprobe exists in kemu: report the request, return -ENOENT."""
    name = vformat(k, fmt, va).decode("utf-8", "replace")
    k.note(f"request_module({name}): kemu has no modprobe; load it yourself first")
    return -errno.ENOENT
