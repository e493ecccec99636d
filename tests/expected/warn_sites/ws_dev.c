// SPDX-License-Identifier: GPL-2.0
/* kemu warn-site triggers: drivers/base, devres, DMA, misc, LEDs, input (real kernel and kemu) */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/ioport.h>
#include <linux/io.h>
#include <linux/dma-mapping.h>
#include <linux/miscdevice.h>
#include <linux/component.h>
#include <linux/leds.h>
#include <linux/input.h>
#include <linux/pm_runtime.h>

#define MARK(s) pr_info("ws: " s "\n")

static struct device_driver ws_drv = { .name = "wsdrv" };
static struct miscdevice ws_misc = { .minor = MISC_DYNAMIC_MINOR, .name = "wsmisc" };
static const struct component_ops ws_comp_ops;
static struct led_classdev ws_led = { .name = "wsled" };

static ssize_t ws_show(struct device *dev, struct device_attribute *a, char *buf)
{
	return 0;
}
static ssize_t ws_store(struct device *dev, struct device_attribute *a, const char *buf, size_t n)
{
	return n;
}
static struct device_attribute ws_rw_noshow = { .attr = { .name = "wsnoshow", .mode = 0644 }, .store = ws_store };
static struct device_attribute ws_rw_nostore = { .attr = { .name = "wsnostore", .mode = 0644 }, .show = ws_show };

static void ws_release(struct device *dev)
{
}

static struct device ws_root = { .init_name = "wsroot", .release = ws_release };

static void ws_action(void *data)
{
}

static int __init ws_init(void)
{
	struct device *root, *bare;
	struct input_dev *idev;
	void *p;
	dma_addr_t handle;
	int ret;

	root = &ws_root;
	ret = device_register(root);
	if (ret) {
		put_device(root);
		return ret;
	}

	MARK("driver_unregister unregistered");
	driver_unregister(&ws_drv);

	MARK("device_create_file write without store");
	ret = device_create_file(root, &ws_rw_noshow);
	pr_info("ws: ret %d\n", ret);
	device_remove_file(root, &ws_rw_noshow);
	MARK("device_create_file read without show");
	ret = device_create_file(root, &ws_rw_nostore);
	pr_info("ws: ret %d\n", ret);
	device_remove_file(root, &ws_rw_nostore);

	MARK("device without release");
	bare = kzalloc(sizeof(*bare), GFP_KERNEL);
	device_initialize(bare);
	dev_set_name(bare, "wsbare");
	put_device(bare);
	kfree(bare);

	MARK("devm_kfree of kmalloc memory");
	p = kmalloc(16, GFP_KERNEL);
	devm_kfree(root, p);
	kfree(p);
	MARK("devm_remove_action unregistered");
	devm_remove_action(root, ws_action, root);
	MARK("devm_free_irq unregistered");
	devm_free_irq(root, 5, root);
	MARK("devm_release_region unregistered");
	__devm_release_region(root, &ioport_resource, 0xfe00, 8);
	MARK("devm_iounmap NULL");
	devm_iounmap(root, NULL);
	MARK("devm_led_classdev_unregister unregistered");
	devm_led_classdev_unregister(root, &ws_led);

	MARK("dma_alloc_coherent without mask");
	p = dma_alloc_coherent(root, PAGE_SIZE, &handle, GFP_KERNEL);
	pr_info("ws: dma %s\n", p ? "ok" : "NULL");
	if (p)
		dma_free_coherent(root, PAGE_SIZE, p, handle);
	MARK("dmam_free_coherent unmanaged");
	dmam_free_coherent(root, 0, NULL, 0);

	MARK("misc_deregister unregistered");
	INIT_LIST_HEAD(&ws_misc.list);
	misc_deregister(&ws_misc);

	MARK("component_del unregistered");
	component_del(root, &ws_comp_ops);

	MARK("pm_runtime_put underflow");
	ret = pm_runtime_put_sync(root);
	pr_info("ws: ret %d\n", ret);

	MARK("input_set_poll_interval without poller");
	idev = input_allocate_device();
	if (idev) {
		input_set_poll_interval(idev, 10);
		input_free_device(idev);
	}

	device_unregister(root);
	MARK("done");
	return 0;
}

static void __exit ws_exit(void)
{
}

module_init(ws_init);
module_exit(ws_exit);
MODULE_LICENSE("GPL");
