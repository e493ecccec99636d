"""lib/dump_stack.c: dump_stack() and dump_stack_lvl(), printed as the kernel does.

The CPU/hardware lines, then the call trace unwound from the module code
that called it (KERN_DEFAULT, the default console loglevel 4 for dump_stack()).
"""
from kemu import export
from kemu.kernel.log import DEFAULT_MESSAGE_LOGLEVEL

KERN_DEFAULT_LEVEL = DEFAULT_MESSAGE_LOGLEVEL    # dump_stack() prints at KERN_DEFAULT


def _dump(k, level: int) -> None:
    k.dump_stack(level)


@export("void dump_stack(void)")
def dump_stack(k):
    _dump(k, KERN_DEFAULT_LEVEL)


@export("void dump_stack_lvl(const char *log_lvl)")
def dump_stack_lvl(k, log_lvl):
    """``log_lvl`` is a KERN_<LEVEL> string ("\\0013"...)."""
    text = k.machine.read_cstr(log_lvl, 3) if log_lvl else b""
    level = text[1] - 0x30 if len(text) >= 2 and text[0] == 1 and 0x30 <= text[1] <= 0x37 \
        else KERN_DEFAULT_LEVEL
    _dump(k, level)
