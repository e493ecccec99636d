// SPDX-License-Identifier: GPL-2.0
/*
 * formats.c - exercise the kernel's vsprintf and printk record handling.
 *
 * Every line starts with "formats: " and a short tag so that a mismatch is
 * easy to locate.  Nothing printed here depends on load addresses, except
 * %pS/%ps of this module's own symbols (symbol+offset/size [formats]).
 * Plain %p/%px/%pK are deliberately absent (hashed / address-dependent).
 *
 * The "gcc-unchecked" section uses non-literal format strings for
 * flag/conversion combinations that gcc's -Wformat would (rightly, for ISO C)
 * complain about, but whose kernel behaviour is well defined.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/limits.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/uuid.h>
#include <linux/ioport.h>
#include <linux/bitmap.h>
#include <linux/string.h>
#include <linux/types.h>

/* Module-local functions whose symbols %pS/%ps resolve. */
static noinline int formats_target(int x)
{
	return x * 3 + 1;
}

static noinline int formats_other(int x)
{
	return formats_target(x) ^ 0x55;
}

static int (*volatile formats_fp)(int) = formats_target;

static int __init formats_init(void);
/* An address in the middle of an init function (init symbols are still
 * present in the module's kallsyms while init runs). */
static void *formats_init_plus_10 __initdata = (char *)formats_init + 0x10;
static void *formats_other_plus_4 = (char *)formats_other + 4;

struct fmt_int { const char *fmt; int v; };
struct fmt_ll { const char *fmt; long long v; };

/* Combinations gcc -Wformat warns about; the kernel defines them. */
static const struct fmt_int unchecked_int[] __initconst = {
	{ KERN_INFO "formats: nci1 [%+u]\n", 5 },
	{ KERN_INFO "formats: nci2 [% u]\n", 5 },
	{ KERN_INFO "formats: nci3 [%+x]\n", 255 },
	{ KERN_INFO "formats: nci4 [% x]\n", 255 },
	{ KERN_INFO "formats: nci5 [%-05d]\n", 42 },
	{ KERN_INFO "formats: nci6 [%-08x]\n", 0xab },
	{ KERN_INFO "formats: nci7 [%+ d]\n", 7 },
	{ KERN_INFO "formats: nci8 [% +d]\n", -7 },
	{ KERN_INFO "formats: nci9 [%#d]\n", 12 },
	{ KERN_INFO "formats: nci10 [%#u]\n", 12 },
	{ KERN_INFO "formats: nci11 [%5%] [%-5%]\n", 0 },
	{ KERN_INFO "formats: nci12 [%#c]\n", 'q' },
	{ KERN_INFO "formats: nci13 [%05c]\n", 'r' },
	{ KERN_INFO "formats: nci14 [%+c]\n", 's' },
	{ KERN_INFO "formats: nci15 [%.3c]\n", 't' },
	{ KERN_INFO "formats: nci16 [%#.3o]\n", 8 },
	{ KERN_INFO "formats: nci17 [%#.5x]\n", 0x1f },
	{ KERN_INFO "formats: nci18 [%#08.3x]\n", 0x1f },
	{ KERN_INFO "formats: nci19 [%0-6d]\n", 3 },
	{ KERN_INFO "formats: nci20 [%08.3d]\n", 7 },
	{ KERN_INFO "formats: nci21 [%08.3d]\n", -7 },
	{ KERN_INFO "formats: nci22 [%-8.3d|]\n", -7 },
};

static const struct fmt_ll unchecked_ll[] __initconst = {
	{ KERN_INFO "formats: ncll1 [%Ld]\n", -123456789012LL },
	{ KERN_INFO "formats: ncll2 [%Lu]\n", 123456789012LL },
	{ KERN_INFO "formats: ncll3 [%Lx]\n", 0x123456789aLL },
	{ KERN_INFO "formats: ncll4 [%+llu]\n", 99 },
};

static const char * const unchecked_str[] __initconst = {
	KERN_INFO "formats: ncs1 [%05s]\n",
	KERN_INFO "formats: ncs2 [%+s]\n",
	KERN_INFO "formats: ncs3 [%#s]\n",
	KERN_INFO "formats: ncs4 [%-05s]\n",
};

static const u8 bytes[] = {
	0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x12, 0x34,
	0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x0f, 0xa5,
};
static const u8 ipv4[4] = { 192, 168, 1, 254 };
static const u8 ipv6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};
static const u8 mac[6] = { 0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0xfe };
static const uuid_t uuid = UUID_INIT(0x12345678, 0x9abc, 0xdef0,
				     0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef);
static const char escape_me[] = "a\tb\nc\\d\x01\x7f" "e\xe9 f";

static __printf(1, 2) void formats_va(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_info("formats: pV outer <%pV> done\n", &vaf);
	va_end(args);
}

static void __init int_conversions(void)
{
	int neg = -42;

	/* d / i with every flag */
	pr_info("formats: d1 [%d] [%i] [%d] [%d]\n", 0, 42, -42, 2147483647);
	pr_info("formats: d2 [%5d] [%-5d] [%05d] [%+d] [% d]\n", 42, 42, 42, 42, 42);
	pr_info("formats: d3 [%5d] [%-5d] [%05d] [%+d] [% d]\n", neg, neg, neg, neg, neg);
	pr_info("formats: d4 [%+05d] [% 05d] [%-+5d] [%- 5d] [%+i]\n", 42, 42, 42, 42, 0);
	pr_info("formats: d5 [%.3d] [%.0d] [%.0d] [%5.3d] [%-5.3d]\n", 7, 0, 1, 7, 7);
	pr_info("formats: d6 [%+.3d] [%.3d] [%1d] [%2d]\n", 7, -7, 12345, -1);
	pr_info("formats: d7 [%d] [%d] [%i]\n", INT_MIN, INT_MAX, -1);
	/* u */
	pr_info("formats: u1 [%u] [%u] [%u] [%5u] [%-5u|] [%05u]\n",
		0U, 42U, UINT_MAX, 42U, 42U, 42U);
	pr_info("formats: u2 [%u] [%.4u] [%8.4u]\n", (unsigned int)-1, 9U, 9U);
	/* x X o */
	pr_info("formats: x1 [%x] [%X] [%#x] [%#X] [%08x] [%#08x] [%-8x|]\n",
		0xbeefU, 0xbeefU, 0xbeefU, 0xbeefU, 0xbeefU, 0xbeefU, 0xbeefU);
	pr_info("formats: x2 [%x] [%#x] [%#X] [%#10x] [%#-10x|] [%#.6x]\n",
		0U, 0U, 0U, 255U, 255U, 255U);
	pr_info("formats: x3 [%x] [%X] [%#x]\n", UINT_MAX, UINT_MAX, 0x80000000U);
	pr_info("formats: o1 [%o] [%#o] [%#o] [%08o] [%#8o] [%-#8o|] [%.4o]\n",
		8U, 8U, 0U, 8U, 8U, 8U, 8U);
	pr_info("formats: o2 [%o] [%#o] [%#.3o]\n", UINT_MAX, 0777U, 7U);
	/* * width and precision, including negative values */
	pr_info("formats: star1 [%*d] [%-*d] [%*d]\n", 6, 42, 6, 42, -6, 42);
	pr_info("formats: star2 [%.*d] [%.*d] [%*.*d]\n", 4, 42, -1, 42, 8, 4, 42);
	pr_info("formats: star3 [%*.*d] [%0*d] [%.*d]\n", -8, 4, 42, 6, -42, 0, 0);
	pr_info("formats: star4 [%*s] [%-*s] [%*s] [%.*s] [%.*s]\n",
		8, "abc", 8, "abc", -8, "abc", 2, "abcdef", -1, "abcdef");
	pr_info("formats: star5 [%*.*s] [%*x] [%*c]\n", 7, 3, "abcdef", 5, 0xaU, 3, 'z');
	pr_info("formats: star6 [%*d] [%.*u]\n", 0, 5, 0, 0U);
}

static void __init qualifiers(void)
{
	pr_info("formats: hh1 [%hhd] [%hhd] [%hhd] [%hhu] [%hhu]\n",
		300, 200, -1, -1, 256 + 7);
	pr_info("formats: hh2 [%hhx] [%hhX] [%#hhx] [%hho] [%hhi]\n",
		0x1ff, 0xabc, 0x100, 0777, 128);
	pr_info("formats: h1 [%hd] [%hd] [%hu] [%hu] [%hx] [%#ho]\n",
		70000, -32768, -1, 65536 + 9, 0x12345, 0x10000 + 8);
	pr_info("formats: h2 [%hi] [%hd]\n", 32768, 32767);
	pr_info("formats: l1 [%ld] [%ld] [%lu] [%lx] [%lX] [%lo]\n",
		LONG_MIN, LONG_MAX, ULONG_MAX, ULONG_MAX, 0xdeadbeefcafeUL, 01234567UL);
	pr_info("formats: l2 [%li] [%#lx] [%-20ld|] [%020ld] [%+ld]\n",
		-1L, 0UL, -5L, -5L, 5L);
	pr_info("formats: ll1 [%lld] [%lld] [%llu] [%llx] [%llX]\n",
		LLONG_MIN, LLONG_MAX, ULLONG_MAX, ULLONG_MAX, 0xfedcba9876543210ULL);
	pr_info("formats: ll2 [%llo] [%#llo] [%#llx] [%lli] [%.20llu]\n",
		ULLONG_MAX, 1ULL, 1ULL << 63, -9LL, 1ULL);
	pr_info("formats: ll3 [%30lld|] [%-30lld|] [%030llx]\n",
		LLONG_MIN, LLONG_MIN, 0x1234ULL);
	pr_info("formats: z1 [%zu] [%zd] [%zx] [%zu] [%zd]\n",
		(size_t)SIZE_MAX, (ssize_t)-1, (size_t)0xabcdef, sizeof(int),
		(ssize_t)12345);
	pr_info("formats: t1 [%td] [%tu] [%tx] [%ti]\n",
		(ptrdiff_t)-100, (ptrdiff_t)100, (ptrdiff_t)-1, (ptrdiff_t)0);
}

static void __init chars_strings(void)
{
	const char *null_str = NULL;
	const char *efault_str = (const char *)16;
	const char *err_str = ERR_PTR(-EINVAL);

	pr_info("formats: c1 [%c] [%c%c%c] [%3c] [%-3c|] [%c]\n",
		'A', 'x', 'y', 'z', 'B', 'C', 0x41 + 0x100);
	pr_info("formats: c2 [%c] [%c]\n", '%', ' ');
	pr_info("formats: s1 [%s] [%10s] [%-10s|] [%.3s] [%10.3s] [%-10.3s|]\n",
		"hello", "hello", "hello", "hello", "hello", "hello");
	pr_info("formats: s2 [%s] [%.0s] [%.10s] [%3s]\n", "", "hello", "hi", "hello");
	pr_info("formats: s3 [%s] [%.3s] [%10s] [%-10s|]\n",
		null_str, null_str, null_str, null_str);
	pr_info("formats: s4 [%s] [%s] [%.4s]\n", efault_str, err_str, efault_str);
	pr_info("formats: pct [%%] [%d%%] [100%%]\n", 50);
}

static void __init unchecked(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(unchecked_int); i++)
		printk(unchecked_int[i].fmt, unchecked_int[i].v);
	for (i = 0; i < ARRAY_SIZE(unchecked_ll); i++)
		printk(unchecked_ll[i].fmt, unchecked_ll[i].v);
	for (i = 0; i < ARRAY_SIZE(unchecked_str); i++)
		printk(unchecked_str[i], "ab");
}

static void __init pointer_exts(void)
{
	DECLARE_BITMAP(bits, 40);
	struct resource res_mem = DEFINE_RES_MEM_NAMED(0x1000, 0x1000, "kemu-mem");
	struct resource res_io = DEFINE_RES_IO(0x3f8, 8);
	phys_addr_t phys = 0x12345000;
	dma_addr_t dma = 0xfee00000;
	u32 fourcc = 0x34325241; /* 'A' 'R' '2' '4' */

	/* symbols */
	pr_info("formats: pS1 [%pS] [%ps]\n", formats_target, formats_target);
	pr_info("formats: pS2 [%pS] [%ps]\n", formats_fp, formats_fp);
	pr_info("formats: pS3 [%pS] [%ps]\n", formats_init_plus_10, formats_init_plus_10);
	pr_info("formats: pS4 [%pS] [%ps]\n", formats_other_plus_4, formats_other_plus_4);
	pr_info("formats: pS5 [%pS] [%ps]\n", formats_init, formats_init);
	pr_info("formats: pS6 [%pS]\n", NULL);
	pr_info("formats: pS7 result %d %d\n", formats_fp(2), formats_other(2));
	/* hex dumps */
	pr_info("formats: ph1 [%*ph]\n", 8, bytes);
	pr_info("formats: ph2 [%*phC]\n", 6, bytes);
	pr_info("formats: ph3 [%*phD]\n", 6, bytes);
	pr_info("formats: ph4 [%*phN]\n", 16, bytes);
	pr_info("formats: ph5 [%ph] [%*ph]\n", bytes, 0, bytes);
	pr_info("formats: ph6 [%3ph]\n", bytes);
	/* addresses */
	pr_info("formats: ip1 [%pI4] [%pi4]\n", ipv4, ipv4);
	pr_info("formats: ip2 [%pI6] [%pI6c] [%pi6]\n", ipv6, ipv6, ipv6);
	pr_info("formats: mac1 [%pM] [%pMR] [%pMF] [%pm] [%pmR]\n", mac, mac, mac, mac, mac);
	/* error pointers */
	pr_info("formats: pe1 [%pe] [%pe] [%pe]\n",
		ERR_PTR(-ENOMEM), ERR_PTR(-EINVAL), ERR_PTR(-ENODEV));
	pr_info("formats: pe2 [%pe] [%pe] [%pe]\n",
		ERR_PTR(-EPROBE_DEFER), ERR_PTR(-ENOTSUPP), ERR_PTR(-4095));
	/* uuid */
	pr_info("formats: pU1 [%pU] [%pUb] [%pUB]\n", &uuid, &uuid, &uuid);
	pr_info("formats: pU2 [%pUl] [%pUL]\n", &uuid, &uuid);
	/* escaped strings */
	pr_info("formats: pE1 [%*pE]\n", (int)sizeof(escape_me) - 1, escape_me);
	pr_info("formats: pE2 [%*pEhp]\n", (int)sizeof(escape_me) - 1, escape_me);
	pr_info("formats: pE3 [%*pEo]\n", (int)sizeof(escape_me) - 1, escape_me);
	/* bitmaps */
	bitmap_zero(bits, 40);
	bitmap_set(bits, 0, 3);
	bitmap_set(bits, 8, 1);
	bitmap_set(bits, 33, 5);
	pr_info("formats: pb1 [%*pb] [%*pbl]\n", 40, bits, 40, bits);
	/* resources, physical and DMA addresses (by reference, deterministic) */
	pr_info("formats: pr1 [%pr] [%pR]\n", &res_mem, &res_mem);
	pr_info("formats: pr2 [%pr] [%pR]\n", &res_io, &res_io);
	pr_info("formats: pa1 [%pa] [%pad]\n", &phys, &dma);
	pr_info("formats: p4cc [%p4cc]\n", &fourcc);
	/* nested va_format */
	formats_va("inner %d %s %x", 1, "two", 3);
}

static void __init levels_and_records(void)
{
	static char longbuf[1200];

	printk(KERN_EMERG "formats: level emerg\n");
	printk(KERN_ALERT "formats: level alert\n");
	printk(KERN_CRIT "formats: level crit\n");
	printk(KERN_ERR "formats: level err\n");
	printk(KERN_WARNING "formats: level warning\n");
	printk(KERN_NOTICE "formats: level notice\n");
	printk(KERN_INFO "formats: level info\n");
	printk(KERN_DEBUG "formats: level debug\n");
	printk(KERN_DEFAULT "formats: level default\n");
	printk("formats: no level at all\n");
	pr_emerg("formats: pr_emerg\n");
	pr_alert("formats: pr_alert\n");
	pr_crit("formats: pr_crit\n");
	pr_err("formats: pr_err\n");
	pr_warn("formats: pr_warn\n");
	pr_notice("formats: pr_notice\n");
	pr_info("formats: pr_info\n");
	pr_debug("formats: pr_debug (dynamic debug, off by default)\n");

	/* continuations */
	pr_info("formats: cont1 a");
	pr_cont(" b");
	pr_cont(" c=%d", 3);
	pr_cont("\n");
	pr_warn("formats: cont2 warn");
	pr_cont(" continued at warn level\n");
	pr_info("formats: cont3 complete line\n");
	pr_cont("formats: cont4 pr_cont after a complete line\n");
	printk(KERN_CONT "formats: cont5 KERN_CONT after a complete line\n");

	/* no trailing newline, followed by a new message with a level */
	pr_info("formats: nonl1 no trailing newline");
	pr_info("formats: nonl2 next message\n");
	printk(KERN_ERR "formats: nonl3 no newline at err");
	printk(KERN_NOTICE "formats: nonl4 next at notice\n");
	printk("formats: nonl5 no newline, no level");
	printk("formats: nonl6 next, no level\n");

	/* embedded newlines */
	pr_info("formats: multi1 line one\nformats: multi1 line two\n");
	pr_info("formats: multi2 a\n\nformats: multi2 after empty line\n");
	pr_info("formats: multi3 trailing double newline\n\n");
	pr_info("formats: multi4 %s\n", "arg with\nnewline");

	/* other record oddities */
	pr_info("formats: tab\tand trailing space \n");
	pr_info("\n");
	pr_info("formats: after empty message\n");

	/* over-long message: printk truncates */
	memset(longbuf, 'L', sizeof(longbuf) - 1);
	longbuf[sizeof(longbuf) - 1] = '\0';
	pr_info("formats: long %s end\n", longbuf);
	pr_info("formats: after long\n");
}

static int __init formats_init(void)
{
	char buf[16];
	int n;

	pr_info("formats: begin\n");
	int_conversions();
	qualifiers();
	chars_strings();
	unchecked();
	pointer_exts();

	n = snprintf(buf, sizeof(buf), "%s-%d", "truncated-string", 12345);
	pr_info("formats: snprintf1 n=%d buf=[%s]\n", n, buf);
	n = scnprintf(buf, sizeof(buf), "%s-%d", "truncated-string", 12345);
	pr_info("formats: scnprintf1 n=%d buf=[%s]\n", n, buf);
	n = snprintf(NULL, 0, "%d", -1234567);
	pr_info("formats: snprintf2 n=%d\n", n);

	levels_and_records();
	pr_info("formats: end\n");
	return 0;
}

static void __exit formats_exit(void)
{
	pr_info("formats: exit\n");
}

module_init(formats_init);
module_exit(formats_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: vsprintf formats and printk record handling");
