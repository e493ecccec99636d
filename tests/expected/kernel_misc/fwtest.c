#include <linux/module.h>
#include <linux/firmware.h>
static int __init fwtest_init(void)
{
	const struct firmware *fw = (void *)1;
	int a = request_firmware(&fw, "kemu/none.bin", NULL);
	int b, c;
	pr_info("fwtest: request=%d fw_null=%d\n", a, fw == NULL);
	fw = (void *)1;
	b = request_firmware_direct(&fw, "kemu/none.bin", NULL);
	c = request_firmware(&fw, "", NULL);
	pr_info("fwtest: direct=%d empty=%d\n", b, c);
	release_firmware(NULL);
	return 0;
}
static void __exit fwtest_exit(void) { }
module_init(fwtest_init);
module_exit(fwtest_exit);
MODULE_LICENSE("GPL");
