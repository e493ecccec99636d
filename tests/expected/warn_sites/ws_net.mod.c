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
	{ 0x1eb9ab54, "__alloc_skb" },
	{ 0x62d96f30, "skb_put" },
	{ 0x77c2be96, "skb_trim" },
	{ 0xfbfec568, "skb_checksum_help" },
	{ 0xed89811, "kfree_skb_reason" },
	{ 0x1afeb8b0, "nf_register_queue_handler" },
	{ 0xd7ea7094, "nf_unregister_queue_handler" },
	{ 0xe25beddd, "init_net" },
	{ 0x53e3723c, "nf_register_net_hook" },
	{ 0x8fdb795e, "nf_unregister_net_hook" },
	{ 0x84823cf3, "nla_strscpy" },
	{ 0x933dc050, "__nla_validate" },
	{ 0xa19b956, "__stack_chk_fail" },
	{ 0x9060323f, "module_layout" },
};

MODULE_INFO(depends, "");

