"""drivers/input/input.c and input-poller.c: input devices and handlers.

``input_allocate_device`` makes an ``inputN`` device of the input class (N
from the kernel's never-reused counter; the booted machine's input0-4 are
taken); ``input_register_device`` sets EV_SYN, clears KEY_RESERVED, cleanses
the bitmaps of event types not in ``evbit``, sizes ``vals``, enables soft
autorepeat unless the driver preset it, adds the device below its parent
(printing "input: NAME as PATH") and puts it on ``input_dev_list``;
``input_unregister_device`` undoes it and drops the reference, which frees
the device (its ``absinfo``, ``vals``, poller) as ``input_dev_release`` does.
Capabilities (``input_set_capability``, ``input_set_abs_params``) are the
real bitmaps. Handlers (``input_register_handler``) are matched against the
registered devices through their ``id_table``/``match`` and connected in
emulation; the booted kernel's evdev/kbd/mousedev handlers are not modelled,
so a device gets no ``eventN`` node. Events reach only module handlers.

Python API: ``input_devices(k) -> [(name, sysfs device name, owner)]``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.kernel.log import KERN_ERR, KERN_INFO
from kemu.abi.exports import members

from kemu.abi.toolkit import (cstr, init_list_head, kfree, kzalloc, list_add_tail, list_del, rd,
                              s32, static, static_addr, wr)
from .ff_core import input_ff_destroy

members("struct device", "kobj", "parent", "class", "release")
members("struct input_dev", "name", "id", "hint_events_per_packet", "poller", "rep", "absinfo",
        "open", "close", "users", "going_away", "dev", "h_list", "node", "max_vals", "vals",
        "devres_managed", "inhibited")
members("struct input_device_id", "flags", "driver_info", "bustype", "vendor", "product",
        "version", "evbit", "keybit", "relbit", "absbit", "mscbit", "ledbit", "sndbit",
        "ffbit", "swbit", "propbit")
members("struct input_handler", "event", "match", "connect", "disconnect", "start", "name",
        "id_table", "h_list", "node", "private", "events", "filter", "legacy_minors", "minor")
members("struct input_handle", "open", "dev", "handler", "d_node", "h_node", "private", "name")
members("struct input_id", "bustype", "vendor", "product", "version")
members("struct input_absinfo", "value", "minimum", "maximum", "fuzz", "flat", "resolution")

BOOT_INPUTS = 5          # input0..input4 on a booted QEMU PC


class Inputs:
    """input_dev_list, input_handler_list, the device counter, handles."""

    def __init__(self, k):
        self.k = k
        self.devs: list[int] = []
        self.handlers: list[int] = []
        self.handles: list[int] = []
        self.next_no = BOOT_INPUTS
        self.pollers: dict[int, int] = {}


def _c(k, name):
    return k.target.const(name)


def _dev(k, idev):
    return idev + k.target.offset("input_dev.dev")


def _bitmap(k, idev, member):
    return idev + k.target.offset(f"input_dev.{member}")


def _set_bit(k, base, bit):
    addr = base + (bit // 64) * 8
    k.machine.write_u64(addr, k.machine.read_u64(addr) | (1 << (bit % 64)))


def _clear_bit(k, base, bit):
    addr = base + (bit // 64) * 8
    k.machine.write_u64(addr, k.machine.read_u64(addr) & ~(1 << (bit % 64)))


def _test_bit(k, base, bit):
    return bool(k.machine.read_u64(base + (bit // 64) * 8) >> (bit % 64) & 1)


# event type -> (bitmap member, count constant)
_TYPE_BITS = {"EV_KEY": ("keybit", "KEY_CNT"), "EV_REL": ("relbit", "REL_CNT"),
              "EV_ABS": ("absbit", "ABS_CNT"), "EV_MSC": ("mscbit", "MSC_CNT"),
              "EV_SW": ("swbit", "SW_CNT"), "EV_LED": ("ledbit", "LED_CNT"),
              "EV_SND": ("sndbit", "SND_CNT"), "EV_FF": ("ffbit", "FF_CNT")}


@export("struct input_dev *input_allocate_device(void)", fails="NULL")
def input_allocate_device(k):
    from ..base.class_ import Classes
    from ..base.core import initialize
    from ...lib import kobject as ko
    t = k.target
    model = k.model(Inputs)
    idev = kzalloc(k, t.sizeof("input_dev"), "input_dev")
    dev = _dev(k, idev)
    wr(k, dev, "device.class", k.model(Classes).boot["input"])
    wr(k, dev, "device.release", static_addr(k, "input_dev_release"))
    initialize(k, dev)
    init_list_head(k, idev + t.offset("input_dev.h_list"))
    init_list_head(k, idev + t.offset("input_dev.node"))
    ko.set_name(k, dev + t.offset("device.kobj"), f"input{model.next_no}")
    model.next_no += 1
    return idev


@static("void input_dev_release(struct device *device)")
def input_dev_release(k, device):
    idev = device - k.target.offset("input_dev.dev")
    yield from input_ff_destroy(k, idev)
    poller = rd(k, idev, "input_dev.poller")
    k.model(Inputs).pollers.pop(idev, None)
    kfree(k, poller)
    kfree(k, rd(k, idev, "input_dev.absinfo"))
    kfree(k, rd(k, idev, "input_dev.vals"))
    kfree(k, idev)


@export("void input_free_device(struct input_dev *dev)")
def input_free_device(k, idev):
    from ..base.core import put_device_gen
    if idev:
        yield from put_device_gen(k, _dev(k, idev))


@export("void input_alloc_absinfo(struct input_dev *dev)")
def input_alloc_absinfo(k, idev):
    if not rd(k, idev, "input_dev.absinfo"):
        wr(k, idev, "input_dev.absinfo",
           kzalloc(k, _c(k, "ABS_CNT") * k.target.sizeof("input_absinfo"), "absinfo"))


@export("void input_set_abs_params(struct input_dev *dev, unsigned int axis, int min, int max, "
        "int fuzz, int flat)")
def input_set_abs_params(k, idev, axis, min_, max_, fuzz, flat):
    t = k.target
    input_alloc_absinfo(k, idev)
    absinfo = rd(k, idev, "input_dev.absinfo")
    a = absinfo + axis * t.sizeof("input_absinfo")
    for member, value in (("minimum", min_), ("maximum", max_), ("fuzz", fuzz), ("flat", flat)):
        wr(k, a, f"input_absinfo.{member}", value & 0xFFFFFFFF, 4)
    _set_bit(k, _bitmap(k, idev, "evbit"), _c(k, "EV_ABS"))
    _set_bit(k, _bitmap(k, idev, "absbit"), axis)


@export("void input_set_capability(struct input_dev *dev, unsigned int type, unsigned int code)")
def input_set_capability(k, idev, type_, code):
    by_type = {_c(k, n): v for n, v in _TYPE_BITS.items()}
    if type_ in by_type:
        member = by_type[type_][0]
        if type_ == _c(k, "EV_ABS"):
            input_alloc_absinfo(k, idev)
        _set_bit(k, _bitmap(k, idev, member), code)
    elif type_ != _c(k, "EV_PWR"):
        k.log.emit(KERN_ERR, f"input: input_set_capability: unknown type {type_} (code {code})")
        k.dump_stack()
        return
    _set_bit(k, _bitmap(k, idev, "evbit"), type_)


def _cleanse_bitmasks(k, idev):
    """input_cleanse_bitmasks(): clear the bitmaps of types not in evbit."""
    ev = _bitmap(k, idev, "evbit")
    for name, (member, cnt) in _TYPE_BITS.items():
        if not _test_bit(k, ev, _c(k, name)):
            size = (_c(k, cnt) + 63) // 64 * 8
            k.machine.write(_bitmap(k, idev, member), b"\0" * size)


def _events_per_packet(k, idev) -> int:
    """input_estimate_events_per_packet() (no multitouch slots in kemu's devices)."""
    abs_ = _bitmap(k, idev, "absbit")
    rel = _bitmap(k, idev, "relbit")
    n = sum(_test_bit(k, abs_, i) for i in range(_c(k, "ABS_CNT")))
    n += sum(_test_bit(k, rel, i) for i in range(_c(k, "REL_CNT")))
    return n + 1 + 7     # events + SYN_REPORT, and the kernel's slack for keys/buttons


_ID_BITMAPS = (("evbit", "EV_CNT"), ("keybit", "KEY_CNT"), ("relbit", "REL_CNT"),
               ("absbit", "ABS_CNT"), ("mscbit", "MSC_CNT"), ("ledbit", "LED_CNT"),
               ("sndbit", "SND_CNT"), ("ffbit", "FF_CNT"), ("swbit", "SW_CNT"),
               ("propbit", "INPUT_PROP_CNT"))


def _id_matches(k, idev, ident) -> bool:
    """input_match_device_id(): id fields by flags, then every bitmap a subset."""
    flags = rd(k, ident, "input_device_id.flags")
    for field in ("bus", "vendor", "product", "version"):
        member = "bustype" if field == "bus" else field
        if flags & _c(k, f"INPUT_DEVICE_ID_MATCH_{field.upper()}") and \
                rd(k, ident, f"input_device_id.{member}", 2) != \
                rd(k, idev + k.target.offset("input_dev.id"), f"input_id.{member}", 2):
            return False
    for member, cnt in _ID_BITMAPS:
        words = (_c(k, cnt) + 63) // 64
        for w in range(words):
            want = k.machine.read_u64(ident + k.target.offset(f"input_device_id.{member}") + 8 * w)
            have = k.machine.read_u64(_bitmap(k, idev, member) + 8 * w)
            if want & ~have:
                return False
    return True


def _match_id(k, handler, idev):
    """input_match_device(): the matching input_device_id entry, or 0 (generator)."""
    ident = rd(k, handler, "input_handler.id_table")
    match = rd(k, handler, "input_handler.match")
    size = k.target.sizeof("input_device_id")
    while ident and (rd(k, ident, "input_device_id.flags")
                     or rd(k, ident, "input_device_id.driver_info")):
        if _id_matches(k, idev, ident):
            if not match or (yield k.call_request(match, handler, idev)) & 0xFF:
                return ident
        ident += size
    return 0


def _connect(k, handler, idev):
    ident = yield from _match_id(k, handler, idev)
    if not ident:
        return
    connect = rd(k, handler, "input_handler.connect")
    err = s32((yield k.call_request(connect, handler, idev, ident)))
    if err and err != -errno.ENODEV:
        k.log.emit(KERN_ERR, f"input: failed to attach handler {cstr(k, rd(k, handler, 'input_handler.name'))}"
                      f" to device {cstr(k, rd(k, _dev(k, idev) + k.target.offset('device.kobj'), 'kobject.name'))}, error: {err}")


@export("int input_register_device(struct input_dev *dev)", fails="-ENOMEM")
def input_register_device(k, idev):
    from ..base.core import Devices, device_add_gen
    t = k.target
    model = k.model(Inputs)
    _set_bit(k, _bitmap(k, idev, "evbit"), _c(k, "EV_SYN"))
    _clear_bit(k, _bitmap(k, idev, "keybit"), _c(k, "KEY_RESERVED"))
    _cleanse_bitmasks(k, idev)
    packet = _events_per_packet(k, idev)
    if rd(k, idev, "input_dev.hint_events_per_packet", 4) < packet:
        wr(k, idev, "input_dev.hint_events_per_packet", packet, 4)
    max_vals = rd(k, idev, "input_dev.hint_events_per_packet", 4) + 2
    wr(k, idev, "input_dev.max_vals", max_vals, 4)
    vals = kzalloc(k, max_vals * 8, "input_value")
    wr(k, idev, "input_dev.vals", vals)
    rep = idev + t.offset("input_dev.rep")
    if not k.machine.read_u32(rep + 4 * _c(k, "REP_DELAY")) and \
            not k.machine.read_u32(rep + 4 * _c(k, "REP_PERIOD")):
        k.machine.write_u32(rep + 4 * _c(k, "REP_DELAY"), 250)     # input_enable_softrepeat
        k.machine.write_u32(rep + 4 * _c(k, "REP_PERIOD"), 33)
    err = yield from device_add_gen(k, _dev(k, idev))
    if err:
        kfree(k, vals)
        wr(k, idev, "input_dev.vals", 0)
        return err
    rec = k.model(Devices).added.get(_dev(k, idev))
    name = cstr(k, rd(k, idev, "input_dev.name"), 256) or "Unspecified device"
    k.log.emit(KERN_INFO, f"input: {name} as {rec.path if rec else 'N/A'}")
    list_add_tail(k, idev + t.offset("input_dev.node"), _list_head(k, "devs"))
    model.devs.append(idev)
    for handler in list(model.handlers):
        yield from _connect(k, handler, idev)
    return 0


def _list_head(k, which):
    model = k.model(Inputs)
    attr = f"head_{which}"
    if not hasattr(model, attr):
        head = k.machine.alloc_kdata(k.target.sizeof("list_head"), 8)
        init_list_head(k, head)
        setattr(model, attr, head)
    return getattr(model, attr)


def _disconnect_handles(k, idev=None, handler=None):
    model = k.model(Inputs)
    for handle in list(model.handles):
        if (idev and rd(k, handle, "input_handle.dev") == idev) or \
                (handler and rd(k, handle, "input_handle.handler") == handler):
            h = rd(k, handle, "input_handle.handler")
            disconnect = rd(k, h, "input_handler.disconnect")
            if disconnect:
                yield k.call_request(disconnect, handle)


@export("void input_unregister_device(struct input_dev *dev)")
def input_unregister_device(k, idev):
    from ..base.core import device_del_gen, put_device_gen
    model = k.model(Inputs)
    if idev not in model.devs:
        return
    wr(k, idev, "input_dev.going_away", 1, 1)
    yield from _disconnect_handles(k, idev=idev)
    list_del(k, idev + k.target.offset("input_dev.node"))
    init_list_head(k, idev + k.target.offset("input_dev.node"))
    model.devs.remove(idev)
    yield from device_del_gen(k, _dev(k, idev))
    yield from put_device_gen(k, _dev(k, idev))


@export("void input_event(struct input_dev *dev, unsigned int type, unsigned int code, "
        "int value)")
def input_event(k, idev, type_, code, value):
    """Events of supported types go to the device's handles (none unless a module's)."""
    if not _test_bit(k, _bitmap(k, idev, "evbit"), type_):
        return
    model = k.model(Inputs)
    for handle in model.handles:
        if rd(k, handle, "input_handle.dev") == idev and rd(k, handle, "input_handle.open", 4):
            h = rd(k, handle, "input_handle.handler")
            fn = rd(k, h, "input_handler.event")
            if fn:
                yield k.call_request(fn, handle, type_, code, value)


@export("int input_scancode_to_scalar(const struct input_keymap_entry *ke, "
        "unsigned int *scancode)")
def input_scancode_to_scalar(k, ke, scancode):
    t = k.machine
    # struct input_keymap_entry { u8 flags; u8 len; u16 index; u32 keycode; u8 scancode[32]; }
    length = t.read_u8(ke + 1)
    if length == 1:
        v = t.read_u8(ke + 8)
    elif length == 2:
        v = t.read_u16(ke + 8)
    elif length == 4:
        v = t.read_u32(ke + 8)
    else:
        return -errno.EINVAL
    t.write_u32(scancode, v)
    return 0


# ------------------------------------------------------------ handlers and handles
@export("int input_register_handler(struct input_handler *handler)")
def input_register_handler(k, handler):
    t = k.target
    model = k.model(Inputs)
    init_list_head(k, handler + t.offset("input_handler.h_list"))
    list_add_tail(k, handler + t.offset("input_handler.node"), _list_head(k, "handlers"))
    model.handlers.append(handler)
    for idev in list(model.devs):
        yield from _connect(k, handler, idev)
    k.register("input handler", handler, k.current_module(),
               f"input handler {cstr(k, rd(k, handler, 'input_handler.name'), 64)}")
    return 0


@export("void input_unregister_handler(struct input_handler *handler)")
def input_unregister_handler(k, handler):
    model = k.model(Inputs)
    if handler not in model.handlers:
        return
    yield from _disconnect_handles(k, handler=handler)
    list_del(k, handler + k.target.offset("input_handler.node"))
    model.handlers.remove(handler)
    k.unregister("input handler", handler)


@export("int input_register_handle(struct input_handle *handle)")
def input_register_handle(k, handle):
    t = k.target
    idev = rd(k, handle, "input_handle.dev")
    handler = rd(k, handle, "input_handle.handler")
    list_add_tail(k, handle + t.offset("input_handle.d_node"), idev + t.offset("input_dev.h_list"))
    list_add_tail(k, handle + t.offset("input_handle.h_node"),
                  handler + t.offset("input_handler.h_list"))
    k.model(Inputs).handles.append(handle)
    start = rd(k, handler, "input_handler.start")
    if start:
        yield k.call_request(start, handle)
    return 0


@export("void input_unregister_handle(struct input_handle *handle)")
def input_unregister_handle(k, handle):
    t = k.target
    model = k.model(Inputs)
    if handle in model.handles:
        list_del(k, handle + t.offset("input_handle.h_node"))
        list_del(k, handle + t.offset("input_handle.d_node"))
        model.handles.remove(handle)


@export("int input_open_device(struct input_handle *handle)")
def input_open_device(k, handle):
    idev = rd(k, handle, "input_handle.dev")
    if rd(k, idev, "input_dev.going_away", 1):
        return -errno.ENODEV
    wr(k, handle, "input_handle.open", rd(k, handle, "input_handle.open", 4) + 1, 4)
    users = rd(k, idev, "input_dev.users", 4)
    wr(k, idev, "input_dev.users", users + 1, 4)
    if users == 0 and not rd(k, idev, "input_dev.inhibited", 1):
        fn = rd(k, idev, "input_dev.open")
        if fn:
            ret = s32((yield k.call_request(fn, idev)))
            if ret:
                wr(k, idev, "input_dev.users", users, 4)
                wr(k, handle, "input_handle.open", rd(k, handle, "input_handle.open", 4) - 1, 4)
                return ret
        if rd(k, idev, "input_dev.poller"):
            k.note("input polling: kemu does not schedule the poll work")
    return 0


@export("void input_close_device(struct input_handle *handle)")
def input_close_device(k, handle):
    idev = rd(k, handle, "input_handle.dev")
    users = rd(k, idev, "input_dev.users", 4)
    if users:
        wr(k, idev, "input_dev.users", users - 1, 4)
        if users == 1 and not rd(k, idev, "input_dev.inhibited", 1):
            fn = rd(k, idev, "input_dev.close")
            if fn:
                yield k.call_request(fn, idev)
    opened = rd(k, handle, "input_handle.open", 4)
    if opened:
        wr(k, handle, "input_handle.open", opened - 1, 4)


# ------------------------------------------------------------ polling (input-poller.c)
POLLER_SIZE = 64          # struct input_dev_poller is private to input-poller.c


@export("int input_setup_polling(struct input_dev *dev, void (*poll_fn)(struct input_dev *dev))")
def input_setup_polling(k, idev, poll_fn):
    poller = kzalloc(k, POLLER_SIZE, "input_dev_poller")
    k.model(Inputs).pollers[idev] = poll_fn
    # poller->poll, poll_interval 500 ms; the layout is private, kemu keeps it in Python
    wr(k, idev, "input_dev.poller", poller)
    return 0


def _poller_set(name):
    def fn(k, idev, interval):
        if not rd(k, idev, "input_dev.poller"):
            from ...lib.kemu_warn import warn
            warn(k, "drivers/input/input-poller.c:103", f"{name}+0x1a/0x30")
    fn.__name__ = name
    export(f"void {name}(struct input_dev *dev, unsigned int interval)")(fn)


for _n in ("input_set_poll_interval", "input_set_min_poll_interval",
           "input_set_max_poll_interval"):
    _poller_set(_n)


# ------------------------------------------------------------ devm
def _devm_input_release(k, dev, idev):
    if idev in k.model(Inputs).devs:
        yield from input_unregister_device(k, idev)
    else:
        yield from input_free_device(k, idev)


@export("struct input_dev *devm_input_allocate_device(struct device *dev)", fails="NULL")
def devm_input_allocate_device(k, dev):
    from ..base.devres import add_py
    idev = input_allocate_device(k)
    if not idev:
        return 0
    wr(k, _dev(k, idev), "device.parent", dev)
    wr(k, idev, "input_dev.devres_managed", 1, 1)
    add_py(k, dev, "devm_input_device_release", _devm_input_release, idev)
    return idev


def input_devices(k) -> list:
    """[(name, device name, owner module name)] of registered input devices."""
    from ..base.core import dev_name
    out = []
    for idev in k.model(Inputs).devs:
        reg = k.registrations.get(("device", _dev(k, idev)))
        out.append((cstr(k, rd(k, idev, "input_dev.name"), 256), dev_name(k, _dev(k, idev)),
                    reg.owner.name if reg and reg.owner else None))
    return out
