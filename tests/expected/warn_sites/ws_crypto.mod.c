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
	{ 0x92997ed8, "_printk" },
	{ 0x95e9ec97, "crypto_unregister_alg" },
	{ 0x6cf2c2d, "crypto_grab_spawn" },
	{ 0x8bf43c12, "crypto_register_shash" },
	{ 0x220eff9c, "crypto_alloc_shash" },
	{ 0x816d3f44, "crypto_destroy_tfm" },
	{ 0xcd2782ca, "crypto_unregister_shash" },
	{ 0x6896cc3c, "crypto_register_skcipher" },
	{ 0x20d3908a, "crypto_alloc_sync_skcipher" },
	{ 0x2145a850, "crypto_unregister_skcipher" },
	{ 0xa19b956, "__stack_chk_fail" },
	{ 0x9060323f, "module_layout" },
};

MODULE_INFO(depends, "");

