"""net/core/dst.c: routing cache entries.

kemu routes nothing, so no ``struct dst_entry`` exists for a module to hold:
``dst_release(NULL)`` does nothing, as in the kernel; any other pointer did
not come from the kernel's routing code and is reported (not-modelled).
"""
from kemu import export


@export("void dst_release(struct dst_entry *dst)")
def dst_release(k, dst):
    if dst:
        k.finding("not-modelled", f"dst_release({dst:#x}): kemu has no routing cache entries",
                  k.current_module())
