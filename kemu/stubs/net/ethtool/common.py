"""net/ethtool/ioctl.c: conversions between the legacy u32 link modes and the bitmap.

The two helpers drivers (and mii.ko) use to fill ``ethtool_link_ksettings``
from the old 32-bit masks, as 6.1 does them: the bitmap is
__ETHTOOL_LINK_MODE_MASK_NBITS bits; converting back fails (false) when a
mode above bit 31 is set, keeping the low 32 bits. ``ethtool_op_get_link``
and ``ethtool_op_get_ts_info``, the device-independent ethtool_ops methods, and
``ethtool_sprintf`` for get_strings.
"""
from __future__ import annotations

from kemu import export

from kemu.abi.exports import members

from ...lib.find_bit import read_bitmap, write_bitmap

members("struct ethtool_ts_info", "so_timestamping", "phc_index")


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


@export("u32 ethtool_op_get_link(struct net_device *dev)")
def ethtool_op_get_link(k, dev):
    """netif_carrier_ok(dev)."""
    from kemu.abi.toolkit import rd
    return 0 if rd(k, dev, "net_device.state") & 1 << k.target.const(
        "__LINK_STATE_NOCARRIER") else 1


@export("int ethtool_op_get_ts_info(struct net_device *dev, struct ethtool_ts_info *info)")
def ethtool_op_get_ts_info(k, dev, info):
    from kemu.abi.toolkit import wr
    c = k.target.const
    wr(k, info, "ethtool_ts_info.so_timestamping", c("SOF_TIMESTAMPING_TX_SOFTWARE") |
       c("SOF_TIMESTAMPING_RX_SOFTWARE") | c("SOF_TIMESTAMPING_SOFTWARE"), 4)
    wr(k, info, "ethtool_ts_info.phc_index", 0xFFFFFFFF, 4)
    return 0


@export("void ethtool_sprintf(u8 **data, const char *fmt, ...)")
def ethtool_sprintf(k, data, fmt, va):
    """One ETH_GSTRING_LEN (32-byte) string at *data, truncated and NUL-padded; *data moves on."""
    from ...lib.vsprintf import vformat
    text = vformat(k, fmt, va)[:31]
    at = k.machine.read_u64(data)
    k.machine.write(at, text + bytes(32 - len(text)))
    k.machine.write_u64(data, at + 32)
