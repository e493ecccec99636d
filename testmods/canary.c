// SPDX-License-Identifier: GPL-2.0
/*
 * canary.c - stack smashing for kemu's checks: mode=canary overruns a stack
 * buffer byte by byte (the stack protector catches it on return), mode=fortify
 * overruns it with memset (FORTIFY_SOURCE catches it before it happens).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/string.h>

static char *mode = "none";
module_param(mode, charp, 0444);
static int len = 64;
module_param(len, int, 0444);

static noinline int canary_smash(int n)
{
	char buf[16];
	volatile char *p = buf;
	int i;

	for (i = 0; i < n; i++)
		p[i] = 'A';
	return buf[0];
}

static noinline int canary_fortify(int n)
{
	char buf[16];

	memset(buf, 'B', n);
	return buf[1];
}

static int __init canary_init(void)
{
	if (!strcmp(mode, "canary"))
		pr_info("canary: %d\n", canary_smash(len));
	else if (!strcmp(mode, "fortify"))
		pr_info("canary: %d\n", canary_fortify(len));
	else
		pr_info("canary: %d\n", canary_smash(8));
	return 0;
}

static void __exit canary_exit(void)
{
}

module_init(canary_init);
module_exit(canary_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: stack protector and FORTIFY_SOURCE");
