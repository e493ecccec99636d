// SPDX-License-Identifier: GPL-2.0
/*
 * rk_idt.c - a rootkit-style test module: reading the interrupt descriptor
 * table as IDT hookers do (store_idt()/sidt, the gates' handler addresses,
 * idt_table found with kallsyms_lookup_name() through a kprobe), and with
 * write=1 rewriting a gate under a cleared CR0.WP (the same handler written
 * back, so the real kernel keeps working).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <asm/desc.h>
#include <asm/special_insns.h>

static int write;
module_param(write, int, 0444);

static const int vectors[] = { 0, 1, 2, 3, 6, 8, 13, 14, 18, 0x80, 0xec, 0xfd };

static unsigned long gate_addr(const gate_desc *g)
{
	return g->offset_low | ((unsigned long)g->offset_middle << 16) |
	       ((unsigned long)g->offset_high << 32);
}

static inline void cr0_write(unsigned long cr0)
{
	asm volatile("mov %0,%%cr0" : "+r"(cr0) : : "memory");
}

static int __init rk_idt_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long (*lookup_name)(const char *name);
	struct desc_ptr idtr;
	gate_desc *idt, *table;
	unsigned long cr0;
	int i, same = 1;

	if (register_kprobe(&kp) < 0)
		return -ENOENT;
	lookup_name = (unsigned long (*)(const char *))kp.addr;
	unregister_kprobe(&kp);

	store_idt(&idtr);
	idt = (gate_desc *)idtr.address;
	table = (gate_desc *)lookup_name("idt_table");
	pr_info("rk_idt: idtr %px limit %u, idt_table is it: %d\n", (void *)idtr.address,
		idtr.size, idt == table);
	for (i = 0; i < ARRAY_SIZE(vectors); i++) {
		gate_desc *g = &idt[vectors[i]];

		pr_info("rk_idt: vector %#x: %pS type %u dpl %u ist %u p %u seg %#x\n", vectors[i],
			(void *)gate_addr(g), g->bits.type, g->bits.dpl, g->bits.ist, g->bits.p,
			g->segment);
	}
	for (i = 0; i < IDT_ENTRIES; i++)
		same &= !memcmp(&idt[i], &table[i], sizeof(gate_desc));
	pr_info("rk_idt: idt_table and the IDT hold the same gates: %d\n", same);
	for (i = 0x20, same = 0; i < 0xec; i++)
		same += idt[i].bits.p;
	pr_info("rk_idt: %d external vectors present, 0x21 at %s+%lu\n", same,
		"irq_entries_start", gate_addr(&idt[0x21]) - lookup_name("irq_entries_start"));
	pr_info("rk_idt: asm_exc_int3 %s\n",
		gate_addr(&idt[3]) == lookup_name("asm_exc_int3") ? "where kallsyms says" : "moved");
	if (write) {
		gate_desc g = table[3];

		cr0 = read_cr0();
		cr0_write(cr0 & ~X86_CR0_WP);
		table[3] = g;
		cr0_write(cr0);
		pr_info("rk_idt: gate 3 rewritten: %pS\n", (void *)gate_addr(&idt[3]));
	}
	return 0;
}

static void __exit rk_idt_exit(void)
{
}

module_init(rk_idt_init);
module_exit(rk_idt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: the IDT read through sidt and idt_table, a gate rewritten");
