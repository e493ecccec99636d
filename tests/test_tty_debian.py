"""tty drivers and ports as they register (stubs/drivers/tty/tty_io.py), with Debian's
USB serial drivers and a driver made in Python."""
from __future__ import annotations

from kemu import Kernel
from kemu.abi.toolkit import is_err
from kemu.survey import shared_tree, survey_modules, tree_root


def _call(k, name, *args) -> int:
    """Call an export as module code would (its callbacks run in emulation)."""
    return k.call(k.export_addr(name), *args)


def test_usb_serial_registers_ttyUSB_and_gives_it_back(debian_modules):
    k = Kernel(modules=shared_tree(tree_root(str(debian_modules))))
    for rel in ("drivers/usb/common/usb-common.ko", "drivers/usb/core/usbcore.ko",
                "drivers/usb/serial/usbserial.ko", "drivers/usb/serial/pl2303.ko"):
        k.load(str(debian_modules / rel))
    devices = k.proc_read("/proc/devices").decode()
    assert "188 ttyUSB\n" in devices
    usbserial = k.modules["usbserial"]
    assert [r.what for r in k.registered("tty driver")] == ["tty driver ttyUSB"]
    assert [r.owner for r in k.registered("tty driver")] == [usbserial]
    assert 'char device region 188:0 (512 minors, "ttyUSB")' in \
        [r.what for r in k.registrations.values()]
    for name in ("pl2303", "usbserial", "usbcore", "usb_common"):
        k.unload(name)
    assert "188 ttyUSB" not in k.proc_read("/proc/devices").decode()
    assert k.findings == []
    assert k.registrations == {}


def test_usb_serial_drivers_are_clean(debian_modules):
    tree = shared_tree(tree_root(str(debian_modules)))
    results = survey_modules(tree, ["pl2303", "ftdi_sio", "cp210x", "ch341", "option"])
    assert [(r.module, r.outcome, r.findings) for r in results] == \
        [(r.module, "ok", []) for r in results]


def test_a_driver_with_numbered_lines_gets_its_devices_and_nodes():
    """Without TTY_DRIVER_DYNAMIC_DEV every line is a device of class tty with a /dev node;
    the last tty_driver_kref_put() removes them."""
    from kemu.stubs.drivers.base.devtmpfs import devices
    from kemu.stubs.drivers.tty import tty_io
    k = Kernel()
    drv = tty_io.__tty_alloc_driver(k, 2, 0, 0)
    assert not is_err(drv)
    assert is_err(tty_io.__tty_alloc_driver(k, 0, 0, 0))           # no line: -EINVAL
    name = k.heap.alloc(16, zero=True)
    k.machine.write(name, b"ttykemu\0")
    k.machine.write_u64(drv + k.target.offset("tty_driver.name"), name)
    k.machine.write_u32(drv + k.target.offset("tty_driver.major"), 240)
    assert _call(k, "tty_register_driver", drv) == 0
    nodes = devices(k)
    assert nodes["ttykemu0"][2] == (240 << 20) and nodes["ttykemu1"][2] == (240 << 20) + 1
    assert "240 ttykemu\n" in k.proc_read("/proc/devices").decode()
    _call(k, "tty_unregister_driver", drv)
    _call(k, "tty_driver_kref_put", drv)
    assert "ttykemu0" not in devices(k)
    assert "240 ttykemu" not in k.proc_read("/proc/devices").decode()
    assert k.registrations == {}
