// SPDX-License-Identifier: GPL-2.0
/*
 * params.c - one module parameter of every standard type.
 *
 * init prints every value, one group per line, in a fixed order and in a
 * form that makes the value unambiguous (strings quoted, NULL spelled NULL,
 * arrays printed element by element together with their element count).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/moduleparam.h>

static unsigned char byte_param = 1;
module_param(byte_param, byte, 0444);
MODULE_PARM_DESC(byte_param, "an unsigned char (byte)");

static short short_param = -2;
module_param(short_param, short, 0444);
MODULE_PARM_DESC(short_param, "a short");

static unsigned short ushort_param = 3;
module_param(ushort_param, ushort, 0444);
MODULE_PARM_DESC(ushort_param, "an unsigned short");

static int int_param = -4;
module_param(int_param, int, 0444);
MODULE_PARM_DESC(int_param, "an int");

static unsigned int uint_param = 5;
module_param(uint_param, uint, 0444);
MODULE_PARM_DESC(uint_param, "an unsigned int");

static long long_param = -6;
module_param(long_param, long, 0444);
MODULE_PARM_DESC(long_param, "a long");

static unsigned long ulong_param = 7;
module_param(ulong_param, ulong, 0444);
MODULE_PARM_DESC(ulong_param, "an unsigned long");

static unsigned long long ullong_param = 8;
module_param(ullong_param, ullong, 0444);
MODULE_PARM_DESC(ullong_param, "an unsigned long long");

static unsigned int hexint_param = 0x9;
module_param(hexint_param, hexint, 0444);
MODULE_PARM_DESC(hexint_param, "an unsigned int shown in hex");

static bool bool_param;
module_param(bool_param, bool, 0444);
MODULE_PARM_DESC(bool_param, "a bool (default N)");

static bool invbool_param;
module_param(invbool_param, invbool, 0444);
MODULE_PARM_DESC(invbool_param, "an inverted bool (variable default false)");

static int bint_param = 1;
module_param(bint_param, bint, 0444);
MODULE_PARM_DESC(bint_param, "a bool stored in an int (bint)");

static char *charp_param = "default";
module_param(charp_param, charp, 0444);
MODULE_PARM_DESC(charp_param, "a char pointer");

static char string_param[16] = "buf16";
module_param_string(string_param, string_param, sizeof(string_param), 0444);
MODULE_PARM_DESC(string_param, "a string copied into a char[16]");

static int int_array[4] = { 10, 20, 30, 40 };
static unsigned int int_array_count = 2;
module_param_array(int_array, int, &int_array_count, 0444);
MODULE_PARM_DESC(int_array, "up to 4 ints");

static char *charp_array[4] = { "zero", "one", NULL, NULL };
static unsigned int charp_array_count;
module_param_array(charp_array, charp, &charp_array_count, 0444);
MODULE_PARM_DESC(charp_array, "up to 4 strings");

/* Users pass it as my-val=N: '-' and '_' are equivalent in parameter names. */
static int my_val_storage = 11;
module_param_named(my_val, my_val_storage, int, 0444);
MODULE_PARM_DESC(my_val, "an int under a different name (pass as my-val)");

static void __init print_str(const char *what, const char *s)
{
	if (s)
		pr_info("params: %s=\"%s\"\n", what, s);
	else
		pr_info("params: %s=NULL\n", what);
}

static int __init params_init(void)
{
	unsigned int i;
	char name[32];

	pr_info("params: byte=%u short=%d ushort=%u\n",
		byte_param, short_param, ushort_param);
	pr_info("params: int=%d uint=%u\n", int_param, uint_param);
	pr_info("params: long=%ld ulong=%lu ullong=%llu\n",
		long_param, ulong_param, ullong_param);
	pr_info("params: hexint=0x%x\n", hexint_param);
	pr_info("params: bool=%d invbool=%d bint=%d\n",
		bool_param, invbool_param, bint_param);
	print_str("charp", charp_param);
	print_str("string", string_param);
	pr_info("params: my_val=%d\n", my_val_storage);
	pr_info("params: int_array count=%u\n", int_array_count);
	for (i = 0; i < ARRAY_SIZE(int_array); i++)
		pr_info("params: int_array[%u]=%d\n", i, int_array[i]);
	pr_info("params: charp_array count=%u\n", charp_array_count);
	for (i = 0; i < ARRAY_SIZE(charp_array); i++) {
		snprintf(name, sizeof(name), "charp_array[%u]", i);
		print_str(name, charp_array[i]);
	}
	return 0;
}

static void __exit params_exit(void)
{
	pr_info("params: exit\n");
}

module_init(params_init);
module_exit(params_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: one module parameter of every type");
