"""drivers/leds/led-class.c, led-core.c, led-triggers.c: LED class devices and triggers.

``led_classdev_register_ext`` names the LED (``led_cdev->name``; a name
already in /sys/class/leds gets ``_1``, ``_2``... with the kernel's "renamed
... due to name collision" warning), creates its device in the leds class,
defaults ``max_brightness`` to LED_FULL, reads the hardware brightness
through ``brightness_get`` and applies its ``default_trigger`` if such a
trigger is registered. Unregistering detaches the trigger, turns the LED off
(unless LED_RETAIN_AT_SHUTDOWN) and removes the device. Brightness changes
call ``brightness_set``, or ``brightness_set_blocking`` (the kernel defers
that to a work item; kemu calls it at once). Triggers have unique names (the
booted kernel's keyboard, disk, mtd and panic triggers are registered);
``led_trigger_event`` sets every LED on the trigger. Blinking timers are not
run (kemu notes it).

Python API: ``leds(k) -> [(name, trigger name or None, owner)]``.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_WARNING
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, is_err, kfree, kstrdup, kzalloc, rd, s32, wr

members("struct led_classdev", "name", "brightness", "max_brightness", "flags",
        "brightness_set", "brightness_set_blocking", "brightness_get", "blink_set", "dev",
        "groups", "default_trigger", "trigger", "trigger_data", "activated", "blink_delay_on",
        "blink_delay_off", "pattern_set", "pattern_clear", "node", "trig_list", "trigger_type",
        "work_flags")
members("struct led_trigger", "name", "activate", "deactivate", "trigger_type",
        "leddev_list_lock", "led_cdevs", "next_trig", "groups")
members("struct led_init_data", "fwnode", "default_label", "devicename", "devname_mandatory")

BOOT_TRIGGERS = ("kbd-scrolllock", "kbd-numlock", "kbd-capslock", "kbd-kanalock",
                 "kbd-shiftlock", "kbd-altgrlock", "kbd-ctrllock", "kbd-altlock",
                 "kbd-shiftllock", "kbd-shiftrlock", "kbd-ctrlllock", "kbd-ctrlrlock",
                 "disk-activity", "disk-read", "disk-write", "ide-disk", "mtd", "nand-disk",
                 "panic")


class Leds:
    """leds_list, trigger_list, LED -> trigger."""

    def __init__(self, k):
        self.leds: list[int] = []
        self.triggers: list[int] = []
        self.boot_triggers = set(BOOT_TRIGGERS)
        self.on: dict[int, int] = {}          # led_cdev -> trigger


def _c(k, n):
    return k.target.const(n)


def _name(k, led):
    return cstr(k, rd(k, led, "led_classdev.name"), 256)


def _trig_name(k, trig):
    return cstr(k, rd(k, trig, "led_trigger.name"), 64)


def set_brightness(k, led, value):
    """led_set_brightness_nosleep() + led_set_brightness_nopm() (generator)."""
    maxb = rd(k, led, "led_classdev.max_brightness", 4)
    value = min(value & 0xFFFFFFFF, maxb)
    wr(k, led, "led_classdev.brightness", value, 4)
    if rd(k, led, "led_classdev.flags", 8) & _c(k, "LED_SUSPENDED"):
        return
    fn = rd(k, led, "led_classdev.brightness_set")
    if fn:
        yield k.call_request(fn, led, value)
        return
    fn = rd(k, led, "led_classdev.brightness_set_blocking")
    if fn:
        yield k.call_request(fn, led, value)


def _trigger_set(k, led, trig):
    """led_trigger_set(): deactivate the old trigger, activate the new (generator)."""
    model = k.model(Leds)
    old = model.on.pop(led, 0)
    if old:
        fn = rd(k, old, "led_trigger.deactivate")
        if fn and rd(k, led, "led_classdev.activated", 1):
            yield k.call_request(fn, led)
        wr(k, led, "led_classdev.trigger", 0)
        wr(k, led, "led_classdev.trigger_data", 0)
        wr(k, led, "led_classdev.activated", 0, 1)
        yield from set_brightness(k, led, _c(k, "LED_OFF"))
    if trig:
        wr(k, led, "led_classdev.trigger", trig)
        model.on[led] = trig
        fn = rd(k, trig, "led_trigger.activate")
        ret = s32((yield k.call_request(fn, led))) if fn else 0
        if ret:
            model.on.pop(led, None)
            wr(k, led, "led_classdev.trigger", 0)
        else:
            wr(k, led, "led_classdev.activated", 1, 1)


@export("int led_classdev_register_ext(struct device *parent, struct led_classdev *led_cdev, "
        "struct led_init_data *init_data)")
def led_classdev_register_ext(k, parent, led_cdev, init_data):
    from ..base.class_ import Classes
    from ..base.core import create_device
    from ..base.dev_printk import dev_emit
    model = k.model(Leds)
    if init_data and rd(k, init_data, "led_init_data.fwnode"):
        from kemu.abi.exports import not_modelled
        not_modelled(k, "led_compose_name", "kemu's devices have no firmware node properties")
        return -errno.EINVAL
    proposed = _name(k, led_cdev)
    cls = k.model(Classes).boot["leds"]
    taken = {_name(k, led) for led in model.leds}
    name, i = proposed, 0
    while name in taken:
        i += 1
        name = f"{proposed}_{i}"
    if name != proposed:
        dev_emit(k, KERN_WARNING, parent, f"Led {proposed} renamed to {name} due to name collision\n"
                 .encode("utf-8", "surrogateescape"))
    dev = yield from create_device(k, cls, parent, 0, led_cdev,
                                   rd(k, led_cdev, "led_classdev.groups"), name)
    if is_err(dev):
        return s32(dev)
    wr(k, led_cdev, "led_classdev.dev", dev)
    if name != proposed:
        wr(k, led_cdev, "led_classdev.name", kstrdup(k, name, "led name"))
    model.leds.append(led_cdev)
    if not rd(k, led_cdev, "led_classdev.max_brightness", 4):
        wr(k, led_cdev, "led_classdev.max_brightness", _c(k, "LED_FULL"), 4)
    get = rd(k, led_cdev, "led_classdev.brightness_get")
    if get:
        ret = s32((yield k.call_request(get, led_cdev)))
        if ret >= 0:
            wr(k, led_cdev, "led_classdev.brightness", ret, 4)
    default = cstr(k, rd(k, led_cdev, "led_classdev.default_trigger"), 64)
    if default:
        for trig in model.triggers:
            if _trig_name(k, trig) == default:
                yield from _trigger_set(k, led_cdev, trig)
                break
    return 0


@export("void led_classdev_unregister(struct led_classdev *led_cdev)")
def led_classdev_unregister(k, led_cdev):
    from ..base.core import device_del_gen, put_device_gen
    model = k.model(Leds)
    dev = rd(k, led_cdev, "led_classdev.dev")
    if not dev or is_err(dev) or led_cdev not in model.leds:
        return
    if led_cdev in model.on:
        yield from _trigger_set(k, led_cdev, 0)
    flags = rd(k, led_cdev, "led_classdev.flags", 8)
    wr(k, led_cdev, "led_classdev.flags", flags | _c(k, "LED_UNREGISTERING"), 8)
    if not flags & _c(k, "LED_RETAIN_AT_SHUTDOWN"):
        yield from set_brightness(k, led_cdev, _c(k, "LED_OFF"))
    yield from device_del_gen(k, dev)
    yield from put_device_gen(k, dev)
    model.leds.remove(led_cdev)


def _devm_led_release(k, dev, led):
    yield from led_classdev_unregister(k, led)


@export("int devm_led_classdev_register_ext(struct device *parent, "
        "struct led_classdev *led_cdev, struct led_init_data *init_data)")
def devm_led_classdev_register_ext(k, parent, led_cdev, init_data):
    from ..base.devres import add_py
    ret = yield from led_classdev_register_ext(k, parent, led_cdev, init_data)
    if not ret:
        add_py(k, parent, "devm_led_classdev_release", _devm_led_release, led_cdev)
    return ret


@export("void devm_led_classdev_unregister(struct device *dev, struct led_classdev *led_cdev)")
def devm_led_classdev_unregister(k, dev, led_cdev):
    from ..base.devres import Devres
    lst = k.model(Devres).lists.get(dev, [])
    for res in reversed(lst):
        if res.py is _devm_led_release and res.data == led_cdev:
            lst.remove(res)
            yield from led_classdev_unregister(k, led_cdev)
            return
    from ...lib.kemu_warn import warn
    warn(k, "drivers/leds/led-class.c:533", "devm_led_classdev_unregister+0x24/0x30")


@export("void led_set_brightness(struct led_classdev *led_cdev, unsigned int brightness)")
def led_set_brightness(k, led_cdev, brightness):
    yield from set_brightness(k, led_cdev, brightness)


@export("void led_set_brightness_nosleep(struct led_classdev *led_cdev, unsigned int value)")
def led_set_brightness_nosleep(k, led_cdev, value):
    yield from set_brightness(k, led_cdev, value)


# ------------------------------------------------------------ triggers
@export("int led_trigger_register(struct led_trigger *trig)")
def led_trigger_register(k, trig):
    model = k.model(Leds)
    name = _trig_name(k, trig)
    if name in model.boot_triggers or any(_trig_name(k, t) == name for t in model.triggers):
        return -errno.EEXIST
    model.triggers.append(trig)
    k.register("led trigger", trig, k.current_module(), f"LED trigger {name}")
    for led in list(model.leds):
        if led not in model.on and \
                cstr(k, rd(k, led, "led_classdev.default_trigger"), 64) == name:
            yield from _trigger_set(k, led, trig)
    return 0


@export("void led_trigger_unregister(struct led_trigger *trig)")
def led_trigger_unregister(k, trig):
    model = k.model(Leds)
    if trig not in model.triggers:
        return
    model.triggers.remove(trig)
    for led, t in list(model.on.items()):
        if t == trig:
            yield from _trigger_set(k, led, 0)
    k.unregister("led trigger", trig)


@export("void led_trigger_event(struct led_trigger *trig, enum led_brightness event)")
def led_trigger_event(k, trig, event):
    if not trig:
        return
    for led, t in list(k.model(Leds).on.items()):
        if t == trig:
            yield from set_brightness(k, led, event)


@export("void led_trigger_register_simple(const char *name, struct led_trigger **trigger)")
def led_trigger_register_simple(k, name, trigger):
    trig = kzalloc(k, k.target.sizeof("led_trigger"), "led_trigger")
    wr(k, trig, "led_trigger.name", name)
    err = yield from led_trigger_register(k, trig)
    if err:
        kfree(k, trig)
        trig = 0
        k.log.emit(KERN_WARNING, f"LED trigger {cstr(k, name, 64)} failed to register ({err})")
    k.machine.write_u64(trigger, trig)


@export("void led_trigger_unregister_simple(struct led_trigger *trigger)")
def led_trigger_unregister_simple(k, trigger):
    if trigger:
        yield from led_trigger_unregister(k, trigger)
    kfree(k, trigger)


@export("void led_trigger_blink_oneshot(struct led_trigger *trigger, unsigned long *delay_on, "
        "unsigned long *delay_off, int invert)")
def led_trigger_blink_oneshot(k, trigger, delay_on, delay_off, invert):
    if trigger and any(t == trigger for t in k.model(Leds).on.values()):
        k.note("LED blinking: kemu does not run the blink timer")


@export("void led_trigger_blink(struct led_trigger *trigger, unsigned long *delay_on, "
        "unsigned long *delay_off)")
def led_trigger_blink(k, trigger, delay_on, delay_off):
    led_trigger_blink_oneshot(k, trigger, delay_on, delay_off, 0)


def leds(k) -> list:
    """[(name, trigger name or None, owner module name)] of registered LEDs."""
    model = k.model(Leds)
    out = []
    for led in model.leds:
        reg = k.registrations.get(("device", rd(k, led, "led_classdev.dev")))
        trig = model.on.get(led)
        out.append((_name(k, led), _trig_name(k, trig) if trig else None,
                    reg.owner.name if reg and reg.owner else None))
    return out



# ------------------------------------------------------------ blinking, defaults (led-core.c)
def _blink_delays(k, led, delay_on, delay_off):
    on = k.machine.read_u64(delay_on)
    off = k.machine.read_u64(delay_off)
    if not on and not off:                   # 1 Hz when nothing is specified
        on = off = 500
        k.machine.write_u64(delay_on, on)
        k.machine.write_u64(delay_off, off)
    return on, off


def _software_blink(k, led, on, off):
    """led_set_software_blink(): steady cases at once; a real blink needs the timer."""
    wr(k, led, "led_classdev.blink_delay_on", on)
    wr(k, led, "led_classdev.blink_delay_off", off)
    if not on:
        yield from set_brightness(k, led, _c(k, "LED_OFF"))
        return
    if not off:
        yield from set_brightness(k, led, rd(k, led, "led_classdev.max_brightness", 4))
        return
    k.note("LED blinking: kemu does not run the software blink timer")


@export("void led_blink_set(struct led_classdev *led_cdev, unsigned long *delay_on, "
        "unsigned long *delay_off)")
def led_blink_set(k, led_cdev, delay_on, delay_off):
    fn = rd(k, led_cdev, "led_classdev.blink_set")
    if fn and not s32((yield k.call_request(fn, led_cdev, delay_on, delay_off))):
        return
    on, off = _blink_delays(k, led_cdev, delay_on, delay_off)
    yield from _software_blink(k, led_cdev, on, off)


@export("void led_blink_set_oneshot(struct led_classdev *led_cdev, unsigned long *delay_on, "
        "unsigned long *delay_off, int invert)")
def led_blink_set_oneshot(k, led_cdev, delay_on, delay_off, invert):
    on, off = _blink_delays(k, led_cdev, delay_on, delay_off)
    yield from _software_blink(k, led_cdev, on, off)


@export("void led_stop_software_blink(struct led_classdev *led_cdev)")
def led_stop_software_blink(k, led_cdev):
    wr(k, led_cdev, "led_classdev.blink_delay_on", 0)
    wr(k, led_cdev, "led_classdev.blink_delay_off", 0)


@export("u32 *led_get_default_pattern(struct led_classdev *led_cdev, unsigned int *size)")
def led_get_default_pattern(k, led_cdev, size):
    """The "led-pattern" firmware property: kemu's LEDs have no firmware node."""
    return 0


@export("int led_init_default_state_get(struct fwnode_handle *fwnode)")
def led_init_default_state_get(k, fwnode):
    """LEDS_DEFSTATE_OFF: no "default-state" property without a firmware node."""
    return 0


LED_COLORS = ("white", "red", "green", "blue", "amber", "violet", "yellow", "ir", "multicolor",
              "rgb", "purple", "orange", "pink", "cyan", "lime")


@data("const char *led_colors[15]", size=8 * len(LED_COLORS))
def led_colors(k, addr):
    """led_colors[LED_COLOR_ID_MAX]: the colour names of dt-bindings/leds/common.h."""
    for i, name in enumerate(LED_COLORS):
        s = k.machine.alloc_kdata(len(name) + 1, 1)
        k.machine.write(s, name.encode() + b"\0")
        k.machine.write_u64(addr + 8 * i, s)

