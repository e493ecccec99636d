"""drivers/i2c/i2c-core-base.c and i2c-core-smbus.c: the I2C bus, drivers and transfers.

``i2c_register_driver`` puts the driver on ``i2c_bus_type`` (with the
driver core's checks) and walks the adapters for detection: kemu's machine
has no I2C adapter, so there is none and no client, and no probe runs.
``i2c_get_adapter`` finds nothing; ``i2c_match_id`` is the kernel's name
match. Transfers, SMBus accessors and client creation need an adapter or a
client, which never exist here, and adapters are added by bus controllers' probes:
they are link-only (a ``not-modelled``
finding, and the kernel's failure: -ENODEV / ERR_PTR(-ENODEV)).
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, err_ptr, is_err, rd, s32, wr
from ..base.bus import builtin_bus, init_bus_type
from kemu.abi.exports import link_only

# device model, buses (stubs/drivers)
members("struct device_driver", "bus", "owner")
members("struct bus_type", "name", "p")
members("struct i2c_driver", "probe", "remove", "probe_new", "driver", "id_table", "clients",
        "class", "shutdown", "detect", "address_list")
members("struct i2c_device_id", "name", "driver_data")
members("struct i2c_client", "name", "dev", "flags", "addr", "adapter", "init_irq", "irq")

_WHY = "kemu's machine has no I2C adapter, so no client exists"


def _client(k, dev):
    return dev - k.target.offset("i2c_client.dev")


def _driver(k, drv):
    return drv - k.target.offset("i2c_driver.driver")


def match_id(k, table, client) -> int:
    """i2c_match_id(): the i2c_device_id entry named like the client, or 0."""
    t = k.target
    if not table or not client:
        return 0
    name = cstr(k, client + t.offset("i2c_client.name"), t.const("I2C_NAME_SIZE"))
    while k.machine.read_u8(table + t.offset("i2c_device_id.name")):
        if cstr(k, table + t.offset("i2c_device_id.name"), t.const("I2C_NAME_SIZE")) == name:
            return table
        table += t.sizeof("i2c_device_id")
    return 0


def i2c_device_match(k, dev, drv) -> bool:
    return bool(match_id(k, rd(k, _driver(k, drv), "i2c_driver.id_table"), _client(k, dev)))


def i2c_device_probe(k, dev, drv):
    d = _driver(k, drv)
    client = _client(k, dev)
    probe_new = rd(k, d, "i2c_driver.probe_new")
    if probe_new:
        return s32((yield k.call_request(probe_new, client)))
    probe = rd(k, d, "i2c_driver.probe")
    if not probe:
        return -errno.ENODEV
    ident = match_id(k, rd(k, d, "i2c_driver.id_table"), client)
    return s32((yield k.call_request(probe, client, ident)))


def i2c_device_remove(k, dev, drv):
    remove = rd(k, _driver(k, drv), "i2c_driver.remove")
    if remove:
        yield k.call_request(remove, _client(k, dev))
    return 0


builtin_bus("i2c", i2c_device_match, i2c_device_probe, i2c_device_remove)


@data("struct bus_type i2c_bus_type")
def i2c_bus_type(k, addr):
    init_bus_type(k, addr, "i2c")


@export("int i2c_register_driver(struct module *owner, struct i2c_driver *driver)", fails="-ENOMEM")
def i2c_register_driver(k, owner, driver):
    from ..base.bus import driver_register_gen
    from kemu.abi.toolkit import init_list_head
    t = k.target
    drv = driver + t.offset("i2c_driver.driver")
    wr(k, drv, "device_driver.owner", owner)
    wr(k, drv, "device_driver.bus", k.export_addr("i2c_bus_type"))
    init_list_head(k, driver + t.offset("i2c_driver.clients"))
    res = yield from driver_register_gen(k, drv)
    if res:
        return res
    # i2c_for_each_dev(driver, __process_new_driver): no adapter to detect on
    return 0


@export("void i2c_del_driver(struct i2c_driver *driver)")
def i2c_del_driver(k, driver):
    from ..base.bus import driver_unregister_gen
    yield from driver_unregister_gen(k, driver + k.target.offset("i2c_driver.driver"))


@export("const struct i2c_device_id *i2c_match_id(const struct i2c_device_id *id, "
        "const struct i2c_client *client)")
def i2c_match_id(k, id_, client):
    return match_id(k, id_, client)


@export("struct i2c_adapter *i2c_get_adapter(int nr)")
def i2c_get_adapter(k, nr):
    """No adapter is registered in kemu's machine."""
    return 0


@export("void i2c_put_adapter(struct i2c_adapter *adap)")
def i2c_put_adapter(k, adap):
    if adap:
        from kemu.abi.exports import not_modelled
        not_modelled(k, "i2c_put_adapter", _WHY)


@export("int i2c_for_each_dev(void *data, int (*fn)(struct device *dev, void *data))")
def i2c_for_each_dev(k, data_, fn):
    from ..base.bus import bus_for_each_dev
    return (yield from bus_for_each_dev(k, k.export_addr("i2c_bus_type"), 0, data_, fn))


@export("struct i2c_client *i2c_verify_client(struct device *dev)")
def i2c_verify_client(k, dev):
    """No device of i2c_client_type exists in kemu."""
    return 0


@export("void i2c_unregister_device(struct i2c_client *client)")
def i2c_unregister_device(k, client):
    if not client or is_err(client):
        return
    from kemu.abi.exports import not_modelled
    not_modelled(k, "i2c_unregister_device", _WHY)


_ENODEV = -errno.ENODEV
_ERR_ENODEV = err_ptr(-errno.ENODEV)
for _proto, _res in (
        ("s32 i2c_smbus_read_byte(const struct i2c_client *client)", _ENODEV),
        ("s32 i2c_smbus_write_byte(const struct i2c_client *client, u8 value)", _ENODEV),
        ("s32 i2c_smbus_read_byte_data(const struct i2c_client *client, u8 command)", _ENODEV),
        ("s32 i2c_smbus_write_byte_data(const struct i2c_client *client, u8 command, u8 value)",
         _ENODEV),
        ("s32 i2c_smbus_read_word_data(const struct i2c_client *client, u8 command)", _ENODEV),
        ("s32 i2c_smbus_write_word_data(const struct i2c_client *client, u8 command, u16 value)",
         _ENODEV),
        ("s32 i2c_smbus_read_block_data(const struct i2c_client *client, u8 command, "
         "u8 *values)", _ENODEV),
        ("s32 i2c_smbus_write_block_data(const struct i2c_client *client, u8 command, "
         "u8 length, const u8 *values)", _ENODEV),
        ("s32 i2c_smbus_read_i2c_block_data(const struct i2c_client *client, u8 command, "
         "u8 length, u8 *values)", _ENODEV),
        ("s32 i2c_smbus_write_i2c_block_data(const struct i2c_client *client, u8 command, "
         "u8 length, const u8 *values)", _ENODEV),
        ("s32 i2c_smbus_read_i2c_block_data_or_emulated(const struct i2c_client *client, "
         "u8 command, u8 length, u8 *values)", _ENODEV),
        ("s32 i2c_smbus_xfer(struct i2c_adapter *adapter, u16 addr, unsigned short flags, "
         "char read_write, u8 command, int protocol, union i2c_smbus_data *data)", _ENODEV),
        ("s32 __i2c_smbus_xfer(struct i2c_adapter *adapter, u16 addr, unsigned short flags, "
         "char read_write, u8 command, int protocol, union i2c_smbus_data *data)", _ENODEV),
        ("int i2c_transfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)", _ENODEV),
        ("int __i2c_transfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)",
         _ENODEV),
        ("int i2c_transfer_buffer_flags(const struct i2c_client *client, char *buf, int count, "
         "u16 flags)", _ENODEV),
        ("struct i2c_client *i2c_new_dummy_device(struct i2c_adapter *adapter, u16 address)",
         _ERR_ENODEV),
        ("struct i2c_client *devm_i2c_new_dummy_device(struct device *dev, "
         "struct i2c_adapter *adap, u16 address)", _ERR_ENODEV),
        ("struct i2c_client *i2c_new_client_device(struct i2c_adapter *adap, "
         "struct i2c_board_info const *info)", _ERR_ENODEV),
        ("struct i2c_client *i2c_new_ancillary_device(struct i2c_client *client, "
         "const char *name, u16 default_addr)", _ERR_ENODEV),
        ("const void *i2c_get_match_data(const struct i2c_client *client)", 0),
        ("struct i2c_client *i2c_new_scanned_device(struct i2c_adapter *adap, "
         "struct i2c_board_info *info, unsigned short const *addr_list, "
         "int (*probe)(struct i2c_adapter *adap, unsigned short addr))", _ERR_ENODEV),
):
    link_only(_proto, _res, _WHY)

# Adapters are added by the probe of a bus controller kemu's machine does not have
# (i2c-algo-bit and the SMBus drivers only link them); adding one is not modelled.
for _proto, _res in (
        ("int i2c_add_adapter(struct i2c_adapter *adapter)", -errno.ENODEV),
        ("int i2c_add_numbered_adapter(struct i2c_adapter *adap)", -errno.ENODEV),
        ("void i2c_del_adapter(struct i2c_adapter *adap)", None),
):
    link_only(_proto, _res, "kemu's machine has no I2C bus controller to add an adapter for")
