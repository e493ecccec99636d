// SPDX-License-Identifier: GPL-2.0
/*
 * kemu_fs.c - filesystem types, debugfs and sysfs: registers "kemufs"
 * (nodev) and "kemublk" (FS_REQUIRES_DEV), tries a second "kemufs"
 * (-EBUSY), looks itself up with get_fs_type; a debugfs directory with a u32,
 * a bool and a DEFINE_DEBUGFS_ATTRIBUTE file; a kobject under kernel_kobj
 * with an attribute group.  leak=1 keeps "kemublk" registered at exit.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/debugfs.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>

static bool leak;
module_param(leak, bool, 0444);

static int kemufs_init_fs_context(struct fs_context *fc)
{
	return -EOPNOTSUPP;
}

static void kemufs_kill_sb(struct super_block *sb)
{
}

static struct file_system_type kemufs_type = {
	.owner = THIS_MODULE,
	.name = "kemufs",
	.init_fs_context = kemufs_init_fs_context,
	.kill_sb = kemufs_kill_sb,
};

static struct file_system_type kemublk_type = {
	.owner = THIS_MODULE,
	.name = "kemublk",
	.fs_flags = FS_REQUIRES_DEV,
	.init_fs_context = kemufs_init_fs_context,
	.kill_sb = kemufs_kill_sb,
};

static struct file_system_type kemufs_dup = {
	.owner = THIS_MODULE,
	.name = "kemufs",
	.init_fs_context = kemufs_init_fs_context,
	.kill_sb = kemufs_kill_sb,
};

static struct dentry *dbg_dir;
static u32 dbg_u32 = 0x1234;
static bool dbg_bool = true;
static u64 attr_value = 99;

static int attr_get(void *data, u64 *val)
{
	*val = *(u64 *)data;
	return 0;
}

static int attr_set(void *data, u64 val)
{
	if (val > 1000)
		return -ERANGE;
	*(u64 *)data = val;
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(attr_fops, attr_get, attr_set, "%llu\n");

static struct kobject *kobj;
static int knob = 5;

static ssize_t knob_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", knob);
}

static ssize_t knob_store(struct kobject *kobj, struct kobj_attribute *attr, const char *buf,
			  size_t count)
{
	int err = kstrtoint(buf, 0, &knob);

	return err ? err : count;
}

static ssize_t hidden_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "hidden\n");
}

static struct kobj_attribute knob_attr = __ATTR(knob, 0644, knob_show, knob_store);
static struct kobj_attribute hidden_attr = __ATTR(hidden, 0444, hidden_show, NULL);

static struct attribute *kemu_attrs[] = { &knob_attr.attr, &hidden_attr.attr, NULL };

static umode_t kemu_visible(struct kobject *kobj, struct attribute *attr, int n)
{
	return attr == &hidden_attr.attr ? 0 : attr->mode;
}

static const struct attribute_group kemu_group = {
	.attrs = kemu_attrs,
	.is_visible = kemu_visible,
};

static int __init kemu_fs_init(void)
{
	struct file_system_type *fs;
	int err;

	err = register_filesystem(&kemufs_type);
	if (err)
		return err;
	err = register_filesystem(&kemublk_type);
	if (err)
		goto out_fs;
	pr_info("kemu_fs: duplicate=%d\n", register_filesystem(&kemufs_dup));
	fs = get_fs_type("kemufs");
	pr_info("kemu_fs: get_fs_type=%s refs=%d\n", fs == &kemufs_type ? "self" : "other",
		module_refcount(THIS_MODULE));
	if (fs)
		module_put(fs->owner);
	pr_info("kemu_fs: proc=%d nosuch=%d\n", get_fs_type("proc") != NULL,
		get_fs_type("nosuchfs") != NULL);

	dbg_dir = debugfs_create_dir("kemu_fs", NULL);
	debugfs_create_u32("u32", 0644, dbg_dir, &dbg_u32);
	debugfs_create_bool("flag", 0644, dbg_dir, &dbg_bool);
	debugfs_create_file_unsafe("attr", 0644, dbg_dir, &attr_value, &attr_fops);
	pr_info("kemu_fs: dup dir is_err=%d\n", IS_ERR(debugfs_create_dir("kemu_fs", NULL)));

	kobj = kobject_create_and_add("kemu_fs", kernel_kobj);
	if (!kobj) {
		err = -ENOMEM;
		goto out_dbg;
	}
	err = sysfs_create_group(kobj, &kemu_group);
	if (err)
		goto out_kobj;
	return 0;
out_kobj:
	kobject_put(kobj);
out_dbg:
	debugfs_remove(dbg_dir);
	unregister_filesystem(&kemublk_type);
out_fs:
	unregister_filesystem(&kemufs_type);
	return err;
}

static void __exit kemu_fs_exit(void)
{
	int first;

	sysfs_remove_group(kobj, &kemu_group);
	kobject_put(kobj);
	debugfs_remove(dbg_dir);
	if (!leak)
		unregister_filesystem(&kemublk_type);
	first = unregister_filesystem(&kemufs_type);

	pr_info("kemu_fs: unregister=%d again=%d\n", first, unregister_filesystem(&kemufs_type));
}

module_init(kemu_fs_init);
module_exit(kemu_fs_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: filesystem types, debugfs, sysfs");
