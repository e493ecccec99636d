"""net/ethtool/ioctl.c: conversions between the legacy u32 link modes and the bitmap.

The two helpers drivers (and mii.ko) use to fill ``ethtool_link_ksettings``
from the old 32-bit masks, as 6.1 does them: the bitmap is
__ETHTOOL_LINK_MODE_MASK_NBITS bits; converting back fails (false) when a
mode above bit 31 is set, keeping the low 32 bits.
"""
from __future__ import annotations

from kemu import export

from ...lib.find_bit import read_bitmap, write_bitmap


def _nbits(k) -> int:
    return k.target.const("__ETHTOOL_LINK_MODE_MASK_NBITS")


@export("void ethtool_convert_legacy_u32_to_link_mode(unsigned long *dst, u32 legacy_u32)")
def ethtool_convert_legacy_u32_to_link_mode(k, dst, legacy_u32):
    write_bitmap(k, dst, _nbits(k), legacy_u32)


@export("bool ethtool_convert_link_mode_to_legacy_u32(u32 *legacy_u32, const unsigned long *src)")
def ethtool_convert_link_mode_to_legacy_u32(k, legacy_u32, src):
    modes = read_bitmap(k, src, _nbits(k)) & ((1 << _nbits(k)) - 1)
    k.machine.write_u32(legacy_u32, modes & 0xFFFFFFFF)
    return not modes >> 32
