// SPDX-License-Identifier: GPL-2.0
/*
 * percpu.c - a per-CPU variable in the module's .data..percpu section.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/percpu.h>
#include <linux/smp.h>

static DEFINE_PER_CPU(int, counter) = 5;

static int __init percpu_init(void)
{
	int i;

	pr_info("percpu: initial this_cpu_read=%d per_cpu(0)=%d\n",
		this_cpu_read(counter), per_cpu(counter, 0));
	for (i = 0; i < 3; i++)
		this_cpu_inc(counter);
	this_cpu_add(counter, 10);
	pr_info("percpu: after 3 inc + add 10: this_cpu_read=%d per_cpu(0)=%d\n",
		this_cpu_read(counter), per_cpu(counter, 0));
	pr_info("percpu: raw_smp_processor_id=%d\n", raw_smp_processor_id());
	return 0;
}

static void __exit percpu_exit(void)
{
	pr_info("percpu: exit, per_cpu(0)=%d\n", per_cpu(counter, 0));
}

module_init(percpu_init);
module_exit(percpu_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: per-CPU variable");
