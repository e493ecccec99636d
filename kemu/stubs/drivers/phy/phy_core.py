"""drivers/phy/phy-core.c: generic PHY consumers, without PHY providers.

kemu's machine registers no PHY provider, so a consumer only ever holds the
NULL of an optional PHY, on which every operation succeeds doing nothing,
as in the kernel. A real PHY pointer cannot exist: using one is reported.
"""
from __future__ import annotations

from kemu import export

from kemu.abi.exports import not_modelled

_WHY = "kemu's machine has no PHY provider"


def _op(name, proto):
    def fn(k, phy, *args):
        if phy:
            not_modelled(k, name, _WHY)
            return -22
        return 0
    fn.__name__ = name
    fn.__doc__ = f"{name}(): 0 for the NULL optional PHY."
    export(proto)(fn)


for _n, _p in (("phy_init", "int phy_init(struct phy *phy)"),
               ("phy_exit", "int phy_exit(struct phy *phy)"),
               ("phy_power_on", "int phy_power_on(struct phy *phy)"),
               ("phy_power_off", "int phy_power_off(struct phy *phy)"),
               ("phy_calibrate", "int phy_calibrate(struct phy *phy)"),
               ("phy_set_mode_ext", "int phy_set_mode_ext(struct phy *phy, enum phy_mode mode, "
                                    "int submode)")):
    _op(_n, _p)
