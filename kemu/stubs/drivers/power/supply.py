"""drivers/power/supply/power_supply_core.c and drivers/video/backlight/backlight.c.

No power supply is registered on kemu's machine (a desktop on mains, as the
kernel assumes when it finds none: ``power_supply_is_system_supplied`` is
1). Registering a supply or a backlight is link-only here (a
``not-modelled`` finding, ERR_PTR(-ENODEV)).
"""
from __future__ import annotations

import errno

from kemu import export

from kemu.abi.exports import link_only
from kemu.abi.toolkit import err_ptr

_WHY = "kemu does not model power supply and backlight class devices"


@export("int power_supply_is_system_supplied(void)")
def power_supply_is_system_supplied(k):
    return 1


for _p, _r in (
        ("struct power_supply *power_supply_register(struct device *parent, "
         "const struct power_supply_desc *desc, const struct power_supply_config *cfg)",
         err_ptr(-errno.ENODEV)),
        ("void power_supply_unregister(struct power_supply *psy)", None),
        ("void power_supply_changed(struct power_supply *psy)", None),
        ("void *power_supply_get_drvdata(struct power_supply *psy)", 0),
        ("int power_supply_powers(struct power_supply *psy, struct device *dev)", -errno.ENODEV),
        ("struct backlight_device *backlight_device_register(const char *name, "
         "struct device *parent, void *devdata, const struct backlight_ops *ops, "
         "const struct backlight_properties *props)", err_ptr(-errno.ENODEV)),
        ("void backlight_device_unregister(struct backlight_device *bd)", None),
):
    link_only(_p, _r, _WHY)
