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
#if __has_include(<crypto/internal/cipher.h>)	/* 5.12+; linux/crypto.h before */
#include <crypto/internal/cipher.h>
#endif
#include <crypto/skcipher.h>

MODULE_IMPORT_NS(CRYPTO_INTERNAL);

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

static noinline void check_cipher(void)
{
	static const u8 key[32] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
				    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };
	static const u8 pt[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	struct crypto_cipher *tfm = crypto_alloc_cipher("aes", 0, 0);
	u8 ct[16], back[16];
	int err;

	if (IS_ERR(tfm)) {
		pr_info("kemu_crypto: aes alloc failed %ld\n", PTR_ERR(tfm));
		return;
	}
	pr_info("kemu_crypto: aes %s bs=%u\n", crypto_tfm_alg_driver_name(crypto_cipher_tfm(tfm)),
		crypto_cipher_blocksize(tfm));
	err = crypto_cipher_setkey(tfm, key, 15);
	pr_info("kemu_crypto: aes setkey15 %d\n", err);
	err = crypto_cipher_setkey(tfm, key, 32);
	crypto_cipher_encrypt_one(tfm, ct, pt);
	crypto_cipher_decrypt_one(tfm, back, ct);
	pr_info("kemu_crypto: aes256 %d %*phN %d\n", err, 16, ct, !memcmp(back, pt, 16));
	err = crypto_cipher_setkey(tfm, key, 16);
	crypto_cipher_encrypt_one(tfm, ct, pt);
	pr_info("kemu_crypto: aes128 %d %*phN\n", err, 16, ct);
	crypto_free_cipher(tfm);
}

static noinline void check_skcipher(const char *name, unsigned int keylen, unsigned int len)
{
	struct crypto_skcipher *tfm = crypto_alloc_skcipher(name, 0, 0);
	struct skcipher_request *req;
	struct scatterlist sg[2];
	u8 key[32], iv[16], *buf;
	int i, err, split = len / 2 + 3;

	if (IS_ERR(tfm)) {
		pr_info("kemu_crypto: %s: alloc failed %ld\n", name, PTR_ERR(tfm));
		return;
	}
	buf = kmalloc(len, GFP_KERNEL);
	req = skcipher_request_alloc(tfm, GFP_KERNEL);
	for (i = 0; i < 32; i++)
		key[i] = (u8)(i * 7 + 1);
	for (i = 0; i < 16; i++)
		iv[i] = (u8)(0xf0 + i);
	for (i = 0; i < len; i++)
		buf[i] = (u8)(i * 3);
	err = crypto_skcipher_setkey(tfm, key, keylen);
	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], buf, split);
	sg_set_buf(&sg[1], buf + split, len - split);
	skcipher_request_set_callback(req, 0, NULL, NULL);
	skcipher_request_set_crypt(req, sg, sg, len, iv);
	err = err ?: crypto_skcipher_encrypt(req);
	pr_info("kemu_crypto: %s %s err=%d ivsize=%u %*phN\n", name,
		crypto_tfm_alg_driver_name(crypto_skcipher_tfm(tfm)), err,
		crypto_skcipher_ivsize(tfm), 32, buf);
	pr_info("kemu_crypto: %s tail %*phN iv %*phN\n", name, 16, buf + len - 16, 16, iv);
	for (i = 0; i < 16; i++)
		iv[i] = (u8)(0xf0 + i);
	err = crypto_skcipher_decrypt(req);
	for (i = 0; i < len && buf[i] == (u8)(i * 3); i++)
		;
	pr_info("kemu_crypto: %s decrypt err=%d back=%d\n", name, err, i == len);
	skcipher_request_free(req);
	kfree(buf);
	crypto_free_skcipher(tfm);
}

static noinline void check_ahash(const char *name, const u8 *key, unsigned int keylen)
{
	struct crypto_ahash *tfm = crypto_alloc_ahash(name, 0, 0);
	struct ahash_request *req;
	struct scatterlist sg[3];
	u8 *buf, out[64];
	int i, err;

	if (IS_ERR(tfm)) {
		pr_info("kemu_crypto: ahash %s: alloc failed %ld\n", name, PTR_ERR(tfm));
		return;
	}
	buf = kmalloc(700, GFP_KERNEL);
	for (i = 0; i < 700; i++)
		buf[i] = (u8)(i ^ 0x5a);
	req = ahash_request_alloc(tfm, GFP_KERNEL);
	err = key ? crypto_ahash_setkey(tfm, key, keylen) : 0;
	sg_init_table(sg, 3);
	sg_set_buf(&sg[0], buf, 100);
	sg_set_buf(&sg[1], buf + 300, 250);
	sg_set_buf(&sg[2], buf + 600, 100);
	ahash_request_set_callback(req, 0, NULL, NULL);
	ahash_request_set_crypt(req, sg, out, 450);
	err = err ?: crypto_ahash_digest(req);
	pr_info("kemu_crypto: ahash %s %s err=%d %*phN\n", name,
		crypto_tfm_alg_driver_name(crypto_ahash_tfm(tfm)), err,
		crypto_ahash_digestsize(tfm), out);
	err = crypto_ahash_init(req);
	ahash_request_set_crypt(req, sg, out, 100);
	err = err ?: crypto_ahash_update(req);
	ahash_request_set_crypt(req, sg + 1, out, 350);
	err = err ?: crypto_ahash_finup(req);
	pr_info("kemu_crypto: ahash %s parts err=%d %*phN\n", name, err,
		crypto_ahash_digestsize(tfm), out);
	ahash_request_free(req);
	kfree(buf);
	crypto_free_ahash(tfm);
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
	check_shash("sha256", big, 1000);
	check_shash("sha224", abc, 3);
	check_shash("sha1", big, 999);
	check_shash("md5", big, 1000);
	check_cipher();
	check_skcipher("ecb(aes)", 16, 64);
	check_skcipher("ctr(aes)", 24, 100);
	check_skcipher("xts(aes)", 32, 96);
	check_skcipher("cfb(aes)", 16, 77);
	check_ahash("sha256", NULL, 0);
	check_ahash("sha512", NULL, 0);
	check_ahash("cmac(aes)", (const u8 *)"0123456789abcdef", 16);

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
	pr_info("kemu_crypto: utf errors %d %d %d %d %d\n", utf32_to_utf8(0x20ac, u8buf, 2),
		utf32_to_utf8(0x110000, u8buf, 6), utf8_to_utf32("\xe2\x82", 2, &u),
		utf8_to_utf32("\xff", 1, &u), utf8_to_utf32("\xed\xa0\x80", 3, &u));
	w[0] = 0x41;
	w[1] = 0x20ac;
	w[2] = 0x42;
	w[3] = 0xdc00;
	w[4] = 0x43;
	r = utf16s_to_utf8s(w, 5, UTF16_HOST_ENDIAN, u8buf, 3);
	r2 = utf16s_to_utf8s(w, 5, UTF16_HOST_ENDIAN, u8buf + 8, 16);
	pr_info("kemu_crypto: utf16->8 short %d %*phN full %d %*phN\n", r, r, u8buf, r2, r2,
		u8buf + 8);
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
