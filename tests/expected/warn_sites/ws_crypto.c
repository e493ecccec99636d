// SPDX-License-Identifier: GPL-2.0
/* kemu warn-site triggers: crypto API (real kernel and kemu) */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <crypto/algapi.h>
#include <crypto/internal/hash.h>
#include <crypto/internal/skcipher.h>

#define MARK(s) pr_info("ws: " s "\n")

static int ws_sinit(struct shash_desc *desc) { return 0; }
static int ws_supdate(struct shash_desc *desc, const u8 *d, unsigned int n) { return 0; }
static int ws_sfinal(struct shash_desc *desc, u8 *out) { memset(out, 0, 32); return 0; }
static int ws_big_desc(struct crypto_shash *tfm)
{
	tfm->descsize = HASH_MAX_DESCSIZE + 8;
	return 0;
}

static struct shash_alg ws_shash = {
	.digestsize = 4, .init = ws_sinit, .update = ws_supdate, .final = ws_sfinal,
	.init_tfm = ws_big_desc,
	.base = { .cra_name = "wshash", .cra_driver_name = "wshash-generic", .cra_priority = 100,
		  .cra_blocksize = 1, .cra_module = THIS_MODULE },
};

static struct shash_alg ws_badsha = {
	.digestsize = 32, .init = ws_sinit, .update = ws_supdate, .final = ws_sfinal,
	.base = { .cra_name = "sha256", .cra_driver_name = "sha256-ws", .cra_priority = 1,
		  .cra_blocksize = 64, .cra_module = THIS_MODULE },
};

static int ws_setkey(struct crypto_skcipher *tfm, const u8 *key, unsigned int len) { return 0; }
static int ws_crypt(struct skcipher_request *req) { return 0; }
static int ws_big_req(struct crypto_skcipher *tfm)
{
	crypto_skcipher_set_reqsize(tfm, MAX_SYNC_SKCIPHER_REQSIZE + 64);
	return 0;
}

static struct skcipher_alg ws_skcipher = {
	.min_keysize = 16, .max_keysize = 16, .setkey = ws_setkey,
	.encrypt = ws_crypt, .decrypt = ws_crypt, .init = ws_big_req,
	.base = { .cra_name = "wsciph", .cra_driver_name = "wsciph-generic", .cra_priority = 100,
		  .cra_blocksize = 16, .cra_module = THIS_MODULE },
};

static struct crypto_alg ws_unreg = { .cra_driver_name = "wsnone-generic" };

static int __init ws_init(void)
{
	struct crypto_spawn spawn = { };
	struct crypto_shash *sh;
	struct crypto_sync_skcipher *sk;
	int ret;

	MARK("crypto_unregister_alg unregistered");
	INIT_LIST_HEAD(&ws_unreg.cra_list);
	crypto_unregister_alg(&ws_unreg);

	MARK("crypto_grab_spawn NULL inst");
	ret = crypto_grab_spawn(&spawn, NULL, "sha256", 0, 0);
	pr_info("ws: ret %d\n", ret);

	MARK("shash init_tfm descsize too big");
	ret = crypto_register_shash(&ws_shash);
	pr_info("ws: ret %d\n", ret);
	if (!ret) {
		sh = crypto_alloc_shash("wshash", 0, 0);
		pr_info("ws: alloc %ld\n", IS_ERR(sh) ? PTR_ERR(sh) : 0L);
		if (!IS_ERR(sh))
			crypto_free_shash(sh);
		crypto_unregister_shash(&ws_shash);
	}

	MARK("sync skcipher reqsize too big");
	ret = crypto_register_skcipher(&ws_skcipher);
	pr_info("ws: ret %d\n", ret);
	if (!ret) {
		sk = crypto_alloc_sync_skcipher("wsciph", 0, 0);
		pr_info("ws: alloc %ld\n", IS_ERR(sk) ? PTR_ERR(sk) : 0L);
		if (!IS_ERR(sk))
			crypto_free_sync_skcipher(sk);
		crypto_unregister_skcipher(&ws_skcipher);
	}

	MARK("self-test failure");
	ret = crypto_register_shash(&ws_badsha);
	pr_info("ws: ret %d\n", ret);
	if (!ret)
		crypto_unregister_shash(&ws_badsha);
	MARK("done");
	return 0;
}

static void __exit ws_exit(void)
{
}

module_init(ws_init);
module_exit(ws_exit);
MODULE_LICENSE("GPL");
