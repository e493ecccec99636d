#include <linux/module.h>
#include <linux/bitmap.h>
#include <linux/xarray.h>
#include <linux/gcd.h>
#include <linux/ethtool.h>
#include <linux/sched.h>
#include <linux/bitrev.h>
#include <linux/mm.h>
#include <net/checksum.h>
#include <crypto/skcipher.h>
#include <linux/input.h>
static DEFINE_XARRAY(xa);
static int __init lib16_init(void)
{
	DECLARE_BITMAP(src, 130);
	DECLARE_BITMAP(dst, 130);
	__ETHTOOL_DECLARE_LINK_MODE_MASK(modes);
	char comm[TASK_COMM_LEN + 4], comm16[TASK_COMM_LEN];
	u32 legacy = 0;
	bool ok;
	static const u8 pkt[] = { 0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11 };
	struct input_dev *idev;
	int ret;

	bitmap_zero(src, 130);
	bitmap_set(src, 3, 10);
	bitmap_set(src, 70, 5);
	set_bit(129, src);
	bitmap_cut(dst, src, 5, 4, 130);
	pr_info("lib16: cut %*pbl\n", 130, dst);
	pr_info("lib16: xa_store_range %ld\n", PTR_ERR(xa_store_range(&xa, 10, 14, xa_mk_value(7), GFP_KERNEL)));
	pr_info("lib16: load 9 %d 10 %lu 14 %lu 15 %d\n", xa_load(&xa, 9) == NULL,
		xa_to_value(xa_load(&xa, 10)), xa_to_value(xa_load(&xa, 14)), xa_load(&xa, 15) == NULL);
	pr_info("lib16: bad range %d\n", xa_err(xa_store_range(&xa, 5, 4, xa_mk_value(1), GFP_KERNEL)));
	xa_store_range(&xa, 10, 14, NULL, GFP_KERNEL);
	pr_info("lib16: empty %d\n", xa_empty(&xa));
	pr_info("lib16: gcd %lu %lu %lu\n", gcd(48000, 44100), gcd(0, 5), gcd(7, 0));
	ethtool_convert_legacy_u32_to_link_mode(modes, 0x8000000f);
	ok = ethtool_convert_link_mode_to_legacy_u32(&legacy, modes);
	pr_info("lib16: legacy %x ok %d\n", legacy, ok);
	set_bit(40, modes);
	ok = ethtool_convert_link_mode_to_legacy_u32(&legacy, modes);
	pr_info("lib16: legacy %x ok %d\n", legacy, ok);
	memset(comm, 'x', sizeof(comm));
	__get_task_comm(comm, 4, current);
	pr_info("lib16: comm4 '%s' %d\n", comm, comm[3]);
	get_task_comm(comm16, current);
	pr_info("lib16: comm '%s'\n", comm16);
	pr_info("lib16: bitrev8 %02x %02x\n", bitrev8(0x01), bitrev8(0xa0));
	pr_info("lib16: wc %lx\n", pgprot_val(pgprot_writecombine(__pgprot(0))));
	pr_info("lib16: csum %04x\n", ip_compute_csum(pkt, sizeof(pkt)));
	pr_info("lib16: has nonesuch %d\n", crypto_has_skcipher("nonesuch", 0, 0));
	flush_signals(current);
	pr_info("lib16: sigpending %d\n", signal_pending(current));
	idev = input_allocate_device();
	if (!idev)
		return -ENOMEM;
	pr_info("lib16: ff 0 = %d\n", input_ff_create(idev, 0));
	set_bit(FF_PERIODIC, idev->ffbit);
	ret = input_ff_create(idev, 4);
	pr_info("lib16: ff 4 = %d EV_FF %d rumble %d\n", ret, test_bit(EV_FF, idev->evbit),
		test_bit(FF_RUMBLE, idev->ffbit));
	input_free_device(idev);
	return 0;
}
static void __exit lib16_exit(void) { }
module_init(lib16_init);
module_exit(lib16_exit);
MODULE_LICENSE("GPL");
