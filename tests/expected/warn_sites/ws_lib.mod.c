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
	{ 0xeb233a45, "__kmalloc" },
	{ 0x92997ed8, "_printk" },
	{ 0x2f4880df, "static_key_slow_dec" },
	{ 0x6b2b69f7, "static_key_enable" },
	{ 0xb912560d, "static_key_disable" },
	{ 0x2c834418, "static_key_slow_inc" },
	{ 0xc9f4b187, "cdev_init" },
	{ 0x478823a1, "cdev_add" },
	{ 0xcb2afe84, "kernel_kobj" },
	{ 0xab068b81, "kobject_create_and_add" },
	{ 0xe1cf2aa, "sysfs_create_file_ns" },
	{ 0x9e38e4ff, "sysfs_create_bin_file" },
	{ 0x16f71312, "sysfs_create_group" },
	{ 0x96e6f231, "sysfs_remove_group" },
	{ 0x6a5cb5ee, "__get_free_pages" },
	{ 0xe783e261, "sysfs_emit" },
	{ 0x99f2d00a, "sysfs_emit_at" },
	{ 0x4302d0eb, "free_pages" },
	{ 0x176238f7, "kobject_put" },
	{ 0xc78439a3, "seq_open" },
	{ 0xfc9a6fa9, "seq_release" },
	{ 0x37a0cba, "kfree" },
	{ 0x76a500cc, "drop_nlink" },
	{ 0x53ea3a42, "set_nlink" },
	{ 0x2f5cf62, "inc_nlink" },
	{ 0x3337fb39, "ihold" },
	{ 0x40a7cc79, "current_time" },
	{ 0xbeab912c, "proc_create" },
	{ 0xb8f11603, "idr_alloc" },
	{ 0x8e17b3ae, "idr_destroy" },
	{ 0xffb7c514, "ida_free" },
	{ 0xa7d5f92e, "ida_destroy" },
	{ 0x41856643, "kobject_get" },
	{ 0x3ae33e1b, "kobject_init" },
	{ 0x47c20f8a, "refcount_dec_not_one" },
	{ 0xb320cc0e, "sg_init_one" },
	{ 0xbedb9321, "sg_miter_start" },
	{ 0x276cce76, "sg_miter_stop" },
	{ 0xe28a8ace, "sg_miter_next" },
	{ 0x11e30762, "chacha_block_generic" },
	{ 0x92d5838e, "request_threaded_irq" },
	{ 0xfcec0987, "enable_irq" },
	{ 0xc1514a3b, "free_irq" },
	{ 0xde80cd09, "ioremap" },
	{ 0x9cb986f2, "vmalloc_base" },
	{ 0xedc03953, "iounmap" },
	{ 0xe6dac142, "padata_alloc" },
	{ 0x7464577, "padata_alloc_shell" },
	{ 0x5b61a579, "padata_free" },
	{ 0xa19b956, "__stack_chk_fail" },
	{ 0x9060323f, "module_layout" },
};

MODULE_INFO(depends, "");

