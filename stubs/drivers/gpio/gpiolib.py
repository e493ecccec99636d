"""drivers/gpio/gpiolib.c: GPIO descriptors on a machine without GPIO chips.

kemu's machine registers no gpiochip, so ``gpio_to_desc`` finds nothing
(NULL) and a lookup (``gpiod_get_index`` and its devm variants) fails with
-ENOENT, as the kernel does when no table, firmware node or chip provides
the GPIO. The value helpers accept the NULL descriptor of an optional GPIO
and do nothing, like the kernel's VALIDATE_DESC. Lookup tables are kept
(``gpiod_add_lookup_table`` / ``gpiod_remove_lookup_table``); one left
registered after its module's exit is reported.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.log import KERN_WARNING

from ...fs.internal import err_ptr, is_err
from ..base.link_only import called

_WHY = "kemu's machine has no GPIO chip, so no descriptor exists"


def _validate(k, desc, name) -> int:
    """validate_desc(): 0 for NULL (optional GPIO), -EINVAL for an error pointer."""
    if not desc:
        return 0
    if is_err(desc):
        k.log.emit(KERN_WARNING, f"gpiolib: {name}: invalid GPIO (errorpointer)")
        return -errno.EINVAL
    called(k, name, _WHY)
    return -errno.EINVAL


@export("struct gpio_desc *gpio_to_desc(unsigned gpio)")
def gpio_to_desc(k, gpio):
    return 0


@export("struct gpio_desc *gpiod_get_index(struct device *dev, const char *con_id, "
        "unsigned int idx, enum gpiod_flags flags)")
def gpiod_get_index(k, dev, con_id, idx, flags):
    return err_ptr(-errno.ENOENT)


@export("struct gpio_desc *devm_gpiod_get(struct device *dev, const char *con_id, "
        "enum gpiod_flags flags)")
def devm_gpiod_get(k, dev, con_id, flags):
    return err_ptr(-errno.ENOENT)


@export("struct gpio_desc *devm_gpiod_get_index(struct device *dev, const char *con_id, "
        "unsigned int idx, enum gpiod_flags flags)")
def devm_gpiod_get_index(k, dev, con_id, idx, flags):
    return err_ptr(-errno.ENOENT)


@export("void gpiod_put(struct gpio_desc *desc)")
def gpiod_put(k, desc):
    if desc:
        called(k, "gpiod_put", _WHY)


for _name, _proto in (
        ("gpiod_set_value", "void gpiod_set_value(struct gpio_desc *desc, int value)"),
        ("gpiod_set_raw_value", "void gpiod_set_raw_value(struct gpio_desc *desc, int value)"),
        ("gpiod_set_value_cansleep", "void gpiod_set_value_cansleep(struct gpio_desc *desc, "
         "int value)"),
):
    def _setter(k, desc, value, _n=_name):
        _validate(k, desc, _n)
    _setter.__name__ = _name
    export(_proto)(_setter)

for _name, _proto in (
        ("gpiod_to_irq", "int gpiod_to_irq(const struct gpio_desc *desc)"),
        ("gpiod_get_value_cansleep", "int gpiod_get_value_cansleep(const struct gpio_desc *desc)"),
        ("gpiod_direction_output", "int gpiod_direction_output(struct gpio_desc *desc, "
         "int value)"),
):
    def _getter(k, desc, *args, _n=_name):
        return _validate(k, desc, _n)
    _getter.__name__ = _name
    export(_proto)(_getter)


@export("void gpiod_add_lookup_table(struct gpiod_lookup_table *table)")
def gpiod_add_lookup_table(k, table):
    k.register("gpio lookup table", table, k.current_module(), "GPIO lookup table")


@export("void gpiod_remove_lookup_table(struct gpiod_lookup_table *table)")
def gpiod_remove_lookup_table(k, table):
    if table:
        k.unregister("gpio lookup table", table)


@export("int gpiod_get_raw_value_cansleep(const struct gpio_desc *desc)")
def gpiod_get_raw_value_cansleep(k, desc):
    return _validate(k, desc, "gpiod_get_raw_value_cansleep")


@export("int gpiod_cansleep(const struct gpio_desc *desc)")
def gpiod_cansleep(k, desc):
    return _validate(k, desc, "gpiod_cansleep")


@export("int gpiod_set_consumer_name(struct gpio_desc *desc, const char *name)")
def gpiod_set_consumer_name(k, desc, name):
    return _validate(k, desc, "gpiod_set_consumer_name")


@export("int gpiod_count(struct device *dev, const char *con_id)")
def gpiod_count(k, dev, con_id):
    """No firmware node and no lookup table provide GPIOs: -ENOENT."""
    return -errno.ENOENT


@export("int desc_to_gpio(const struct gpio_desc *desc)")
def desc_to_gpio(k, desc):
    if desc:
        called(k, "desc_to_gpio", _WHY)
    return -errno.EINVAL


# gpiochips are added by probes on devices kemu's machine does not have
from ..base.link_only import link_only  # noqa: E402

for _p, _r in (
        ("int gpiochip_add_data_with_key(struct gpio_chip *gc, void *data, "
         "struct lock_class_key *lock_key, struct lock_class_key *request_key)", -errno.ENODEV),
        ("int devm_gpiochip_add_data_with_key(struct device *dev, struct gpio_chip *gc, "
         "void *data, struct lock_class_key *lock_key, struct lock_class_key *request_key)",
         -errno.ENODEV),
        ("void gpiochip_remove(struct gpio_chip *gc)", None),
        ("void *gpiochip_get_data(struct gpio_chip *gc)", 0),
        ("struct gpio_desc *gpiochip_get_desc(struct gpio_chip *gc, unsigned int hwnum)",
         err_ptr(-errno.EINVAL)),
):
    link_only(_p, _r, "kemu's machine has no GPIO chip")


@export("struct gpio_chip *gpiochip_find(void *data, int (*match)(struct gpio_chip *gc, "
        "void *data))")
def gpiochip_find(k, data_, match):
    """No gpiochip is registered: NULL."""
    return 0
