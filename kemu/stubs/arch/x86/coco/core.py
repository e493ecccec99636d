"""arch/x86/coco/core.c: confidential computing attributes.

kemu's machine is an ordinary guest: no SEV/SME memory encryption and no TDX,
so ``cc_platform_has`` answers false for every attribute, as it does on
such a machine (cc_vendor is CC_VENDOR_NONE).
"""
from __future__ import annotations

from kemu import export


@export("bool cc_platform_has(enum cc_attr attr)")
def cc_platform_has(k, attr):
    return False
