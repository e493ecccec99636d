"""drivers/thermal/thermal_core.c, thermal_of.c: thermal zones and cooling devices, for linking.

kemu does not model thermal zones or cooling devices; registering one is
link-only (a ``not-modelled`` finding, ERR_PTR(-ENODEV)), and no zone can be
found by name.
"""
from __future__ import annotations

import errno

from kemu import export

from kemu.abi.exports import link_only
from kemu.abi.toolkit import err_ptr

_WHY = "kemu does not model thermal zones and cooling devices"
_ERR = err_ptr(-errno.ENODEV)


@export("struct thermal_zone_device *thermal_zone_get_zone_by_name(const char *name)")
def thermal_zone_get_zone_by_name(k, name):
    return err_ptr(-errno.ENODEV)


for _p, _r in (
        ("struct thermal_zone_device *thermal_zone_device_register(const char *type, "
         "int trips, int mask, void *devdata, struct thermal_zone_device_ops *ops, "
         "struct thermal_zone_params *tzp, int passive_delay, int polling_delay)", _ERR),
        ("void thermal_zone_device_unregister(struct thermal_zone_device *tz)", None),
        ("int thermal_zone_device_enable(struct thermal_zone_device *tz)", -errno.ENODEV),
        ("int thermal_zone_device_disable(struct thermal_zone_device *tz)", -errno.ENODEV),
        ("int thermal_zone_get_temp(struct thermal_zone_device *tz, int *temp)", -errno.EINVAL),
        ("int thermal_zone_bind_cooling_device(struct thermal_zone_device *tz, int trip, "
         "struct thermal_cooling_device *cdev, unsigned long upper, unsigned long lower, "
         "unsigned int weight)", -errno.EINVAL),
        ("int thermal_zone_unbind_cooling_device(struct thermal_zone_device *tz, int trip, "
         "struct thermal_cooling_device *cdev)", -errno.ENODEV),
        ("struct thermal_cooling_device *thermal_cooling_device_register(const char *type, "
         "void *devdata, const struct thermal_cooling_device_ops *ops)", _ERR),
        ("void thermal_cooling_device_unregister(struct thermal_cooling_device *cdev)", None),
        ("struct thermal_cooling_device *devm_thermal_of_cooling_device_register("
         "struct device *dev, struct device_node *np, char *type, void *devdata, "
         "const struct thermal_cooling_device_ops *ops)", _ERR),
):
    link_only(_p, _r, _WHY)
