#include <linux/module.h>
#define INCLUDE_VERMAGIC
#include <linux/build-salt.h>
#include <linux/elfnote-lto.h>
#include <linux/export-internal.h>
#include <linux/vermagic.h>
#include <linux/compiler.h>

BUILD_SALT;
BUILD_LTO_INFO;

MODULE_INFO(vermagic, VERMAGIC_STRING);
MODULE_INFO(name, KBUILD_MODNAME);

__visible struct module __this_module
__section(".gnu.linkonce.this_module") = {
	.name = KBUILD_MODNAME,
	.init = init_module,
#ifdef CONFIG_MODULE_UNLOAD
	.exit = cleanup_module,
#endif
	.arch = MODULE_ARCH_INIT,
};

#ifdef CONFIG_RETPOLINE
MODULE_INFO(retpoline, "Y");
#endif


static const struct modversion_info ____versions[]
__used __section("__versions") = {
	{ 0xbdfb6dbb, "__fentry__" },
	{ 0x5b8239ca, "__x86_return_thunk" },
	{ 0xeafc3e0c, "device_register" },
	{ 0xab30ec32, "put_device" },
	{ 0x92997ed8, "_printk" },
	{ 0xe1713c86, "driver_unregister" },
	{ 0x6aa4d7da, "device_create_file" },
	{ 0x3b2c0b81, "device_remove_file" },
	{ 0x7a7caba8, "kmalloc_caches" },
	{ 0x606e9d01, "kmalloc_trace" },
	{ 0x4d03a9f9, "device_initialize" },
	{ 0xb38a2df9, "dev_set_name" },
	{ 0x37a0cba, "kfree" },
	{ 0x48e3fded, "devm_kfree" },
	{ 0xb264743a, "devm_remove_action" },
	{ 0x6a689ab6, "devm_free_irq" },
	{ 0xdbdf6c92, "ioport_resource" },
	{ 0x9eea96ae, "__devm_release_region" },
	{ 0xd609c252, "devm_iounmap" },
	{ 0x1ee9673a, "devm_led_classdev_unregister" },
	{ 0xca34b12c, "dma_alloc_attrs" },
	{ 0xfbf20b08, "dma_free_attrs" },
	{ 0xfd1f800c, "dmam_free_coherent" },
	{ 0x47978cc, "misc_deregister" },
	{ 0x38de919d, "component_del" },
	{ 0xbe786272, "__pm_runtime_idle" },
	{ 0xe55ba0af, "input_allocate_device" },
	{ 0x2decd94b, "input_set_poll_interval" },
	{ 0x1458e233, "input_free_device" },
	{ 0xd869872e, "device_unregister" },
	{ 0xa19b956, "__stack_chk_fail" },
	{ 0x9060323f, "module_layout" },
};

MODULE_INFO(depends, "");

