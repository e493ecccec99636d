// SPDX-License-Identifier: GPL-2.0
/*
 * kemu_crypto.c - the Crypto API, scatterlists, NLS, textsearch and kprobes
 * as a module uses them.  Load sha512_generic, sha3_generic, crc32c_generic,
 * nls_cp437 and ts_kmp first: their algorithms are what this module asks for.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/err.h>
#include <linux/scatterlist.h>
#include <linux/nls.h>
#include <linux/textsearch.h>
#include <linux/kprobes.h>
#include <crypto/hash.h>
#include <crypto/algapi.h>
#include <crypto/scatterwalk.h>

static noinline void check_shash(const char *name, const u8 *data, unsigned int len)
{
	struct crypto_shash *tfm = crypto_alloc_shash(name, 0, 0);
	u8 out[64], out2[64];
	int err, ds;

	if (IS_ERR(tfm)) {
		pr_info("kemu_crypto: %s: alloc failed %ld\n", name, PTR_ERR(tfm));
		return;
	}
	ds = crypto_shash_digestsize(tfm);
	{
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		err = crypto_shash_init(desc);
		err = err ?: crypto_shash_update(desc, data, len / 3);
		err = err ?: crypto_shash_update(desc, data + len / 3, len - len / 3);
		err = err ?: crypto_shash_final(desc, out);
		pr_info("kemu_crypto: %s %s ds=%d bs=%d err=%d %*phN\n", name,
			crypto_shash_driver_name(tfm), ds, crypto_shash_blocksize(tfm), err,
			ds, out);
		err = crypto_shash_digest(desc, data + 1, len - 1, out2);
		pr_info("kemu_crypto: %s digest+1 err=%d %*phN\n", name, err, ds, out2);
	}
	err = crypto_shash_tfm_digest(tfm, data, len, out2);
	pr_info("kemu_crypto: %s tfm_digest err=%d same=%d\n", name, err, !memcmp(out, out2, ds));
	crypto_free_shash(tfm);
}

static noinline void check_crypto(void)
{
	static const char abc[] = "abc";
	u8 *big = kmalloc(1000, GFP_KERNEL);
	struct crypto_shash *tfm;
	u8 key[4] = { 0x12, 0x34, 0x56, 0x78 }, out[4];
	u8 a[16], b[16];
	int i, err;

	for (i = 0; i < 1000; i++)
		big[i] = (u8)(i * 31 + 7);
	check_shash("sha512", abc, 3);
	check_shash("sha384-generic", big, 1000);
	check_shash("sha3-256", big, 1000);
	check_shash("crc32c", big, 1000);
	check_shash("kemu-no-such-hash", abc, 3);

	tfm = crypto_alloc_shash("crc32c", 0, 0);
	if (!IS_ERR(tfm)) {
		err = crypto_shash_setkey(tfm, key, sizeof(key));
		pr_info("kemu_crypto: crc32c setkey %d\n", err);
		err = crypto_shash_tfm_digest(tfm, big, 100, out);
		pr_info("kemu_crypto: crc32c keyed %d %*phN\n", err, 4, out);
		err = crypto_shash_setkey(tfm, key, 3);
		pr_info("kemu_crypto: crc32c bad setkey %d flags %x\n", err,
			crypto_shash_get_flags(tfm));
		crypto_free_shash(tfm);
	}
	pr_info("kemu_crypto: has %d %d %d\n", crypto_has_alg("sha512", 0, 0),
		crypto_has_alg("sha3-512-generic", 0, 0), crypto_has_alg("kemu-nope", 0, 0));

	memset(a, 0xaa, sizeof(a));
	memset(b, 0xaa, sizeof(b));
	b[9] ^= 4;
	pr_info("kemu_crypto: memneq %d %d\n", crypto_memneq(a, b, 9), crypto_memneq(a, b, 16));
	crypto_xor(a, b, 13);
	pr_info("kemu_crypto: xor %*phN\n", 16, a);
	memset(a, 0xff, 8);
	a[0] = 0x7f;
	crypto_inc(a, 8);
	pr_info("kemu_crypto: inc %*phN\n", 8, a);
	kfree(big);
}

static noinline void check_sg(void)
{
	u8 *buf = kmalloc(300, GFP_KERNEL);
	u8 *buf2 = kmalloc(300, GFP_KERNEL);
	u8 copy[64];
	struct scatterlist sg[3], tmp[2], *s;
	struct sg_table table;
	struct sg_mapping_iter miter;
	size_t n;
	int i, err;

	for (i = 0; i < 300; i++) {
		buf[i] = (u8)i;
		buf2[i] = (u8)(255 - i);
	}
	sg_init_table(sg, 3);
	sg_set_buf(&sg[0], buf, 10);
	sg_set_buf(&sg[1], buf2 + 100, 20);
	sg_set_buf(&sg[2], buf + 200, 30);
	pr_info("kemu_crypto: sg nents %d %d %d last=%d\n", sg_nents(sg),
		sg_nents_for_len(sg, 25), sg_nents_for_len(sg, 100),
		(int)(sg_last(sg, 3) - sg));
	n = sg_copy_to_buffer(sg, 3, copy, sizeof(copy));
	pr_info("kemu_crypto: sg copy %zu %*phN\n", n, 24, copy + 4);
	n = sg_pcopy_to_buffer(sg, 3, copy, 8, 27);
	pr_info("kemu_crypto: sg pcopy %zu %*phN\n", n, 8, copy);
	scatterwalk_map_and_copy(copy, sg, 5, 12, 0);
	pr_info("kemu_crypto: walk %*phN\n", 12, copy);
	memset(copy, 0xee, 8);
	scatterwalk_map_and_copy(copy, sg, 8, 8, 1);
	pr_info("kemu_crypto: walk-out %*phN %*phN\n", 4, buf + 6, 8, buf2 + 100);
	s = scatterwalk_ffwd(tmp, sg, 15);
	pr_info("kemu_crypto: ffwd %d len %u off %d\n", s == tmp, s->length,
		s->offset == offset_in_page(buf2 + 105));
	sg_init_one(&sg[0], buf, 300);
	n = sg_zero_buffer(sg, 1, 4, 2);
	pr_info("kemu_crypto: sg one %u %zu %*phN\n", sg[0].length, n, 8, buf);
	err = sg_alloc_table(&table, 200, GFP_KERNEL);
	pr_info("kemu_crypto: table %d %u %u %d\n", err, table.nents, table.orig_nents,
		sg_nents(table.sgl));
	sg_free_table(&table);
	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], buf, 5);
	sg_set_buf(&sg[1], buf2, 7);
	sg_miter_start(&miter, sg, 2, SG_MITER_FROM_SG);
	while (sg_miter_next(&miter))
		pr_info("kemu_crypto: miter %zu %*phN\n", miter.length, (int)miter.length,
			miter.addr);
	sg_miter_stop(&miter);
	kfree(buf);
	kfree(buf2);
}

static noinline void check_nls(void)
{
	struct nls_table *t = load_nls("cp437");
	wchar_t w[16];
	u8 u8buf[32];
	unicode_t u;
	unsigned char c;
	int r, r2;

	if (t) {
		r = t->char2uni((const unsigned char *)"\x82", 1, &w[0]);
		r2 = t->uni2char(0x00e9, &c, 1);
		pr_info("kemu_crypto: cp437 %s %d %04x %d %02x lower %02x\n", t->charset, r, w[0],
			r2, c, t->charset2lower[0x41]);
		unload_nls(t);
	} else {
		pr_info("kemu_crypto: cp437 missing\n");
	}
	pr_info("kemu_crypto: nls missing %d\n", load_nls("kemu-none") == NULL);
	r = utf8s_to_utf16s("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80!", 12, UTF16_LITTLE_ENDIAN, w, 16);
	pr_info("kemu_crypto: utf16 %d %*phN\n", r, r * 2, w);
	r = utf16s_to_utf8s(w, r, UTF16_LITTLE_ENDIAN, u8buf, sizeof(u8buf));
	pr_info("kemu_crypto: utf8 %d %*phN\n", r, r, u8buf);
	r = utf8s_to_utf16s("\xff", 1, UTF16_HOST_ENDIAN, w, 16);
	pr_info("kemu_crypto: utf16 bad %d\n", r);
	r = utf8_to_utf32("\xe2\x82\xac", 3, &u);
	r2 = utf32_to_utf8(0x1f600, u8buf, 6);
	pr_info("kemu_crypto: utf32 %d %x %d %*phN %d\n", r, u, r2, r2, u8buf,
		utf32_to_utf8(0xd800, u8buf, 6));
}

static noinline void check_textsearch(void)
{
	static const char hay[] = "a haystack with one needle and another needle";
	struct ts_config *conf;
	struct ts_state state;
	unsigned int pos;

	conf = textsearch_prepare("kmp", "needle", 6, GFP_KERNEL, TS_AUTOLOAD);
	if (IS_ERR(conf)) {
		pr_info("kemu_crypto: kmp %ld\n", PTR_ERR(conf));
		return;
	}
	pos = textsearch_find_continuous(conf, &state, hay, sizeof(hay) - 1);
	pr_info("kemu_crypto: kmp %u", pos);
	pos = textsearch_next(conf, &state);
	pr_cont(" %u", pos);
	pos = textsearch_next(conf, &state);
	pr_cont(" %u\n", pos);
	textsearch_destroy(conf);
	conf = textsearch_prepare("kemu-none", "x", 1, GFP_KERNEL, 0);
	pr_info("kemu_crypto: ts missing %ld\n", PTR_ERR(conf));
}

static struct kprobe kp_bad = { .symbol_name = "kemu_no_such_function" };
static struct kprobe kp_kfree = { .symbol_name = "kfree" };

static noinline void check_kprobes(void)
{
	int r1 = register_kprobe(&kp_bad);
	int r2 = register_kprobe(&kp_kfree);

	pr_info("kemu_crypto: kprobe %d %d\n", r1, r2);
	if (!r2)
		unregister_kprobe(&kp_kfree);
}

static int __init kemu_crypto_init(void)
{
	check_crypto();
	check_sg();
	check_nls();
	check_textsearch();
	check_kprobes();
	pr_info("kemu_crypto: done\n");
	return 0;
}

static void __exit kemu_crypto_exit(void)
{
	pr_info("kemu_crypto: exit\n");
}

module_init(kemu_crypto_init);
module_exit(kemu_crypto_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: crypto, scatterlists, nls, textsearch, kprobes");
