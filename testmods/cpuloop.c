// SPDX-License-Identifier: GPL-2.0
/*
 * cpuloop.c - CPU-bound init for emulator throughput and bit-exactness.
 *
 * The computation lives in cpuloop_core.h; native/cpuloop_native.c builds
 * the same code as a userspace program that prints the identical line.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

#include "cpuloop_core.h"

static unsigned long iters = CPULOOP_DEFAULT_ITERS;
module_param(iters, ulong, 0444);
MODULE_PARM_DESC(iters, "number of mixing iterations (default 10000000)");

static int __init cpuloop_init(void)
{
	unsigned long long result = cpuloop_compute(iters);

	pr_info("cpuloop: result=%llx iters=%lu\n", result, iters);
	return 0;
}

static void __exit cpuloop_exit(void)
{
	pr_info("cpuloop: exit\n");
}

module_init(cpuloop_init);
module_exit(cpuloop_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: deterministic CPU-bound integer workload");
