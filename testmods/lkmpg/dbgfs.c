// SPDX-License-Identifier: GPL-2.0
/* dbgfs.c: one debugfs file of each kind under /sys/kernel/debug/dbgfs/, and a
 * module parameter writable through /sys/module/dbgfs/parameters/level */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/uaccess.h>

static struct dentry *dir;
static u8 v8 = 8;
static u16 v16 = 16;
static u32 v32 = 32;
static u64 v64 = 64;
static u32 hex32 = 0xbeef;
static bool flag = true;
static char blob_data[] = "blob bytes\n";
static struct debugfs_blob_wrapper blob = { .data = blob_data, .size = sizeof(blob_data) - 1 };
static char text[32] = "hello from fops\n";
static int level = 3;
module_param(level, int, 0644);

static ssize_t text_read(struct file *f, char __user *buf, size_t len, loff_t *off)
{
	return simple_read_from_buffer(buf, len, off, text, strlen(text));
}

static ssize_t text_write(struct file *f, const char __user *buf, size_t len, loff_t *off)
{
	ssize_t n;

	if (len >= sizeof(text))
		return -ENOSPC;
	n = simple_write_to_buffer(text, sizeof(text) - 1, off, buf, len);
	if (n >= 0)
		text[n] = '\0';
	pr_info("dbgfs: text is now %zd bytes, level %d\n", n, level);
	return n;
}

static const struct file_operations text_fops = {
	.owner = THIS_MODULE, .read = text_read, .write = text_write,
	.llseek = default_llseek,
};

static int __init dbgfs_init(void)
{
	dir = debugfs_create_dir("dbgfs", NULL);
	debugfs_create_u8("u8", 0644, dir, &v8);
	debugfs_create_u16("u16", 0644, dir, &v16);
	debugfs_create_u32("u32", 0644, dir, &v32);
	debugfs_create_u64("u64", 0644, dir, &v64);
	debugfs_create_x32("x32", 0644, dir, &hex32);
	debugfs_create_bool("bool", 0644, dir, &flag);
	debugfs_create_blob("blob", 0444, dir, &blob);
	debugfs_create_file("text", 0644, dir, NULL, &text_fops);
	pr_info("dbgfs: created, level %d\n", level);
	return 0;
}

static void __exit dbgfs_exit(void)
{
	pr_info("dbgfs: u32 %u bool %d level %d\n", v32, flag, level);
	debugfs_remove_recursive(dir);
}

module_init(dbgfs_init);
module_exit(dbgfs_exit);
MODULE_LICENSE("GPL");
