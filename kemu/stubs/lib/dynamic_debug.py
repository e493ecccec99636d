"""lib/dynamic_debug.c: pr_debug()/dev_dbg() sites, off unless enabled."""
from kemu import export

from ..kernel.printk import vformat, vprintk_emit


class DynamicDebug:
    """Which modules have their pr_debug sites switched on (dyndbg=+p)."""

    def __init__(self, k):
        self.enabled_modules = set()


def _enabled(k, descriptor) -> bool:
    return bool(k.model(DynamicDebug).enabled_modules)


@export("void __dynamic_pr_debug(struct _ddebug *descriptor, const char *fmt, ...)")
def __dynamic_pr_debug(k, descriptor, fmt, va):
    if _enabled(k, descriptor):
        vprintk_emit(k, b"\x017" + vformat(k, fmt, va))


@export("void __dynamic_dev_dbg(struct _ddebug *descriptor, const struct device *dev, "
        "const char *fmt, ...)")
def __dynamic_dev_dbg(k, descriptor, dev, fmt, va):
    if _enabled(k, descriptor):
        vprintk_emit(k, b"\x017" + vformat(k, fmt, va))


@export("void __dynamic_netdev_dbg(struct _ddebug *descriptor, const struct net_device *dev, "
        "const char *fmt, ...)")
def __dynamic_netdev_dbg(k, descriptor, dev, fmt, va):
    if _enabled(k, descriptor):
        vprintk_emit(k, b"\x017" + vformat(k, fmt, va))
