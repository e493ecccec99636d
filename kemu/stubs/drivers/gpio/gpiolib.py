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
from kemu.kernel.log import KERN_WARNING
from kemu.abi.exports import members

from kemu.abi.toolkit import err_ptr, is_err
from ..base.bus import EPROBE_DEFER
from kemu.abi.exports import not_modelled

_WHY = "kemu's machine has no GPIO chip, so no descriptor exists"
# CONFIG_ARCH_NR_GPIO of Debian's amd64 kernel: gpio_is_valid() is 0 <= n < ARCH_NR_GPIOS
ARCH_NR_GPIOS = 1024


def _validate(k, desc, name) -> int:
    """validate_desc(): 0 for NULL (optional GPIO), -EINVAL for an error pointer."""
    if not desc:
        return 0
    if is_err(desc):
        k.log.emit(KERN_WARNING, f"{name}: invalid GPIO (errorpointer)")   # gpiolib.c: no pr_fmt
        return desc - (1 << 64)                                # PTR_ERR(desc)
    not_modelled(k, name, _WHY)
    return -errno.EINVAL


def _valid(gpio: int) -> bool:
    """gpio_is_valid() (it takes an int)."""
    gpio = gpio - (1 << 32) if gpio >= 1 << 31 else gpio
    return 0 <= gpio < ARCH_NR_GPIOS


@export("struct gpio_desc *gpio_to_desc(unsigned gpio)")
def gpio_to_desc(k, gpio):
    """No chip covers any number; an invalid one is warned about."""
    if not _valid(gpio):
        k.log.emit(KERN_WARNING, f"invalid GPIO {gpio - (1 << 32) if gpio >= 1 << 31 else gpio}")
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


def _optional(desc: int) -> int:
    """gpiod_not_found(): -ENOENT becomes NULL for the *_optional lookups."""
    return 0 if desc == err_ptr(-errno.ENOENT) else desc


@export("struct gpio_desc *gpiod_get(struct device *dev, const char *con_id, "
        "enum gpiod_flags flags)")
def gpiod_get(k, dev, con_id, flags):
    return gpiod_get_index(k, dev, con_id, 0, flags)


@export("struct gpio_desc *gpiod_get_optional(struct device *dev, const char *con_id, "
        "enum gpiod_flags flags)")
def gpiod_get_optional(k, dev, con_id, flags):
    return _optional(gpiod_get_index(k, dev, con_id, 0, flags))


@export("struct gpio_desc *gpiod_get_index_optional(struct device *dev, const char *con_id, "
        "unsigned int index, enum gpiod_flags flags)")
def gpiod_get_index_optional(k, dev, con_id, index, flags):
    return _optional(gpiod_get_index(k, dev, con_id, index, flags))


@export("struct gpio_desc *devm_gpiod_get_optional(struct device *dev, const char *con_id, "
        "enum gpiod_flags flags)")
def devm_gpiod_get_optional(k, dev, con_id, flags):
    return _optional(devm_gpiod_get_index(k, dev, con_id, 0, flags))


@export("struct gpio_desc *devm_gpiod_get_index_optional(struct device *dev, "
        "const char *con_id, unsigned int index, enum gpiod_flags flags)")
def devm_gpiod_get_index_optional(k, dev, con_id, index, flags):
    return _optional(devm_gpiod_get_index(k, dev, con_id, index, flags))


@export("struct gpio_descs *gpiod_get_array(struct device *dev, const char *con_id, "
        "enum gpiod_flags flags)")
def gpiod_get_array(k, dev, con_id, flags):
    return err_ptr(gpiod_count(k, dev, con_id))


@export("struct gpio_descs *devm_gpiod_get_array(struct device *dev, const char *con_id, "
        "enum gpiod_flags flags)")
def devm_gpiod_get_array(k, dev, con_id, flags):
    return err_ptr(gpiod_count(k, dev, con_id))


@export("struct gpio_descs *gpiod_get_array_optional(struct device *dev, const char *con_id, "
        "enum gpiod_flags flags)")
def gpiod_get_array_optional(k, dev, con_id, flags):
    return _optional(gpiod_get_array(k, dev, con_id, flags))


@export("struct gpio_descs *devm_gpiod_get_array_optional(struct device *dev, "
        "const char *con_id, enum gpiod_flags flags)")
def devm_gpiod_get_array_optional(k, dev, con_id, flags):
    return _optional(devm_gpiod_get_array(k, dev, con_id, flags))


# gpiolib-legacy.c: numbers name no descriptor; a valid one "will appear later"
def _legacy_request(k, gpio) -> int:
    gpio_to_desc(k, gpio)
    if _valid(gpio):
        return -EPROBE_DEFER
    return 0                                                  # gpiod_request(NULL): VALIDATE_DESC


@export("int gpio_request(unsigned gpio, const char *label)")
def gpio_request(k, gpio, label):
    return _legacy_request(k, gpio)


@export("int gpio_request_one(unsigned gpio, unsigned long flags, const char *label)")
def gpio_request_one(k, gpio, flags, label):
    """A NULL descriptor passes gpiod_request() and the direction calls (all return 0)."""
    return _legacy_request(k, gpio)


@export("int devm_gpio_request(struct device *dev, unsigned gpio, const char *label)")
def devm_gpio_request(k, dev, gpio, label):
    return _legacy_request(k, gpio)


@export("int devm_gpio_request_one(struct device *dev, unsigned gpio, unsigned long flags, "
        "const char *label)")
def devm_gpio_request_one(k, dev, gpio, flags, label):
    return _legacy_request(k, gpio)


@export("void gpio_free(unsigned gpio)")
def gpio_free(k, gpio):
    """gpiod_free(gpio_to_desc(gpio)): NULL, nothing to free (extra_checks is off)."""
    gpio_to_desc(k, gpio)


@export("int gpio_request_array(const struct gpio *array, size_t num)")
def gpio_request_array(k, array, num):
    """The first entry fails (each number names no descriptor); nothing to undo."""
    size = k.target.sizeof("gpio")
    for i in range(num):
        err = _legacy_request(k, k.machine.read_u32(array + i * size
                                                    + k.target.offset("gpio.gpio")))
        if err:
            return err
    return 0


@export("void gpio_free_array(const struct gpio *array, size_t num)")
def gpio_free_array(k, array, num):
    pass


@export("void gpiod_put(struct gpio_desc *desc)")
def gpiod_put(k, desc):
    if desc:
        not_modelled(k, "gpiod_put", _WHY)


for _name, _proto in (
        ("gpiod_set_value", "void gpiod_set_value(struct gpio_desc *desc, int value)"),
        ("gpiod_set_raw_value", "void gpiod_set_raw_value(struct gpio_desc *desc, int value)"),
        ("gpiod_set_value_cansleep", "void gpiod_set_value_cansleep(struct gpio_desc *desc, "
         "int value)"),
        ("gpiod_set_raw_value_cansleep", "void gpiod_set_raw_value_cansleep("
         "struct gpio_desc *desc, int value)"),
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
        ("gpiod_direction_output_raw", "int gpiod_direction_output_raw(struct gpio_desc *desc, "
         "int value)"),
        ("gpiod_direction_input", "int gpiod_direction_input(struct gpio_desc *desc)"),
        ("gpiod_get_value", "int gpiod_get_value(const struct gpio_desc *desc)"),
        ("gpiod_get_raw_value", "int gpiod_get_raw_value(const struct gpio_desc *desc)"),
        ("gpiod_get_direction", "int gpiod_get_direction(struct gpio_desc *desc)"),
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
        not_modelled(k, "desc_to_gpio", _WHY)
    return -errno.EINVAL


# gpiochips are added by probes on devices kemu's machine does not have
from kemu.abi.exports import link_only  # noqa: E402

members("struct gpio", "gpio", "flags", "label")

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
