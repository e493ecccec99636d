"""Device core, buses, resources and IRQs (stubs/drivers, stubs/kernel/irq, resource.py).

Debian's own driver modules load, initialise and unload, strict, with
nothing left behind: their bus drivers are registered on the right bus with
the module as owner and gone after exit; I/O regions, misc devices and
platform devices a module makes are real and released. The kernel's own
rules are checked on small cases built in Python: region conflicts with the
boot kernel's ports, the driver core's duplicate-name refusal, platform
match and probe of a device a module registers, IRQ sharing.
"""
from __future__ import annotations

import os

import pytest

from kemu import Kernel
from kemu.errors import KemuError

# module -> modules it depends on (loaded first, unloaded last)
NEEDS = {
    "drivers/misc/ad525x_dpot-spi.ko": ["drivers/misc/ad525x_dpot.ko"],
    "drivers/misc/ad525x_dpot-i2c.ko": ["drivers/misc/ad525x_dpot.ko"],
    "drivers/misc/c2port/c2port-duramar2150.ko": ["drivers/misc/c2port/core.ko"],
    "drivers/hwmon/w83781d.ko": ["drivers/hwmon/hwmon-vid.ko"],
}


def _modname(path):
    return os.path.basename(path)[:-3].replace("-", "_")


def _strict_cycle(debian_modules, rel, check=None):
    """Load deps and ``rel`` strict, run ``check(k, mod)``, unload all, assert clean."""
    k = Kernel()
    for dep in NEEDS.get(rel, []):
        k.load(str(debian_modules / dep))
    try:
        k.load(str(debian_modules / rel))
    except KemuError as exc:
        pytest.fail(f"{rel}: {exc} {getattr(exc, 'missing', [])[:5]}")
    mod = k.modules[_modname(rel)]
    if check is not None:
        check(k, mod)
    k.unload(mod.name)
    for dep in reversed(NEEDS.get(rel, [])):
        k.unload(_modname(dep))
    assert k.findings == []
    assert k.registrations == {}
    k.log.flush()
    assert not [r.text for r in k.log.records if r.level <= 4], "the kernel complained"
    return k


def _drivers(k, mod):
    return [r.what for r in k.registered("driver") if r.owner is mod]


@pytest.mark.parametrize("rel,what", [
    ("drivers/misc/eeprom/eeprom.ko", "i2c driver eeprom"),
    ("drivers/misc/eeprom/ee1004.ko", "i2c driver ee1004"),
    ("drivers/misc/isl29003.ko", "i2c driver isl29003"),
    ("drivers/misc/ds1682.ko", "i2c driver ds1682"),
    ("drivers/misc/ad525x_dpot-spi.ko", "spi driver ad_dpot"),
    ("drivers/misc/cb710/cb710.ko", "pci driver cb710"),
    ("drivers/char/tpm/tpm_i2c_atmel.ko", "i2c driver tpm_i2c_atmel"),
    ("drivers/hwmon/k8temp.ko", "pci driver k8temp"),
    ("drivers/hwmon/adcxx.ko", None),
    ("drivers/hwmon/w83781d.ko", "i2c driver w83781d"),
    ("drivers/leds/leds-lp3944.ko", "i2c driver lp3944"),
    ("drivers/platform/x86/toshiba_haps.ko", "acpi driver Toshiba HAPS"),
    ("drivers/input/misc/atlas_btns.ko", "acpi driver Atlas ACPI"),
    ("drivers/platform/x86/acer-wireless.ko", "acpi driver Acer Wireless Radio Control Driver"),
])
def test_bus_driver_registered_and_removed(debian_modules, rel, what):
    def check(k, mod):
        drivers = _drivers(k, mod)
        assert drivers, f"{rel} registered no driver"
        if what is not None:
            assert what in drivers
        from kemu.stubs.drivers.base.bus import buses
        bus, name = drivers[0].split(" driver ")
        assert name in buses(k)[bus][1]
    k = _strict_cycle(debian_modules, rel, check)
    from kemu.stubs.drivers.base.bus import buses
    assert all(not drvs for _devs, drvs in buses(k).values())


@pytest.mark.parametrize("name", ["timer", "pattern", "oneshot", "transient", "default-on"])
def test_led_trigger_modules(debian_modules, name):
    rel = f"drivers/leds/trigger/ledtrig-{name}.ko"

    def check(k, mod):
        assert [(r.what, r.owner) for r in k.registered("led trigger")] == \
            [(f"LED trigger {name}", mod)]
    _strict_cycle(debian_modules, rel, check)


def test_led_trigger_name_taken_by_the_boot_kernel():
    from kemu.stubs.drivers.leds.led_class import led_trigger_register
    k = Kernel()
    trig = k.heap.alloc(k.target.sizeof("led_trigger"), zero=True)
    k.machine.write_u64(trig + k.target.offset("led_trigger.name"), _cstr(k, "disk-activity"))
    gen = led_trigger_register(k, trig)
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == -17                      # -EEXIST
    assert k.registrations == {}


def test_adcxx_registers_its_spi_drivers(debian_modules):
    def check(k, mod):
        assert any(w.startswith("spi driver ") for w in _drivers(k, mod))
    _strict_cycle(debian_modules, "drivers/hwmon/adcxx.ko", check)


def test_tlclk_region_platform_device_and_misc_device(debian_modules):
    def check(k, mod):
        from kemu.stubs.kernel.resource import resource_tree
        from kemu.stubs.drivers.base.core import device_list
        regions = [r.what for r in k.registered("resource") if r.owner is mod]
        assert regions == ["I/O ports 0xa08-0xa0f (telco_clock)"]
        assert any(n == "telco_clock" for _d, s, e, n in resource_tree(k, "ioport")
                   if (s, e) == (0xa08, 0xa0f))
        paths = [p for p, _devt, _c, owner in device_list(k) if owner == "tlclk"]
        assert "/devices/platform/telco_clock" in paths
    k = _strict_cycle(debian_modules, "drivers/char/tlclk.ko", check)
    from kemu.stubs.kernel.resource import resource_tree
    assert not [n for *_r, n in resource_tree(k, "ioport") if n == "telco_clock"]


def test_c2port_device_with_idr_and_region(debian_modules):
    def check(k, mod):
        regions = [r.what for r in k.registered("resource") if r.owner is mod]
        assert regions == ["I/O ports 0x325-0x326 (c2port)"]
        assert [r.what for r in k.registered("device") if r.owner is mod] == ["device c2port0"]
    k = _strict_cycle(debian_modules, "drivers/misc/c2port/c2port-duramar2150.ko", check)
    assert "c2port c2port0: C2 port uc removed" in [r.text for r in k.log.records]


def test_duplicate_driver_name_refused(debian_modules):
    k = Kernel()
    k.load(str(debian_modules / "drivers/misc/ds1682.ko"))
    from kemu.stubs.drivers.base.bus import Buses, driver_register_gen
    drv = next(r.key for r in k.registered("driver"))
    # a second struct device_driver with the same name on the same bus
    t = k.target
    other = k.heap.alloc(t.sizeof("device_driver"), zero=True)
    k.machine.write(other, k.machine.read(drv, t.sizeof("device_driver")))
    k.machine.write_u64(other + t.offset("device_driver.p"), 0)
    gen = driver_register_gen(k, other)
    try:
        next(gen)
    except StopIteration as stop:
        assert stop.value == -16                  # -EBUSY
    k.log.flush()
    assert "Error: Driver 'ds1682' is already registered, aborting..." in \
        [r.text for r in k.log.records]
    assert len(k.model(Buses).by_addr[k.export_addr("i2c_bus_type")].drivers) == 1
    k.unload("ds1682")
    assert k.registrations == {}


def _cstr(k, text):
    addr = k.heap.alloc(len(text) + 1, zero=True)
    k.machine.write(addr, text.encode() + b"\0")
    return addr


def test_request_region_conflicts_with_boot_ports():
    from kemu.stubs.kernel.resource import __release_region, __request_region, resource_tree
    k = Kernel()
    io = k.export_addr("ioport_resource")
    name = _cstr(k, "kemu-test")
    assert __request_region(k, io, 0x3F8, 8, name, 0) == 0        # the serial port's
    assert __request_region(k, io, 0x60, 1, name, 0) == 0         # the keyboard's
    res = __request_region(k, io, 0x2E0, 8, name, 0)             # free, in a PCI window
    assert res
    tree = resource_tree(k, "ioport")
    assert (1, 0x2E0, 0x2E7, "kemu-test") in tree                 # below "PCI Bus 0000:00"
    assert __request_region(k, io, 0x2E4, 2, name, 0) == 0        # now busy
    assert [r.what for r in k.registered("resource")] == ["I/O ports 0x2e0-0x2e7 (kemu-test)"]
    __release_region(k, io, 0x2E0, 8)
    assert k.registrations == {}
    __release_region(k, io, 0x2E0, 8)
    k.log.flush()
    assert k.log.records[-1].text == \
        "Trying to free nonexistent resource <00000000000002e0-00000000000002e7>"


def test_irq_lines_shared_busy_and_double_free():
    from kemu.stubs.kernel.irq.manage import free_irq, irq_actions, setup_irq
    k = Kernel()
    c = k.target.const
    name = _cstr(k, "kemu-test")
    handler = k.export_addr("free_irq")                  # any code address: never called
    assert setup_irq(k, 1, handler, 0, 0, name, 0) == -16           # i8042's, not shared
    k.log.flush()
    assert k.log.records[-1].text == \
        "genirq: Flags mismatch irq 1. 00000000 (kemu-test) vs. 00000000 (i8042)"
    assert setup_irq(k, 9, handler, 0, c("IRQF_SHARED"), name, 0) == -22   # shared needs dev_id
    assert setup_irq(k, 9, handler, 0, c("IRQF_SHARED"), name, 0x1234) == 0  # ACPI's SCI
    assert setup_irq(k, 200, handler, 0, 0, name, 0) == -22          # no descriptor
    assert setup_irq(k, 5, 0, handler, 0, name, 0) == -22            # threaded without ONESHOT
    assert setup_irq(k, 5, handler, 0, 0, name, 0) == 0
    assert [a[0] for a in irq_actions(k)[9]] == ["acpi", "kemu-test"]
    assert len(k.registered("irq")) == 2
    assert free_irq(k, 9, 0x1234) == name
    assert free_irq(k, 5, 0) == name
    assert k.registrations == {}
    assert free_irq(k, 5, 0) == 0
    assert [f["kind"] for f in k.findings] == ["warning"]
    assert "Trying to free already-free IRQ 5" in k.findings[0]["message"]


def test_idr_and_ida():
    from kemu.stubs.lib import idr as I
    k = Kernel()
    t = k.target
    idr = k.heap.alloc(t.sizeof("idr"), zero=True)
    assert I.idr_alloc(k, idr, 0x1000, 0, 0, 0) == 0
    assert I.idr_alloc(k, idr, 0x2000, 0, 0, 0) == 1
    assert I.idr_alloc(k, idr, 0x3000, 5, 7, 0) == 5
    assert I.idr_alloc(k, idr, 0x3000, 6, 7, 0) == 6
    assert I.idr_alloc(k, idr, 0x3000, 5, 7, 0) == -28               # -ENOSPC
    assert I.idr_find(k, idr, 1) == 0x2000
    assert I.idr_remove(k, idr, 0) == 0x1000
    assert I.idr_alloc(k, idr, 0x4000, 0, 0, 0) == 0                 # lowest free again
    assert k.machine.read_u64(idr + t.offset("idr.idr_rt") + t.offset("xarray.xa_head"))
    I.idr_destroy(k, idr)
    assert I.idr_find(k, idr, 1) == 0
    assert not k.machine.read_u64(idr + t.offset("idr.idr_rt") + t.offset("xarray.xa_head"))
    ida = k.heap.alloc(t.sizeof("ida"), zero=True)
    assert [I.ida_alloc_range(k, ida, 0, 0xFFFFFFFF, 0) for _ in range(3)] == [0, 1, 2]
    I.ida_free(k, ida, 1)
    assert I.ida_alloc_range(k, ida, 0, 0xFFFFFFFF, 0) == 1
    assert k.findings == []
    I.ida_free(k, ida, 7)
    assert "ida_free called for id=7 which is not allocated." in k.findings[0]["message"]


# ------------------------------------------------------------ a module that brings its own device
PLATFORM_SOURCE = r'''
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/pm_runtime.h>
#include <linux/ioport.h>
#include <linux/input.h>
#include <linux/leds.h>
#include <linux/slab.h>
#include <linux/hwmon.h>
#include <linux/err.h>

static struct platform_device *pdev;
static struct input_dev *idev;
static int removed;
static int events[9];

static int kemu_bus_event(struct notifier_block *nb, unsigned long action, void *data)
{
	if (action < 9)
		events[action]++;
	return NOTIFY_DONE;
}
static struct notifier_block kemu_nb = { .notifier_call = kemu_bus_event };

static void kemu_led_set(struct led_classdev *l, enum led_brightness b) { }
static struct led_classdev kemu_led = { .name = "kemu::test", .brightness_set = kemu_led_set };

static int kemu_probe(struct platform_device *p)
{
	struct resource *r = platform_get_resource(p, IORESOURCE_IO, 0);
	void *mem = devm_kzalloc(&p->dev, 100, GFP_KERNEL);
	struct device *hw;
	int err;

	if (!r || !mem)
		return -EINVAL;
	if (!devm_request_region(&p->dev, r->start + 8, 4, "kemu-probe"))
		return -EBUSY;
	pm_runtime_enable(&p->dev);
	err = pm_runtime_resume_and_get(&p->dev);
	pr_info("kemu_plat: probe %s io %pR rpm %d\n", dev_name(&p->dev), r, err);
	pm_runtime_put_sync(&p->dev);
	idev = devm_input_allocate_device(&p->dev);
	if (!idev)
		return -ENOMEM;
	idev->name = "kemu test buttons";
	input_set_capability(idev, EV_KEY, KEY_POWER);
	err = input_register_device(idev);
	if (err)
		return err;
	hw = devm_hwmon_device_register_with_groups(&p->dev, "kemu", mem, NULL);
	if (IS_ERR(hw))
		return PTR_ERR(hw);
	return devm_led_classdev_register(&p->dev, &kemu_led);
}

static int kemu_remove(struct platform_device *p)
{
	pm_runtime_disable(&p->dev);
	removed++;
	pr_info("kemu_plat: remove %s\n", dev_name(&p->dev));
	return 0;
}

static struct platform_driver kemu_driver = {
	.probe = kemu_probe,
	.remove = kemu_remove,
	.driver = { .name = "kemu_plat" },
};

static int __init kemu_init(void)
{
	struct resource res = DEFINE_RES_IO(0x2f0, 16);
	int err;

	bus_register_notifier(&platform_bus_type, &kemu_nb);
	err = platform_driver_register(&kemu_driver);

	if (err)
		return err;
	pdev = platform_device_register_simple("kemu_plat", PLATFORM_DEVID_AUTO, &res, 1);
	if (IS_ERR(pdev)) {
		platform_driver_unregister(&kemu_driver);
		return PTR_ERR(pdev);
	}
	pr_info("kemu_plat: bound %d events %d %d %d\n", pdev->dev.driver != NULL,
		events[BUS_NOTIFY_ADD_DEVICE], events[BUS_NOTIFY_BIND_DRIVER],
		events[BUS_NOTIFY_BOUND_DRIVER]);
	return 0;
}

static void __exit kemu_exit(void)
{
	platform_device_unregister(pdev);
	platform_driver_unregister(&kemu_driver);
	bus_unregister_notifier(&platform_bus_type, &kemu_nb);
	pr_info("kemu_plat: removed %d events %d %d %d\n", removed,
		events[BUS_NOTIFY_UNBIND_DRIVER], events[BUS_NOTIFY_DEL_DEVICE],
		events[BUS_NOTIFY_REMOVED_DEVICE]);
}
module_init(kemu_init);
module_exit(kemu_exit);
MODULE_LICENSE("GPL");
'''


def test_platform_device_of_a_module_is_matched_probed_and_removed():
    from kemu.testing import build_module
    from kemu.stubs.drivers.base.core import device_list
    from kemu.stubs.drivers.input.input import input_devices
    from kemu.stubs.drivers.leds.led_class import leds
    from kemu.stubs.kernel.resource import resource_tree
    ko = build_module({"kemu_plat.c": PLATFORM_SOURCE})
    k = Kernel()
    k.load(str(ko))
    k.log.flush()
    text = [r.text for r in k.log.records]
    assert "kemu_plat: probe kemu_plat.0.auto io [io  0x02f0-0x02ff] rpm 0" in text
    assert "kemu_plat: bound 1 events 1 1 1" in text
    assert [r.what for r in k.registered("bus notifier")] == ["platform bus notifier"]
    assert "input: kemu test buttons as /devices/platform/kemu_plat.0.auto/input/input5" in text
    assert [n for n, _d, o in input_devices(k)] == ["kemu test buttons"]
    assert leds(k) == [("kemu::test", None, "kemu_plat")]
    tree = resource_tree(k, "ioport")
    assert (1, 0x2F0, 0x2FF, "kemu_plat.0.auto") in tree
    assert (2, 0x2F8, 0x2FB, "kemu-probe") in tree
    paths = {p: c for p, _devt, c, _o in device_list(k)}
    assert "/devices/platform/kemu_plat.0.auto" in paths
    assert paths["/devices/platform/kemu_plat.0.auto/hwmon/hwmon0"] == "hwmon"
    assert paths["/devices/platform/kemu_plat.0.auto/leds/kemu::test"] == "leds"
    assert [r.what for r in k.registered("driver")] == ["platform driver kemu_plat"]
    k.unload("kemu_plat")
    k.log.flush()
    text = [r.text for r in k.log.records]
    assert "kemu_plat: remove kemu_plat.0.auto" in text
    assert "kemu_plat: removed 1 events 1 1 1" in text
    assert not [n for *_r, n in resource_tree(k, "ioport") if n.startswith("kemu")]
    assert k.findings == []
    assert k.registrations == {}
    assert not [r.text for r in k.log.records if r.level <= 4 and "taints kernel" not in r.text]
