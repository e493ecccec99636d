// SPDX-License-Identifier: GPL-2.0
/* procfs3.c: a /proc file with open/close that pin the module and a size (LKMPG) */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#define PROCFS_MAX_SIZE 2048UL
#define PROCFS_ENTRY_FILENAME "buffer2k"

static struct proc_dir_entry *our_proc_file;
static char procfs_buffer[PROCFS_MAX_SIZE];
static unsigned long procfs_buffer_size;

static ssize_t procfs_read(struct file *filp, char __user *buffer, size_t length,
			   loff_t *offset)
{
	if (*offset || procfs_buffer_size == 0) {
		pr_info("procfs_read: END\n");
		*offset = 0;
		return 0;
	}
	procfs_buffer_size = min(procfs_buffer_size, length);
	if (copy_to_user(buffer, procfs_buffer, procfs_buffer_size))
		return -EFAULT;
	*offset += procfs_buffer_size;
	pr_info("procfs_read: read %lu bytes\n", procfs_buffer_size);
	return procfs_buffer_size;
}

static ssize_t procfs_write(struct file *file, const char __user *buffer, size_t len,
			    loff_t *off)
{
	procfs_buffer_size = min(PROCFS_MAX_SIZE, len);
	if (copy_from_user(procfs_buffer, buffer, procfs_buffer_size))
		return -EFAULT;
	*off += procfs_buffer_size;
	pr_info("procfs_write: write %lu bytes\n", procfs_buffer_size);
	return procfs_buffer_size;
}

static int procfs_open(struct inode *inode, struct file *file)
{
	if (!try_module_get(THIS_MODULE))
		return -ENODEV;
	pr_info("procfs_open: %s by %s, size %lld\n", file->f_path.dentry->d_name.name,
		current->comm, i_size_read(inode));
	return 0;
}

static int procfs_close(struct inode *inode, struct file *file)
{
	module_put(THIS_MODULE);
	return 0;
}

static const struct proc_ops file_ops_4_our_proc_file = {
	.proc_read = procfs_read,
	.proc_write = procfs_write,
	.proc_open = procfs_open,
	.proc_release = procfs_close,
};

static int __init procfs3_init(void)
{
	our_proc_file = proc_create(PROCFS_ENTRY_FILENAME, 0644, NULL, &file_ops_4_our_proc_file);
	if (our_proc_file == NULL) {
		pr_info("Error: Could not initialize /proc/%s\n", PROCFS_ENTRY_FILENAME);
		return -ENOMEM;
	}
	proc_set_size(our_proc_file, 80);
	proc_set_user(our_proc_file, GLOBAL_ROOT_UID, GLOBAL_ROOT_GID);
	pr_info("/proc/%s created\n", PROCFS_ENTRY_FILENAME);
	return 0;
}

static void __exit procfs3_exit(void)
{
	remove_proc_entry(PROCFS_ENTRY_FILENAME, NULL);
	pr_info("/proc/%s removed\n", PROCFS_ENTRY_FILENAME);
}

module_init(procfs3_init);
module_exit(procfs3_exit);
MODULE_LICENSE("GPL");
