#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
static struct platform_device *p;
static int __init platzero_init(void)
{
	int ret;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	ret = platform_device_add(p);
	pr_info("platzero: platform_device_add of a zeroed device: %d\n", ret);
	kfree(p);
	return 0;
}
static void __exit platzero_exit(void) { }
module_init(platzero_init);
module_exit(platzero_exit);
MODULE_LICENSE("GPL");
