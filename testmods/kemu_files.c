// SPDX-License-Identifier: GPL-2.0
/*
 * kemu_files.c - every kind of file a module registers reads back, from module
 * code, the objects the VFS handed it: a proc_ops file in /proc/kemu_files/,
 * a misc device /dev/kemu_files, a debugfs file with fops and a sysfs bin
 * attribute under /sys/kernel/kemu_files/.  Each open, read, write and release
 * logs one line with file->f_path.dentry->d_name (and its parent's),
 * the superblock magic, the mount's superblock, f_inode/f_mapping/i_mapping,
 * f_cred's uid, f_flags, f_mode and current's comm, pid and mm.
 * Writing "on" or "off" to any of them flips the static key kemu_files_key;
 * reads (and poll of the device: readable or writable) show which side of the
 * static branch ran.  Reading
 * /proc/kemu_files/crash dereferences NULL (the oops names the reading process).
 * mmap of the device maps a page with remap_pfn_range() at offset 0 and faults
 * in another at other offsets.  One int, level, is a device attribute of the misc device and /proc/sys/kemu_files/level.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/proc_fs.h>
#include <linux/miscdevice.h>
#include <linux/debugfs.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/mount.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/jump_label.h>
#include <linux/sysctl.h>
#include <linux/poll.h>
#include <linux/mm.h>
#include <linux/io.h>

static DEFINE_STATIC_KEY_FALSE(kemu_files_key);

static void report(const char *what, struct file *file)
{
	struct dentry *d = file->f_path.dentry;
	struct inode *inode = file_inode(file);

	pr_info("kemu_files: %s %s/%s sb=%lx mnt_sb=%d inode=%d mapping=%d ino=%d "
		"uid=%u flags=%o mode=%x comm=%s pid>1=%d mm=%d\n",
		what, d->d_parent->d_name.name, d->d_name.name,
		inode->i_sb ? inode->i_sb->s_magic : 0UL,
		file->f_path.mnt && file->f_path.mnt->mnt_sb == inode->i_sb,
		d->d_inode == inode && file->f_inode == inode,
		file->f_mapping && file->f_mapping == inode->i_mapping,
		inode->i_ino != 0,
		file->f_cred ? from_kuid(&init_user_ns, file->f_cred->fsuid) : 9999,
		file->f_flags & O_ACCMODE, (unsigned)(file->f_mode & (FMODE_READ | FMODE_WRITE)),
		current->comm, current->pid > 1, current->mm != NULL);
}

static int f_open(struct inode *inode, struct file *file)
{
	report("open", file);
	return 0;
}

static int f_release(struct inode *inode, struct file *file)
{
	report("release", file);
	return 0;
}

static ssize_t f_read(struct file *file, char __user *buf, size_t len, loff_t *off)
{
	char text[64];
	int n;

	report("read", file);
	if (static_branch_unlikely(&kemu_files_key))
		n = scnprintf(text, sizeof(text), "%s key on\n", file->f_path.dentry->d_name.name);
	else
		n = scnprintf(text, sizeof(text), "%s key off\n", file->f_path.dentry->d_name.name);
	return simple_read_from_buffer(buf, len, off, text, n);
}

static ssize_t f_write(struct file *file, const char __user *buf, size_t len, loff_t *off)
{
	char text[8] = "";

	report("write", file);
	if (copy_from_user(text, buf, min(len, sizeof(text) - 1)))
		return -EFAULT;
	if (!strncmp(text, "on", 2))
		static_branch_enable(&kemu_files_key);
	else if (!strncmp(text, "off", 3))
		static_branch_disable(&kemu_files_key);
	else if (!strncmp(text, "root", 4) && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	return len;
}

static DECLARE_WAIT_QUEUE_HEAD(files_wait);

static __poll_t f_poll(struct file *file, struct poll_table_struct *wait)
{
	poll_wait(file, &files_wait, wait);
	if (static_branch_unlikely(&kemu_files_key))
		return EPOLLIN | EPOLLRDNORM;
	return EPOLLOUT | EPOLLWRNORM;
}

/* mmap: offset 0 maps page0 with remap_pfn_range(), other offsets fault in page1 */
static char *page0, *page1;

static vm_fault_t f_fault(struct vm_fault *vmf)
{
	pr_info("kemu_files: fault pgoff=%lu comm=%s\n", vmf->pgoff, current->comm);
	get_page(virt_to_page(page1));
	vmf->page = virt_to_page(page1);
	return 0;
}

static const struct vm_operations_struct f_vm_ops = {
	.fault = f_fault,
};

static int f_mmap(struct file *file, struct vm_area_struct *vma)
{
	report("mmap", file);
	if (vma->vm_pgoff)
		vma->vm_ops = &f_vm_ops;
	else if (remap_pfn_range(vma, vma->vm_start, virt_to_phys(page0) >> PAGE_SHIFT,
				 PAGE_SIZE, vma->vm_page_prot))
		return -EAGAIN;
	return 0;
}

static const struct proc_ops pops = {
	.proc_open = f_open, .proc_read = f_read, .proc_write = f_write,
	.proc_release = f_release, .proc_lseek = default_llseek,
};

static ssize_t crash_read(struct file *file, char __user *buf, size_t len, loff_t *off)
{
	struct file *none = *(struct file * volatile *)&file->private_data;

	return none->f_pos;
}

static const struct proc_ops crash_ops = {
	.proc_read = crash_read,
};

static const struct file_operations fops = {
	.owner = THIS_MODULE, .open = f_open, .read = f_read, .write = f_write,
	.release = f_release, .llseek = default_llseek, .poll = f_poll, .mmap = f_mmap,
};

static int level = 7;

static ssize_t level_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", level);
}

static ssize_t level_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	int ret = kstrtoint(buf, 0, &level);

	return ret ? ret : count;
}
static DEVICE_ATTR_RW(level);

static struct attribute *misc_attrs[] = { &dev_attr_level.attr, NULL };
ATTRIBUTE_GROUPS(misc);

static struct ctl_table sysctls[] = {
	{ .procname = "level", .data = &level, .maxlen = sizeof(int), .mode = 0644,
	  .proc_handler = proc_dointvec },
	{ }
};
static struct ctl_table_header *sysctl_header;

static struct miscdevice misc = {
	.minor = MISC_DYNAMIC_MINOR, .name = "kemu_files", .fops = &fops, .mode = 0666,
	.groups = misc_groups,
};

static ssize_t bin_read(struct file *file, struct kobject *kobj, struct bin_attribute *attr,
			char *buf, loff_t off, size_t count)
{
	report("bin_read", file);
	if (off >= 4)
		return 0;
	memcpy(buf, "bin\n", 4);
	return 4;
}

static struct bin_attribute bin_attr = {
	.attr = { .name = "blob", .mode = 0444 }, .size = 4, .read = bin_read,
};

static struct proc_dir_entry *dir;
static struct dentry *ddir;
static struct kobject *kobj;

static int __init kemu_files_init(void)
{
	int ret;

	page0 = (char *)get_zeroed_page(GFP_KERNEL);
	page1 = (char *)get_zeroed_page(GFP_KERNEL);
	if (!page0 || !page1)
		goto fail_pages;
	strcpy(page0, "page 0 by remap_pfn_range\n");
	strcpy(page1, "page 1 by fault\n");
	dir = proc_mkdir("kemu_files", NULL);
	if (!dir || !proc_create("entry", 0644, dir, &pops) ||
	    !proc_create("crash", 0444, dir, &crash_ops))
		goto fail_proc;
	ret = misc_register(&misc);
	if (ret)
		goto fail_proc;
	ddir = debugfs_create_dir("kemu_files", NULL);
	debugfs_create_file("entry", 0644, ddir, NULL, &fops);
	kobj = kobject_create_and_add("kemu_files", kernel_kobj);
	if (!kobj || sysfs_create_bin_file(kobj, &bin_attr))
		goto fail_kobj;
	sysctl_header = register_sysctl("kemu_files", sysctls);
	if (!sysctl_header)
		goto fail_kobj;
	return 0;
fail_kobj:
	kobject_put(kobj);
	debugfs_remove_recursive(ddir);
	misc_deregister(&misc);
fail_proc:
	proc_remove(dir);
fail_pages:
	free_page((unsigned long)page0);
	free_page((unsigned long)page1);
	return -ENOMEM;
}

static void __exit kemu_files_exit(void)
{
	unregister_sysctl_table(sysctl_header);
	sysfs_remove_bin_file(kobj, &bin_attr);
	kobject_put(kobj);
	debugfs_remove_recursive(ddir);
	misc_deregister(&misc);
	proc_remove(dir);
	free_page((unsigned long)page0);
	free_page((unsigned long)page1);
}

module_init(kemu_files_init);
module_exit(kemu_files_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: the objects every file callback gets");
