"""arch/x86/kernel/alternative.c: what modules link against there.

``BUG_func`` (not in 6.1; in 6.12): the
placeholder target of a paravirt call's replacement (``ALT_CALL_INSTR``,
ALT_FLAG_DIRECT_CALL), which apply_alternatives() rewrites into a direct call
of the pv_ops target on every CPU. kemu leaves a module's alternatives as they
are (kemu/module/loader.py module_finalize()), so the original indirect call
through pv_ops runs and only a deliberate call reaches BUG_func.

Leaves out: the patching itself (alternatives, retpolines, call thunks).
"""
from kemu import export

from ....lib.kemu_warn import bug


@export("void BUG_func(void)", since="6.12")
def BUG_func(k):
    bug(k, "arch/x86/kernel/alternative.c:517")       # 6.12.118
