// SPDX-License-Identifier: GPL-2.0
/*
 * kemu_lib.c - lib/ helpers as modules call them: sscanf, hex dumps,
 * cmdline parsing, ctype, bitmaps and find_bit, sort, CRCs, hweight,
 * ratelimit, refcount, static keys, list debugging, memory layout.
 *
 * mode=0 (default): every check prints one line; init succeeds.
 * mode=1: list_add() onto a corrupted list (BUG in __list_add_valid).
 * mode=2: list_del() of an entry whose neighbour is corrupted (BUG).
 * mode=3: refcount_inc() on 0 and an underflow (two WARNs), init succeeds.
 * mode=4: list_del() twice (LIST_POISON1, BUG).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/ctype.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/sort.h>
#include <linux/crc32.h>
#include <linux/crc-ccitt.h>
#include <linux/ratelimit.h>
#include <linux/refcount.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/random.h>
#include <linux/mm.h>
#include <asm/cpufeature.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define get_random_u32_below(n) prandom_u32_max(n)	/* renamed in 6.2 */
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/crc-itu-t.h>
#define crc_ccitt_false(crc, buf, len) crc_itu_t(crc, buf, len)	/* gone by 6.12 */
#endif

static int mode;
module_param(mode, int, 0444);
static unsigned int nbits = 100;	/* not a constant: out-of-line bitmap calls */
module_param(nbits, uint, 0444);

static DEFINE_STATIC_KEY_FALSE(kemu_lib_key);

static noinline void check_sscanf(void)
{
	int a = 0, b = 0, c = 0, n = 0, r;
	unsigned int u = 0;
	long l = 0;
	unsigned long long ull = 0;
	unsigned char hh = 0;
	short h = 0;
	size_t z = 0;
	char s1[16] = "", s2[16] = "", ch[4] = "";

	r = sscanf("12 34", "%d %d", &a, &b);
	pr_info("kemu_lib: scanf1 %d %d %d\n", r, a, b);
	r = sscanf("0x1f 077 -5", "%x %o %i", &u, &a, &b);
	pr_info("kemu_lib: scanf2 %d %u %d %d\n", r, u, a, b);
	r = sscanf("foo:bar baz", "%15[^:]:%15s", s1, s2);
	pr_info("kemu_lib: scanf3 %d [%s] [%s]\n", r, s1, s2);
	r = sscanf("abc123def", "%3s%d%n", s1, &a, &n);
	pr_info("kemu_lib: scanf4 %d [%s] %d %d\n", r, s1, a, n);
	r = sscanf("  -42xyz", "%ld%2c", &l, ch);
	pr_info("kemu_lib: scanf5 %d %ld [%c%c]\n", r, l, ch[0], ch[1]);
	r = sscanf("18446744073709551615 255 -300 7", "%llu %hhu %hd %zu", &ull, &hh, &h, &z);
	pr_info("kemu_lib: scanf6 %d %llu %u %d %zu\n", r, ull, hh, h, z);
	a = b = c = -1;
	r = sscanf("12345", "%2d%3d", &a, &b);
	pr_info("kemu_lib: scanf7 %d %d %d\n", r, a, b);
	r = sscanf("0x", "%i%n", &a, &n);
	pr_info("kemu_lib: scanf8 %d %d %d\n", r, a, n);
	r = sscanf("100%", "%d%%", &a);
	pr_info("kemu_lib: scanf9 %d %d\n", r, a);
	r = sscanf("skip this", "%*s %15s", s1);
	pr_info("kemu_lib: scanf10 %d [%s]\n", r, s1);
	a = 7;
	r = sscanf("-", "%d", &a);
	pr_info("kemu_lib: scanf11 %d %d\n", r, a);
	r = sscanf("1,2,x", "%d,%d,%d", &a, &b, &c);
	pr_info("kemu_lib: scanf12 %d %d %d\n", r, a, b);
	r = sscanf("ffffffffffffffffff 9", "%llx %d", &ull, &a);
	pr_info("kemu_lib: scanf13 %d %llx %d\n", r, ull, a);
	r = sscanf("  x", " %c", ch);
	pr_info("kemu_lib: scanf14 %d %c\n", r, ch[0]);
	r = sscanf("00:0a:95", "%2[^:]:%2[^:]:%2[^:]", s1, s2, ch);
	pr_info("kemu_lib: scanf15 %d %s %s %s\n", r, s1, s2, ch);
}

static noinline void check_hexdump(void)
{
	u8 buf[40];
	char line[160], hex[20];
	u8 bin[8] = { 0 };
	int i, r;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 13 + 0x1d);
	r = hex_dump_to_buffer(buf, 16, 16, 1, line, sizeof(line), true);
	pr_info("kemu_lib: hd1 %d [%s]\n", r, line);
	r = hex_dump_to_buffer(buf, 16, 16, 2, line, sizeof(line), true);
	pr_info("kemu_lib: hd2 %d [%s]\n", r, line);
	r = hex_dump_to_buffer(buf, 32, 32, 4, line, sizeof(line), true);
	pr_info("kemu_lib: hd3 %d [%s]\n", r, line);
	r = hex_dump_to_buffer(buf, 16, 16, 8, line, sizeof(line), false);
	pr_info("kemu_lib: hd4 %d [%s]\n", r, line);
	r = hex_dump_to_buffer(buf, 7, 16, 4, line, sizeof(line), true);
	pr_info("kemu_lib: hd5 %d [%s]\n", r, line);
	r = hex_dump_to_buffer(buf, 16, 16, 4, line, 12, false);
	pr_info("kemu_lib: hd6 %d [%s]\n", r, line);
	r = hex_dump_to_buffer(buf, 16, 16, 1, line, 20, true);
	pr_info("kemu_lib: hd7 %d [%s]\n", r, line);
	r = hex_dump_to_buffer(buf, 0, 16, 1, line, sizeof(line), true);
	pr_info("kemu_lib: hd8 %d [%s]\n", r, line);
	print_hex_dump(KERN_INFO, "kemu_lib: phd1 ", DUMP_PREFIX_OFFSET, 16, 1, buf, sizeof(buf), true);
	print_hex_dump(KERN_INFO, "kemu_lib: phd2 ", DUMP_PREFIX_NONE, 32, 4, buf, sizeof(buf), false);
	r = hex2bin(bin, "00a1Ff7e", 4);
	pr_info("kemu_lib: hex2bin %d %*phN\n", r, 4, bin);
	r = hex2bin(bin, "12zz", 2);
	pr_info("kemu_lib: hex2bin-bad %d %*phN\n", r, 4, bin);
	memset(hex, 0, sizeof(hex));
	pr_info("kemu_lib: bin2hex %ld [%s]\n", (long)(bin2hex(hex, buf, 5) - hex), hex);
	pr_info("kemu_lib: hex_to_bin %d %d %d %d %d\n", hex_to_bin('0'), hex_to_bin('9'),
		hex_to_bin('a'), hex_to_bin('F'), hex_to_bin('g'));
}

static noinline void check_cmdline(void)
{
	char *end;
	char opt[] = "17,-3,0x10-";
	char *p = opt;
	int ints[10], v = 0, r, i;
	unsigned long long m;

	m = memparse("4k", &end);
	pr_info("kemu_lib: memparse1 %llu [%s]\n", m, end);
	m = memparse("0x10Mrest", &end);
	pr_info("kemu_lib: memparse2 %llu [%s]\n", m, end);
	m = memparse("3G", NULL);
	pr_info("kemu_lib: memparse3 %llu\n", m);
	for (i = 0; i < 4; i++) {
		r = get_option(&p, &v);
		pr_info("kemu_lib: get_option %d %d [%s]\n", r, v, p);
	}
	memset(ints, 0, sizeof(ints));
	p = get_options("1,2,5-8,10", ARRAY_SIZE(ints), ints);
	pr_info("kemu_lib: get_options %d: %d %d %d %d %d %d %d [%s]\n", ints[0], ints[1],
		ints[2], ints[3], ints[4], ints[5], ints[6], ints[7], p);
}

static noinline void check_ctype(void)
{
	DECLARE_BITMAP(alpha, 256);
	DECLARE_BITMAP(space, 256);
	DECLARE_BITMAP(punct, 256);
	DECLARE_BITMAP(upper, 256);
	int c;

	bitmap_zero(alpha, 256);
	bitmap_zero(space, 256);
	bitmap_zero(punct, 256);
	bitmap_zero(upper, 256);
	for (c = 0; c < 256; c++) {
		if (isalpha(c))
			__set_bit(c, alpha);
		if (isspace(c))
			__set_bit(c, space);
		if (ispunct(c))
			__set_bit(c, punct);
		if (isupper(c))
			__set_bit(c, upper);
	}
	pr_info("kemu_lib: ctype alpha %*phN\n", 32, alpha);
	pr_info("kemu_lib: ctype space %*phN\n", 32, space);
	pr_info("kemu_lib: ctype punct %*phN\n", 32, punct);
	pr_info("kemu_lib: ctype upper %*phN\n", 32, upper);
	pr_info("kemu_lib: ctype tolower %c%c%c toupper %c%c\n", tolower('Q'), tolower(0xc0),
		tolower('1'), toupper('q'), toupper(0xe9));
}

static noinline void check_bitmap(void)
{
	unsigned long *a = bitmap_zalloc(nbits, GFP_KERNEL);
	unsigned long *b = bitmap_zalloc(nbits, GFP_KERNEL);
	unsigned long *d = bitmap_zalloc(nbits, GFP_KERNEL);
	char *page = kmalloc(PAGE_SIZE, GFP_KERNEL);
	int r;

	bitmap_set(a, 3, 70);
	bitmap_set(b, 60, 30);
	pr_info("kemu_lib: bm weight %u %u\n", bitmap_weight(a, nbits), bitmap_weight(b, nbits));
	r = bitmap_and(d, a, b, nbits);
	pr_info("kemu_lib: bm and %d %u first %lu last %lu\n", r, bitmap_weight(d, nbits),
		find_first_bit(d, nbits), find_last_bit(d, nbits));
	bitmap_or(d, a, b, nbits);
	pr_info("kemu_lib: bm or %u next0 %lu\n", bitmap_weight(d, nbits),
		find_next_zero_bit(d, nbits, 5));
	bitmap_xor(d, a, b, nbits);
	pr_info("kemu_lib: bm xor %u next %lu\n", bitmap_weight(d, nbits),
		find_next_bit(d, nbits, 50));
	r = bitmap_andnot(d, a, b, nbits);
	pr_info("kemu_lib: bm andnot %d %u\n", r, bitmap_weight(d, nbits));
	pr_info("kemu_lib: bm equal %d subset %d intersects %d\n", bitmap_equal(a, a, nbits),
		bitmap_subset(d, a, nbits), bitmap_intersects(a, b, nbits));
	bitmap_shift_left(d, a, 20, nbits);
	pr_info("kemu_lib: bm shl %u %lu\n", bitmap_weight(d, nbits), find_first_bit(d, nbits));
	bitmap_shift_right(d, a, 10, nbits);
	pr_info("kemu_lib: bm shr %u %lu\n", bitmap_weight(d, nbits), find_first_bit(d, nbits));
	bitmap_complement(d, a, nbits);
	pr_info("kemu_lib: bm compl %u first0 %lu\n", bitmap_weight(d, nbits),
		find_first_zero_bit(d, nbits));
	bitmap_clear(a, 10, 20);
	r = bitmap_print_to_pagebuf(true, page, a, nbits);
	pr_info("kemu_lib: bm list %d %s", r, page);
	r = bitmap_print_to_pagebuf(false, page, b, nbits);
	pr_info("kemu_lib: bm mask %d %s", r, page);
	bitmap_zero(d, nbits);
	r = bitmap_find_free_region(d, nbits, 3);
	pr_info("kemu_lib: bm region %d %d %d\n", r, bitmap_find_free_region(d, nbits, 4),
		bitmap_allocate_region(d, 8, 2));
	bitmap_release_region(d, 0, 3);
	pr_info("kemu_lib: bm zero-area %lu weight %u\n",
		bitmap_find_next_zero_area(d, nbits, 0, 5, 3), bitmap_weight(d, nbits));
	kfree(page);
	bitmap_free(a);
	bitmap_free(b);
	bitmap_free(d);
}

struct kv {
	int key;
	int idx;
};

static int cmp_int(const void *x, const void *y)
{
	return *(const int *)x - *(const int *)y;
}

static int cmp_kv(const void *x, const void *y)
{
	return ((const struct kv *)x)->key - ((const struct kv *)y)->key;
}

static noinline void check_sort(void)
{
	int arr[] = { 42, 7, -3, 19, 7, 100, 0, -50, 8, 23, 5 };
	struct kv kv[12];
	char out[128];
	int i, len = 0;

	sort(arr, ARRAY_SIZE(arr), sizeof(int), cmp_int, NULL);
	for (i = 0; i < ARRAY_SIZE(arr); i++)
		len += scnprintf(out + len, sizeof(out) - len, " %d", arr[i]);
	pr_info("kemu_lib: sort%s\n", out);
	for (i = 0; i < ARRAY_SIZE(kv); i++) {
		kv[i].key = (i * 7) % 4;
		kv[i].idx = i;
	}
	sort(kv, ARRAY_SIZE(kv), sizeof(kv[0]), cmp_kv, NULL);
	len = 0;
	for (i = 0; i < ARRAY_SIZE(kv); i++)
		len += scnprintf(out + len, sizeof(out) - len, " %d:%d", kv[i].key, kv[i].idx);
	pr_info("kemu_lib: sort-kv%s\n", out);
}

static noinline void check_crc(void)
{
	static const char digits[] = "123456789";
	volatile u32 x = 0xdeadbeef;
	volatile u64 y = 0x0123456789abcdefULL;

	pr_info("kemu_lib: crc32_le %08x %08x\n", crc32_le(~0, digits, 9) ^ ~0,
		crc32_le(0, digits, 9));
	pr_info("kemu_lib: crc32_be %08x\n", crc32_be(~0, digits, 9) ^ ~0);
	pr_info("kemu_lib: crc32c %08x\n", __crc32c_le(~0, digits, 9) ^ ~0);
	pr_info("kemu_lib: crc32 shift %08x %08x\n", crc32_le_shift(0x12345678, 100),
		__crc32c_le_shift(0x12345678, 7));
	pr_info("kemu_lib: ccitt %04x %04x %04x\n", crc_ccitt(0, digits, 9),
		crc_ccitt_false(0xffff, digits, 9), crc_ccitt_byte(0x1234, 0x56));
	pr_info("kemu_lib: hweight %u %lu\n", hweight32(x), hweight64(y));
}

static DEFINE_RATELIMIT_STATE(kemu_rs, 30 * HZ, 3);

static noinline void check_misc(void)
{
	refcount_t r = REFCOUNT_INIT(3);
	LIST_HEAD(head);
	struct { struct list_head node; int v; } e[3];
	int i, allowed = 0;
	void *buf = kmalloc(64, GFP_KERNEL);

	for (i = 0; i < 10; i++)
		allowed += __ratelimit(&kemu_rs);
	pr_info("kemu_lib: ratelimit %d missed %d\n", allowed, kemu_rs.missed);

	pr_info("kemu_lib: refcount %d", refcount_dec_not_one(&r));
	pr_cont(" %d", refcount_dec_not_one(&r));
	pr_cont(" %d", refcount_dec_not_one(&r));
	pr_cont(" %d", refcount_dec_if_one(&r));
	pr_cont(" %u\n", refcount_read(&r));

	pr_info("kemu_lib: key %d", static_branch_unlikely(&kemu_lib_key) ? 1 : 0);
	static_branch_enable(&kemu_lib_key);
	pr_cont(" %d %d", static_branch_unlikely(&kemu_lib_key) ? 1 : 0,
		static_key_count(&kemu_lib_key.key));
	static_branch_inc(&kemu_lib_key);
	pr_cont(" %d", static_key_count(&kemu_lib_key.key));
	static_branch_dec(&kemu_lib_key);
	static_branch_disable(&kemu_lib_key);
	pr_cont(" %d %d\n", static_branch_unlikely(&kemu_lib_key) ? 1 : 0,
		static_key_count(&kemu_lib_key.key));

	for (i = 0; i < 3; i++) {
		e[i].v = i * 10;
		list_add_tail(&e[i].node, &head);
	}
	list_del(&e[1].node);
	pr_info("kemu_lib: list");
	for (i = 0; i < 3; i++)
		if (i != 1)
			pr_cont(" %d", list_entry(head.next, typeof(e[0]), node)->v + i);
	pr_cont(" empty=%d\n", list_empty(&head));

	pr_info("kemu_lib: layout %d %d fpu=%d\n",
		page_address(virt_to_page(buf)) == (void *)((unsigned long)buf & PAGE_MASK),
		(unsigned long)buf - (unsigned long)page_address(virt_to_page(buf)) ==
		offset_in_page(buf), boot_cpu_has(X86_FEATURE_FPU));
	pr_info("kemu_lib: random-below %d\n", get_random_u32_below(1000) < 1000);
	kfree(buf);
}

static noinline void bug_list_add(void)
{
	LIST_HEAD(head);
	struct list_head a, b;

	list_add(&a, &head);
	a.prev = &b;			/* corrupt: head.next->prev != &head */
	list_add(&b, &head);
}

static noinline void bug_list_del(void)
{
	LIST_HEAD(head);
	struct list_head a, b, c;

	list_add(&a, &head);
	list_add(&b, &head);
	c.next = &head;
	c.prev = &b;
	a.next = &c;			/* a's neighbour does not point back */
	list_del(&a);
}

static noinline void bug_list_del_twice(void)
{
	LIST_HEAD(head);
	struct list_head a;

	list_add(&a, &head);
	list_del(&a);
	list_del(&a);
}

static noinline void warn_refcount(void)
{
	refcount_t r = REFCOUNT_INIT(0);
	bool t;

	refcount_inc(&r);
	pr_info("kemu_lib: refcount after inc-on-0 %08x\n", refcount_read(&r));
	refcount_set(&r, 1);
	refcount_dec(&r);
	pr_info("kemu_lib: refcount after dec-to-0 %08x\n", refcount_read(&r));
	refcount_set(&r, 0);
	t = refcount_dec_and_test(&r);
	pr_info("kemu_lib: refcount after underflow %d %08x\n", t, refcount_read(&r));
	refcount_set(&r, INT_MAX);
	refcount_add(2, &r);
	pr_info("kemu_lib: refcount after add overflow %08x\n", refcount_read(&r));
	refcount_set(&r, INT_MAX);
	t = refcount_inc_not_zero(&r);
	pr_info("kemu_lib: refcount after inc_not_zero overflow %d %08x\n", t, refcount_read(&r));
	refcount_set(&r, 0);
	refcount_inc(&r);
	pr_info("kemu_lib: refcount again %08x\n", refcount_read(&r));
}

static int __init kemu_lib_init(void)
{
	switch (mode) {
	case 1:
		bug_list_add();
		return 0;
	case 2:
		bug_list_del();
		return 0;
	case 3:
		warn_refcount();
		return 0;
	case 4:
		bug_list_del_twice();
		return 0;
	}
	check_sscanf();
	check_hexdump();
	check_cmdline();
	check_ctype();
	check_bitmap();
	check_sort();
	check_crc();
	check_misc();
	pr_info("kemu_lib: done\n");
	return 0;
}

static void __exit kemu_lib_exit(void)
{
	pr_info("kemu_lib: exit\n");
}

module_init(kemu_lib_init);
module_exit(kemu_lib_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: lib/ helpers");
