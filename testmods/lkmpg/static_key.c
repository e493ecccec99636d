// SPDX-License-Identifier: GPL-2.0
/* static_key.c: a char device whose writes flip a static key (LKMPG's example) */
#include <linux/version.h>
#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/jump_label.h>
#include <asm/errno.h>

#define DEVICE_NAME "key_state"
#define BUF_LEN 10

static int major;

enum {
	CDEV_NOT_USED = 0,
	CDEV_EXCLUSIVE_OPEN = 1,
};

static atomic_t already_open = ATOMIC_INIT(CDEV_NOT_USED);
static char msg[BUF_LEN + 1];
static struct class *cls;

static DEFINE_STATIC_KEY_FALSE(fkey);

static int device_open(struct inode *inode, struct file *file)
{
	if (atomic_cmpxchg(&already_open, CDEV_NOT_USED, CDEV_EXCLUSIVE_OPEN))
		return -EBUSY;
	sprintf(msg, static_key_enabled(&fkey) ? "enabled\n" : "disabled\n");
	pr_info("fastpath 1\n");
	if (static_branch_unlikely(&fkey))
		pr_alert("do unlikely op\n");
	pr_info("fastpath 2\n");
	try_module_get(THIS_MODULE);
	return 0;
}

static int device_release(struct inode *inode, struct file *file)
{
	atomic_set(&already_open, CDEV_NOT_USED);
	module_put(THIS_MODULE);
	return 0;
}

static ssize_t device_read(struct file *filp, char __user *buffer, size_t length,
			   loff_t *offset)
{
	int bytes_read = 0;
	const char *msg_ptr = msg;

	if (!*(msg_ptr + *offset)) {
		*offset = 0;
		return 0;
	}
	msg_ptr += *offset;
	while (length && *msg_ptr) {
		put_user(*(msg_ptr++), buffer++);
		length--;
		bytes_read++;
	}
	*offset += bytes_read;
	return bytes_read;
}

static ssize_t device_write(struct file *filp, const char __user *buffer, size_t length,
			    loff_t *offset)
{
	char command[10];

	if (length > 10) {
		pr_err("command exceeded 10 char\n");
		return -EINVAL;
	}
	if (copy_from_user(command, buffer, length))
		return -EFAULT;
	if (strncmp(command, "enable", strlen("enable")) == 0)
		static_branch_enable(&fkey);
	else if (strncmp(command, "disable", strlen("disable")) == 0)
		static_branch_disable(&fkey);
	else {
		pr_err("Invalid command: %s\n", command);
		return -EINVAL;
	}
	return length;
}

static struct file_operations chardev_fops = {
	.owner = THIS_MODULE,
	.open = device_open,
	.release = device_release,
	.read = device_read,
	.write = device_write,
};

static int __init chardev_init(void)
{
	major = register_chrdev(0, DEVICE_NAME, &chardev_fops);
	if (major < 0) {
		pr_alert("Registering char device failed with %d\n", major);
		return major;
	}
	pr_info("I was assigned a major number.\n");
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	cls = class_create(DEVICE_NAME);
#else
	cls = class_create(THIS_MODULE, DEVICE_NAME);
#endif
	device_create(cls, NULL, MKDEV(major, 0), NULL, DEVICE_NAME);
	pr_info("Device created on /dev/%s\n", DEVICE_NAME);
	return 0;
}

static void __exit chardev_exit(void)
{
	device_destroy(cls, MKDEV(major, 0));
	class_destroy(cls);
	unregister_chrdev(major, DEVICE_NAME);
}

module_init(chardev_init);
module_exit(chardev_exit);
MODULE_LICENSE("GPL");
