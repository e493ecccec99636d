// SPDX-License-Identifier: GPL-2.0
/*
 * kemu_misc.c - character devices: a misc device (dynamic minor) with
 * open/read/write/ioctl/llseek/release on a 64-byte buffer, a second misc
 * device asking for the same fixed minor twice (-EBUSY), and a class device
 * on an alloc_chrdev_region + cdev, created with device_create.
 * leak=1 leaves the class device registered at exit.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/miscdevice.h>
#include <linux/uaccess.h>
#include <linux/ioctl.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define kemu_class_create(name) class_create(name)	/* lost its owner in 6.4 */
#else
#define kemu_class_create(name) class_create(THIS_MODULE, name)
#endif

#define KEMU_IOC_GET	_IOR('k', 1, int)
#define KEMU_IOC_SET	_IOW('k', 2, int)
#define KEMU_IOC_OPENS	_IO('k', 3)

static bool leak;
module_param(leak, bool, 0444);

static char store[64] = "initial contents\n";
static size_t store_len = 17;
static int ioc_value = 7;
static int opens, releases;

static int kemu_open(struct inode *inode, struct file *file)
{
	opens++;
	pr_info("kemu_misc: open minor=%d private=%s\n", iminor(inode),
		file->private_data ? "miscdevice" : "none");
	return 0;
}

static int kemu_release(struct inode *inode, struct file *file)
{
	releases++;
	return 0;
}

static ssize_t kemu_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	return simple_read_from_buffer(buf, count, ppos, store, store_len);
}

static ssize_t kemu_write(struct file *file, const char __user *buf, size_t count,
			  loff_t *ppos)
{
	ssize_t n = simple_write_to_buffer(store, sizeof(store), ppos, buf, count);

	if (n > 0 && *ppos > store_len)
		store_len = *ppos;
	return n;
}

static long kemu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	int __user *p = (int __user *)arg;
	int v;

	switch (cmd) {
	case KEMU_IOC_GET:
		return put_user(ioc_value, p);
	case KEMU_IOC_SET:
		if (get_user(v, p))
			return -EFAULT;
		ioc_value = v;
		return 0;
	case KEMU_IOC_OPENS:
		return opens;
	}
	return -ENOTTY;
}

static const struct file_operations kemu_fops = {
	.owner = THIS_MODULE,
	.open = kemu_open,
	.release = kemu_release,
	.read = kemu_read,
	.write = kemu_write,
	.unlocked_ioctl = kemu_ioctl,
	.llseek = default_llseek,
};

static struct miscdevice kemu_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kemu_misc",
	.fops = &kemu_fops,
	.mode = 0666,
};

static struct miscdevice fixed_a = { .minor = 250, .name = "kemu_fixed_a", .fops = &kemu_fops };
static struct miscdevice fixed_b = { .minor = 250, .name = "kemu_fixed_b", .fops = &kemu_fops };

static dev_t chr_dev;
static struct cdev chr_cdev;
static struct class *chr_class;
static struct device *chr_device;

static int __init kemu_misc_init(void)
{
	int err;

	err = misc_register(&kemu_misc);
	if (err)
		return err;
	pr_info("kemu_misc: minor=%d\n", kemu_misc.minor);
	err = misc_register(&fixed_a);
	pr_info("kemu_misc: fixed_a=%d fixed_b=%d\n", err, misc_register(&fixed_b));

	err = alloc_chrdev_region(&chr_dev, 0, 2, "kemu_chr");
	if (err)
		goto out_misc;
	cdev_init(&chr_cdev, &kemu_fops);
	chr_cdev.owner = THIS_MODULE;
	err = cdev_add(&chr_cdev, chr_dev, 2);
	if (err)
		goto out_region;
	chr_class = kemu_class_create("kemu_class");
	if (IS_ERR(chr_class)) {
		err = PTR_ERR(chr_class);
		goto out_cdev;
	}
	chr_device = device_create(chr_class, NULL, chr_dev, NULL, "kemu_chr%d", 0);
	if (IS_ERR(chr_device)) {
		err = PTR_ERR(chr_device);
		goto out_class;
	}
	pr_info("kemu_misc: chr major=%d minor=%d dup_class=%ld\n", MAJOR(chr_dev),
		MINOR(chr_dev), PTR_ERR(kemu_class_create("kemu_class")));
	return 0;
out_class:
	class_destroy(chr_class);
out_cdev:
	cdev_del(&chr_cdev);
out_region:
	unregister_chrdev_region(chr_dev, 2);
out_misc:
	misc_deregister(&fixed_a);
	misc_deregister(&kemu_misc);
	return err;
}

static void __exit kemu_misc_exit(void)
{
	if (!leak) {
		device_destroy(chr_class, chr_dev);
		class_destroy(chr_class);
	}
	cdev_del(&chr_cdev);
	unregister_chrdev_region(chr_dev, 2);
	misc_deregister(&fixed_a);
	misc_deregister(&kemu_misc);
	pr_info("kemu_misc: exit opens=%d releases=%d value=%d\n", opens, releases, ioc_value);
}

module_init(kemu_misc_init);
module_exit(kemu_misc_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: misc and class character devices");
