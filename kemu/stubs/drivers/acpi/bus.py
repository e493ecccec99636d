"""drivers/acpi/bus.c, utils.c, ec.c, event.c and the ACPICA entry points drivers use.

kemu's machine has ACPI enabled (``acpi_disabled`` is 0) but its namespace
holds only the root object: no device, method or operation region a driver
could look for, and no embedded controller. So ``acpi_get_handle`` and the
evaluation helpers answer AE_NOT_FOUND, ``ec_read``/``ec_write`` -ENODEV
(the kernel's answer without an EC), ``acpi_dev_present`` false,
``acpi_fetch_acpi_dev`` NULL. ACPI drivers register on ``acpi_bus_type``
(the driver core's checks apply) and, with no ACPI device, never probe.
Notify and address-space handlers can only be installed on a handle found
in the namespace: on the root they are recorded (and must be removed), any
other handle is AE_BAD_PARAMETER. Netlink events go to no listener.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_INFO
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, err_ptr, rd, wr
from ..base.bus import deviceless_bus
from kemu.abi.exports import link_only

# device model, buses (stubs/drivers)
members("struct device_driver", "name", "bus", "owner")
members("struct acpi_driver", "name", "drv", "owner", "class", "ids", "flags", "ops")
members("struct acpi_bus_type", "name", "match", "find_companion", "list", "setup")

ACPI_ROOT_OBJECT = (1 << 64) - 1          # ((acpi_handle) ACPI_TO_POINTER(ACPI_MAX_PTR))


def _c(k, n):
    return k.target.const(n)


class Acpi:
    """The root node handle and the handlers installed on it."""

    def __init__(self, k):
        self.root = k.machine.alloc_kdata(64, 8)
        self.notify: dict[tuple, int] = {}
        self.space: dict[tuple, int] = {}

    def valid(self, handle) -> bool:
        return handle in (self.root, ACPI_ROOT_OBJECT)


@data("int acpi_disabled")
def acpi_disabled(k, addr):
    k.machine.write_u32(addr, 0)


# acpi_bus_type: kernel data Linux does not export
acpi_bus_type = deviceless_bus("acpi", exported=False)


@export("int acpi_bus_register_driver(struct acpi_driver *driver)")
def acpi_bus_register_driver(k, driver):
    from ..base.bus import driver_register_gen
    t = k.target
    drv = driver + t.offset("acpi_driver.drv")
    wr(k, drv, "device_driver.name", driver + t.offset("acpi_driver.name"))
    wr(k, drv, "device_driver.bus", acpi_bus_type(k))
    wr(k, drv, "device_driver.owner", rd(k, driver, "acpi_driver.owner"))
    return (yield from driver_register_gen(k, drv))


@export("void acpi_bus_unregister_driver(struct acpi_driver *driver)")
def acpi_bus_unregister_driver(k, driver):
    from ..base.bus import driver_unregister_gen
    yield from driver_unregister_gen(k, driver + k.target.offset("acpi_driver.drv"))


# ------------------------------------------------------------ namespace lookups
@export("u32 acpi_get_handle(void *parent, char *pathname, "
        "void **ret_handle)")
def acpi_get_handle(k, parent, pathname, ret_handle):
    if not ret_handle or (not parent and not pathname):
        return _c(k, "AE_BAD_PARAMETER")
    path = cstr(k, pathname, 256)
    if path == "\\" or (not path and k.model(Acpi).valid(parent)):
        k.machine.write_u64(ret_handle, k.model(Acpi).root)
        return _c(k, "AE_OK")
    return _c(k, "AE_NOT_FOUND")


def _not_found(name, proto):
    def fn(k, *args):
        return _c(k, "AE_NOT_FOUND")
    fn.__name__ = name
    fn.__doc__ = f"{name}(): AE_NOT_FOUND, the namespace has no such object."
    export(proto)(fn)


for _n, _p in (
        ("acpi_evaluate_object", "u32 acpi_evaluate_object(void *object, "
         "char *pathname, struct acpi_object_list *parameter_objects, "
         "struct acpi_buffer *return_object_buffer)"),
        ("acpi_evaluate_object_typed", "u32 acpi_evaluate_object_typed("
         "void *object, char *pathname, struct acpi_object_list *external_params, "
         "struct acpi_buffer *return_buffer, u32 return_type)"),
        ("acpi_execute_simple_method", "u32 acpi_execute_simple_method("
         "void *handle, char *method, u64 arg)"),
        ("acpi_evaluate_integer", "u32 acpi_evaluate_integer(void *handle, "
         "char *pathname, struct acpi_object_list *arguments, unsigned long long *data)"),
):
    _not_found(_n, _p)


@export("u32 acpi_get_object_info(void *handle, "
        "struct acpi_device_info **return_buffer)")
def acpi_get_object_info(k, handle, return_buffer):
    return _c(k, "AE_BAD_PARAMETER") if not k.model(Acpi).valid(handle) else \
        _c(k, "AE_TYPE")


@export("union acpi_object *acpi_evaluate_dsm(void *handle, const guid_t *guid, u64 rev, "
        "u64 func, union acpi_object *argv4)")
def acpi_evaluate_dsm(k, handle, guid, rev, func, argv4):
    return 0


@export("bool acpi_has_method(void *handle, char *name)")
def acpi_has_method(k, handle, name):
    return False


@export("struct acpi_device *acpi_fetch_acpi_dev(void *handle)")
def acpi_fetch_acpi_dev(k, handle):
    return 0


@export("u32 acpi_get_devices(const char *HID, void *user_function, void *context, "
        "void **return_value)")
def acpi_get_devices(k, hid, user_function, context, return_value):
    """acpica/nsxfeval.c: walk the namespace's devices of ``HID``; it holds none, so the
    callback never runs and the walk is AE_OK (``*return_value`` is left alone)."""
    if not user_function:
        return 0x1001                               # AE_BAD_PARAMETER
    return 0


@export("bool acpi_dev_present(const char *hid, const char *uid, s64 hrv)")
def acpi_dev_present(k, hid, uid, hrv):
    return False


_EXCEPTIONS = {0: "AE_OK", 5: "AE_NOT_FOUND", 6: "AE_NOT_EXIST", 7: "AE_ALREADY_EXISTS",
               8: "AE_TYPE", 10: "AE_NULL_ENTRY", 0x1001: "AE_BAD_PARAMETER"}


class _Strings:
    def __init__(self, k):
        self.addrs: dict[str, int] = {}


@export("const char *acpi_format_exception(u32 exception)")
def acpi_format_exception(k, exception):
    text = _EXCEPTIONS.get(exception, "UNKNOWN_STATUS_CODE")
    strings = k.model(_Strings).addrs
    if text not in strings:
        a = k.machine.alloc_kdata(len(text) + 1, 1)
        k.machine.write(a, text.encode() + b"\0")
        strings[text] = a
    return strings[text]


# ------------------------------------------------------------ handlers on the root
@export("u32 acpi_install_notify_handler(void *device, u32 handler_type, "
        "void *handler, void *context)")
def acpi_install_notify_handler(k, device, handler_type, handler, context):
    model = k.model(Acpi)
    if not model.valid(device) or not handler:
        return _c(k, "AE_BAD_PARAMETER")
    key = (handler_type, handler)
    if any(t & handler_type for t, _h in model.notify):
        return _c(k, "AE_ALREADY_EXISTS")
    model.notify[key] = context
    k.register("acpi notify handler", key, k.current_module(),
               f"ACPI notify handler {k.format_addr(handler)} on \\")
    return _c(k, "AE_OK")


@export("u32 acpi_remove_notify_handler(void *device, u32 handler_type, "
        "void *handler)")
def acpi_remove_notify_handler(k, device, handler_type, handler):
    model = k.model(Acpi)
    if not model.valid(device) or not handler:
        return _c(k, "AE_BAD_PARAMETER")
    if model.notify.pop((handler_type, handler), None) is None:
        return _c(k, "AE_NOT_EXIST")
    k.unregister("acpi notify handler", (handler_type, handler))
    return _c(k, "AE_OK")


@export("u32 acpi_install_address_space_handler(void *device, "
        "u8 space_id, void *handler, "
        "void *setup, void *context)")
def acpi_install_address_space_handler(k, device, space_id, handler, setup, context):
    model = k.model(Acpi)
    if not model.valid(device):
        return _c(k, "AE_BAD_PARAMETER")
    if space_id in {s for s, _h in model.space}:
        return _c(k, "AE_ALREADY_EXISTS")
    model.space[(space_id, handler)] = context
    k.register("acpi address space handler", (space_id, handler), k.current_module(),
               f"ACPI address space {space_id} handler {k.format_addr(handler)}")
    return _c(k, "AE_OK")


@export("u32 acpi_remove_address_space_handler(void *device, "
        "u8 space_id, void *handler)")
def acpi_remove_address_space_handler(k, device, space_id, handler):
    model = k.model(Acpi)
    if not model.valid(device):
        return _c(k, "AE_BAD_PARAMETER")
    if model.space.pop((space_id, handler), None) is None:
        return _c(k, "AE_NOT_EXIST")
    k.unregister("acpi address space handler", (space_id, handler))
    return _c(k, "AE_OK")


@export("int acpi_bus_generate_netlink_event(const char *device_class, const char *bus_id, "
        "u8 type, int data)")
def acpi_bus_generate_netlink_event(k, device_class, bus_id, type_, data_):
    """No user space listens to the ACPI event genetlink family in kemu."""
    return 0


# ------------------------------------------------------------ embedded controller (ec.c)
@export("int ec_read(u8 addr, u8 *val)")
def ec_read(k, addr, val):
    return -errno.ENODEV


@export("int ec_write(u8 addr, u8 val)")
def ec_write(k, addr, val):
    return -errno.ENODEV


@export("int ec_transaction(u8 command, const u8 *wdata, unsigned wdata_len, u8 *rdata, "
        "unsigned rdata_len)")
def ec_transaction(k, command, wdata, wdata_len, rdata, rdata_len):
    return -errno.ENODEV


@export("void *ec_get_handle(void)")
def ec_get_handle(k):
    return 0


@export("const void *acpi_device_get_match_data(const struct device *dev)")
def acpi_device_get_match_data(k, dev):
    """NULL: no device has an ACPI companion in kemu's machine."""
    return 0


@export("bool acpi_resources_are_enforced(void)")
def acpi_resources_are_enforced(k):
    """acpi_enforce_resources=strict, the default."""
    return True


@export("int acpi_bus_for_each_dev(int (*fn)(struct device *, void *), void *data)")
def acpi_bus_for_each_dev(k, fn, data_):
    """No ACPI device is enumerated: nothing to visit."""
    return 0


@export("struct acpi_device *acpi_get_acpi_dev(void *handle)")
def acpi_get_acpi_dev(k, handle):
    return 0


@export("u32 acpi_acquire_mutex(void *handle, char *pathname, u16 timeout)")
def acpi_acquire_mutex(k, handle, pathname, timeout):
    return _c(k, "AE_NOT_FOUND")


@export("u32 acpi_release_mutex(void *handle, char *pathname)")
def acpi_release_mutex(k, handle, pathname):
    return _c(k, "AE_NOT_FOUND")


def _handle_path(k, handle) -> str:
    return "\\" if k.model(Acpi).valid(handle) else "<n/a>"


@export("void acpi_handle_printk(const char *level, void *handle, const char *fmt, ...)")
def acpi_handle_printk(k, level, handle, fmt, va):
    """printk("%sACPI: %s: %pV", level, acpi_handle_path(handle) or "<n/a>", ...)."""
    from kemu.stubs.lib.vsprintf import vformat
    from ...kernel.printk import vprintk_emit
    lvl = k.machine.read_cstr(level, 4) if level else b""
    vprintk_emit(k, lvl + f"ACPI: {_handle_path(k, handle)}: ".encode("utf-8", "surrogateescape") + vformat(k, fmt, va))


@export("void __acpi_handle_debug(struct _ddebug *descriptor, void *handle, const char *fmt, "
        "...)")
def __acpi_handle_debug(k, descriptor, handle, fmt, va):
    """Dynamic debug is off for every site in kemu: nothing is printed."""


@export("void acpi_evaluation_failure_warn(void *handle, const char *name, u32 status)")
def acpi_evaluation_failure_warn(k, handle, name, status):
    from ...kernel.printk import vprintk_emit
    text = cstr(k, acpi_format_exception(k, status), 64)
    vprintk_emit(k, f"\x014ACPI: {_handle_path(k, handle)}: {cstr(k, name, 64)} evaluation "
                    f"failed: {text}\n".encode("utf-8", "surrogateescape"))


for _p, _r in (
        ("u32 acpi_extract_package(union acpi_object *package, struct acpi_buffer *format, "
         "struct acpi_buffer *buffer)", lambda k, *a: _c(k, "AE_BAD_PARAMETER")),
        ("u32 acpi_acquire_global_lock(u16 timeout, u32 *handle)",
         lambda k, *a: _c(k, "AE_NOT_EXIST")),
        ("u32 acpi_release_global_lock(u32 handle)", lambda k, *a: _c(k, "AE_NOT_EXIST")),
        ("const char *acpi_device_hid(struct acpi_device *device)", 0),
        ("u32 acpi_install_gpe_handler(void *gpe_device, u32 gpe_number, u32 type, "
         "u32 (*address)(void *gpe_device, u32 gpe_number, void *context), void *context)",
         lambda k, *a: _c(k, "AE_NOT_EXIST")),
        ("u32 acpi_remove_gpe_handler(void *gpe_device, u32 gpe_number, "
         "u32 (*address)(void *gpe_device, u32 gpe_number, void *context))",
         lambda k, *a: _c(k, "AE_NOT_EXIST")),
):
    link_only(_p, _r, "kemu's ACPI namespace has no device or object for it")


# ------------------------------------------------------------ glue.c and device PM
class AcpiBusTypes:
    """register_acpi_bus_type()'s list (bus types that find ACPI companions)."""

    def __init__(self, k):
        self.types: list[int] = []


@export("int register_acpi_bus_type(struct acpi_bus_type *type)")
def register_acpi_bus_type(k, type_):
    if not type_ or not rd(k, type_, "acpi_bus_type.match") or \
            not rd(k, type_, "acpi_bus_type.find_companion"):
        return -errno.ENODEV
    k.model(AcpiBusTypes).types.append(type_)
    name = cstr(k, rd(k, type_, "acpi_bus_type.name"), 64)
    k.log.emit(KERN_INFO, f"ACPI: bus type {name} registered")
    k.register("acpi bus type", type_, k.current_module(), f"ACPI bus type {name}")
    return 0


@export("int unregister_acpi_bus_type(struct acpi_bus_type *type)")
def unregister_acpi_bus_type(k, type_):
    types = k.model(AcpiBusTypes).types
    if not type_ or type_ not in types:
        return -errno.ENODEV
    types.remove(type_)
    k.log.emit(KERN_INFO, f"ACPI: bus type {cstr(k, rd(k, type_, 'acpi_bus_type.name'), 64)} "
                  "unregistered")
    k.unregister("acpi bus type", type_)
    return 0


@export("bool acpi_bus_power_manageable(void *handle)")
def acpi_bus_power_manageable(k, handle):
    """No ACPI device exists for any handle: not power manageable."""
    return False


@export("int acpi_bus_set_power(void *handle, int state)")
def acpi_bus_set_power(k, handle, state):
    return -errno.ENODEV


@export("bool acpi_check_dsm(void *handle, const guid_t *guid, u64 rev, u64 funcs)")
def acpi_check_dsm(k, handle, guid, rev, funcs):
    return False


@export("struct acpi_device *acpi_find_child_device(struct acpi_device *parent, u64 address, "
        "bool check_children)")
def acpi_find_child_device(k, parent, address, check_children):
    return 0


@export("struct acpi_device *acpi_find_child_by_adr(struct acpi_device *adev, u64 adr)")
def acpi_find_child_by_adr(k, adev, adr):
    return 0


@export("bool acpi_get_physical_device_location(void *handle, struct acpi_pld_info **pld)")
def acpi_get_physical_device_location(k, handle, pld):
    return False


# ------------------------------------------------------------ enumeration over an empty namespace
@export("struct acpi_device *acpi_dev_get_first_match_dev(const char *hid, const char *uid, "
        "s64 hrv)")
def acpi_dev_get_first_match_dev(k, hid, uid, hrv):
    return 0


@export("struct device *acpi_get_first_physical_node(struct acpi_device *adev)")
def acpi_get_first_physical_node(k, adev):
    return 0


@export("bool acpi_dev_state_d0(struct device *dev)")
def acpi_dev_state_d0(k, dev):
    """True: a device without an ACPI companion is considered in D0."""
    return True


@export("bool acpi_dev_hid_uid_match(struct acpi_device *adev, const char *hid2, "
        "const char *uid2)")
def acpi_dev_hid_uid_match(k, adev, hid2, uid2):
    return False


@export("u32 acpi_walk_namespace(u32 type, void *start_object, u32 max_depth, "
        "void *descending_callback, void *ascending_callback, void *context, "
        "void **return_value)")
def acpi_walk_namespace(k, type_, start_object, max_depth, descending_callback,
                        ascending_callback, context, return_value):
    """The namespace below the root holds nothing: no callback runs."""
    if not k.model(Acpi).valid(start_object) or not max_depth or \
            (not descending_callback and not ascending_callback):
        return _c(k, "AE_BAD_PARAMETER")
    return _c(k, "AE_OK")


@export("u32 acpi_walk_resources(void *device, char *name, void *user_function, "
        "void *context)")
def acpi_walk_resources(k, device, name, user_function, context):
    return _c(k, "AE_BAD_PARAMETER") if not k.model(Acpi).valid(device) else \
        _c(k, "AE_TYPE")


@export("u32 acpi_get_table(char *signature, u32 instance, struct acpi_table_header **out_table)")
def acpi_get_table(k, signature, instance, out_table):
    """kemu's firmware provides no ACPI table a driver asks for."""
    return _c(k, "AE_NOT_FOUND")


@export("u32 acpi_enable_gpe(void *gpe_device, u32 gpe_number)")
def acpi_enable_gpe(k, gpe_device, gpe_number):
    return _c(k, "AE_BAD_PARAMETER")


@export("u32 acpi_disable_gpe(void *gpe_device, u32 gpe_number)")
def acpi_disable_gpe(k, gpe_device, gpe_number):
    return _c(k, "AE_BAD_PARAMETER")


@export("void acpi_ec_mark_gpe_for_wake(void)")
def acpi_ec_mark_gpe_for_wake(k):
    """No EC: nothing to mark."""


@export("bool acpi_has_watchdog(void)")
def acpi_has_watchdog(k):
    """No WDAT table."""
    return False


@export("bool acpi_quirk_skip_acpi_ac_and_battery(void)")
def acpi_quirk_skip_acpi_ac_and_battery(k):
    return False


@export("int i2c_acpi_client_count(struct acpi_device *adev)")
def i2c_acpi_client_count(k, adev):
    """acpi_dev_get_resources() of no ACPI device: -EINVAL."""
    return -errno.EINVAL


class Wakeup:
    """acpi_register_wakeup_handler()'s list."""

    def __init__(self, k):
        self.handlers: list[tuple[int, int]] = []


@export("int acpi_register_wakeup_handler(int wake_irq, bool (*wakeup)(void *context), "
        "void *context)")
def acpi_register_wakeup_handler(k, wake_irq, wakeup, context):
    """Recorded: the SCI is IRQ 9 on kemu's machine; other IRQs are not the SCI (0)."""
    if wake_irq != 9:
        return 0
    k.model(Wakeup).handlers.append((wakeup, context))
    k.register("acpi wakeup handler", (wakeup, context), k.current_module(),
               f"ACPI wakeup handler {k.format_addr(wakeup)}")
    return 0


@export("void acpi_unregister_wakeup_handler(bool (*wakeup)(void *context), void *context)")
def acpi_unregister_wakeup_handler(k, wakeup, context):
    handlers = k.model(Wakeup).handlers
    if (wakeup, context) in handlers:
        handlers.remove((wakeup, context))
        k.unregister("acpi wakeup handler", (wakeup, context))


for _p, _r in (
        ("int acpi_match_device_ids(struct acpi_device *device, "
         "const struct acpi_device_id *ids)", -errno.ENOENT),
        ("struct platform_device *acpi_create_platform_device(struct acpi_device *adev, "
         "const struct property_entry *properties)", 0),
        ("int acpi_register_lps0_dev(struct acpi_s2idle_dev_ops *arg)", -errno.ENODEV),
        ("void acpi_unregister_lps0_dev(struct acpi_s2idle_dev_ops *arg)", None),
        ("int acpi_bus_get_status(struct acpi_device *device)", -errno.ENODEV),
        ("void acpi_pm_wakeup_event(struct device *dev)", None),
        ("int acpi_notifier_call_chain(struct acpi_device *dev, u32 type, u32 data)", 0),
        ("int acpi_dev_get_resources(struct acpi_device *adev, struct list_head *list, "
         "int (*preproc)(struct acpi_resource *, void *), void *preproc_data)", -errno.EINVAL),
        ("void acpi_dev_free_resource_list(struct list_head *list)", None),
        ("struct i2c_client *i2c_acpi_new_device_by_fwnode(struct fwnode_handle *fwnode, "
         "int index, struct i2c_board_info *info)", err_ptr(-errno.ENODEV)),
):
    link_only(_p, _r, "kemu's ACPI namespace has no device or object for it")
