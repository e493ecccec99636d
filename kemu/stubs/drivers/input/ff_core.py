"""drivers/input/ff-core.c: force-feedback devices (input_ff_create/input_ff_destroy).

``input_ff_create`` checks the effect count with the kernel's messages,
allocates the ``ff_device`` and its effects array, installs the ff event
and flush handlers, sets EV_FF and copies the capability bits (RUMBLE
emulated when PERIODIC is there) as 6.1 does; ``input_ff_destroy`` (also run
by the input device's release) calls ``ff->destroy`` and frees it all.
Effects are uploaded through evdev's EVIOCSFF, which kemu does not model, so
no effect is ever owned: flushing a file has nothing to erase, and an
EV_FF event reaches the driver only for FF_GAIN and FF_AUTOCENTER.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.kernel.log import KERN_ERR
from kemu.abi.exports import members

from kemu.abi.toolkit import kfree, kzalloc, rd, static, static_addr, wr
from ..base.dev_printk import dev_emit

members("struct ff_device", "destroy", "private", "ffbit", "max_effects", "effects", "upload",
        "erase", "playback", "set_gain", "set_autocenter", "mutex")
members("struct input_dev", "ff", "event", "dev", "flush", "phys", "uniq", "propbit", "evbit",
        "keybit", "relbit", "absbit", "mscbit", "ledbit", "sndbit", "ffbit", "swbit",
        "keycodemax", "keycodesize", "keycode", "setkeycode", "getkeycode", "mt", "key", "led",
        "snd", "sw", "num_vals")
members("struct ff_effect", "type", "id")


def _c(k, name):
    return k.target.const(name)


def _dev(k, idev):
    return idev + k.target.offset("input_dev.dev")


def _bitmap(k, idev, member):
    return idev + k.target.offset(f"input_dev.{member}")


def _test_bit(k, base, bit) -> bool:
    return bool(k.machine.read(base + bit // 8, 1)[0] >> (bit % 8) & 1)


def _set_bit(k, base, bit, on=True):
    byte = k.machine.read(base + bit // 8, 1)[0]
    byte = byte | 1 << bit % 8 if on else byte & ~(1 << bit % 8) & 0xFF
    k.machine.write(base + bit // 8, bytes([byte]))


@export("int input_ff_create(struct input_dev *dev, unsigned int max_effects)")
def input_ff_create(k, idev, max_effects):
    t = k.target
    if not max_effects:
        dev_emit(k, KERN_ERR, _dev(k, idev), b"cannot allocate device without any effects\n")
        return -errno.EINVAL
    if max_effects > _c(k, "FF_MAX_EFFECTS"):
        dev_emit(k, KERN_ERR, _dev(k, idev),
                 b"cannot allocate more than FF_MAX_EFFECTS effects\n")
        return -errno.EINVAL
    # struct_size(ff, effect_owners, max_effects): the flexible array starts at sizeof
    ff = kzalloc(k, t.sizeof("ff_device") + 8 * max_effects, "ff_device")
    wr(k, ff, "ff_device.effects", kzalloc(k, max_effects * t.sizeof("ff_effect"), "ff_effect"))
    wr(k, ff, "ff_device.max_effects", max_effects, 4)
    wr(k, idev, "input_dev.ff", ff)
    wr(k, idev, "input_dev.flush", static_addr(k, "input_ff_flush"))
    wr(k, idev, "input_dev.event", static_addr(k, "input_ff_event"))
    _set_bit(k, _bitmap(k, idev, "evbit"), _c(k, "EV_FF"))
    src, dst = _bitmap(k, idev, "ffbit"), ff + t.offset("ff_device.ffbit")
    nbytes = (_c(k, "FF_CNT") + 7) // 8
    k.machine.write(dst, k.machine.read(src, nbytes))
    if _test_bit(k, dst, _c(k, "FF_PERIODIC")):
        _set_bit(k, src, _c(k, "FF_RUMBLE"))
    return 0


@export("void input_ff_destroy(struct input_dev *dev)")
def input_ff_destroy(k, idev):
    _set_bit(k, _bitmap(k, idev, "evbit"), _c(k, "EV_FF"), on=False)
    ff = rd(k, idev, "input_dev.ff")
    if ff:
        destroy = rd(k, ff, "ff_device.destroy")
        if destroy:
            yield k.call_request(destroy, ff)
        kfree(k, rd(k, ff, "ff_device.private"))
        kfree(k, rd(k, ff, "ff_device.effects"))
        kfree(k, ff)
        wr(k, idev, "input_dev.ff", 0)


@static("int input_ff_flush(struct input_dev *dev, struct file *file)")
def input_ff_flush(k, idev, file):
    """No effect has an owner (EVIOCSFF is not modelled): nothing to erase."""
    return 0


@static("int input_ff_event(struct input_dev *dev, unsigned int type, unsigned int code, "
        "int value)")
def input_ff_event(k, idev, type_, code, value):
    if type_ != _c(k, "EV_FF"):
        return 0
    ff = rd(k, idev, "input_dev.ff")
    member = {_c(k, "FF_GAIN"): "set_gain", _c(k, "FF_AUTOCENTER"): "set_autocenter"}.get(code)
    if member and rd(k, ff, f"ff_device.{member}") and \
            _test_bit(k, ff + k.target.offset("ff_device.ffbit"), code):
        yield k.call_request(rd(k, ff, f"ff_device.{member}"), idev,
                             min(value, 0xFFFF) & 0xFFFF)
    return 0
