// SPDX-License-Identifier: GPL-2.0
/* kemu warn-site triggers: kernel/, lib/, fs/ (run under the real kernel and kemu) */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/seq_file.h>
#include <linux/proc_fs.h>
#include <linux/idr.h>
#include <linux/jump_label.h>
#include <linux/refcount.h>
#include <linux/scatterlist.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/padata.h>
#include <crypto/chacha.h>

#define MARK(s) pr_info("ws: " s "\n")

static struct static_key_false wskey = STATIC_KEY_FALSE_INIT;
static struct cdev wscdev;
static DEFINE_IDR(wsidr);
static DEFINE_IDA(wsida);
static const struct seq_operations ws_seq_ops;
static const struct proc_ops ws_proc_ops;

static ssize_t ws_show(struct kobject *kobj, struct kobj_attribute *a, char *buf)
{
	return 0;
}
static struct kobj_attribute ws_attr = {
	.attr = { .name = "wsattr", .mode = 0666 },
	.show = ws_show,
};
static struct attribute *ws_attrs[] = { &ws_attr.attr, NULL };
static const struct attribute_group ws_group = { .name = "wsgrp", .attrs = ws_attrs };
static const struct attribute_group ws_nogroup = { .name = "wsnone", .attrs = ws_attrs };

static irqreturn_t ws_irq(int irq, void *dev)
{
	return IRQ_NONE;
}

static int __init ws_init(void)
{
	struct kobject *kobj;
	struct inode *inode;
	struct super_block *sb;
	struct file *file;
	struct kobject *uk;
	char *page;
	refcount_t r = REFCOUNT_INIT(0);
	struct scatterlist sg;
	struct sg_mapping_iter miter;
	u32 state[16] = { 0 };
	u8 stream[CHACHA_BLOCK_SIZE];
	struct timespec64 ts = { 1, 123456789 };
	struct padata_instance *pinst;
	void *buf;
	int ret;

	MARK("static_branch_dec underflow");
	static_branch_dec(&wskey);
	atomic_set(&wskey.key.enabled, 0);
	MARK("static_key_enable at 2");
	atomic_set(&wskey.key.enabled, 2);
	static_branch_enable(&wskey);
	MARK("static_key_disable at 2");
	static_branch_disable(&wskey);
	MARK("static_key_slow_inc at INT_MAX");
	atomic_set(&wskey.key.enabled, INT_MAX);
	static_branch_inc(&wskey);
	atomic_set(&wskey.key.enabled, 0);

	MARK("cdev_add dev 0");
	cdev_init(&wscdev, NULL);
	ret = cdev_add(&wscdev, 0, 1);
	pr_info("ws: cdev_add %d\n", ret);

	kobj = kobject_create_and_add("wsobj", kernel_kobj);
	MARK("sysfs_create_file NULL attr");
	ret = sysfs_create_file(kobj, NULL);
	pr_info("ws: ret %d\n", ret);
	MARK("sysfs_create_bin_file NULL attr");
	ret = sysfs_create_bin_file(kobj, NULL);
	pr_info("ws: ret %d\n", ret);
	MARK("sysfs_create_group NULL kobj");
	ret = sysfs_create_group(NULL, &ws_group);
	pr_info("ws: ret %d\n", ret);
	MARK("sysfs_create_group mode 0666");
	ret = sysfs_create_group(kobj, &ws_group);
	pr_info("ws: ret %d\n", ret);
	sysfs_remove_group(kobj, &ws_group);
	MARK("sysfs_remove_group missing");
	sysfs_remove_group(kobj, &ws_nogroup);
	page = (char *)__get_free_page(GFP_KERNEL);
	MARK("sysfs_emit unaligned");
	ret = sysfs_emit(page + 1, "x");
	pr_info("ws: ret %d\n", ret);
	MARK("sysfs_emit_at past page");
	ret = sysfs_emit_at(page, PAGE_SIZE, "x");
	pr_info("ws: ret %d\n", ret);
	free_page((unsigned long)page);
	kobject_put(kobj);

	MARK("seq_open with private_data");
	file = kzalloc(sizeof(*file), GFP_KERNEL);
	file->private_data = file;
	ret = seq_open(file, &ws_seq_ops);
	pr_info("ws: ret %d\n", ret);
	seq_release(NULL, file);
	kfree(file);

	inode = kzalloc(sizeof(*inode), GFP_KERNEL);
	sb = kzalloc(sizeof(*sb), GFP_KERNEL);
	MARK("drop_nlink at 0");
	drop_nlink(inode);
	MARK("inc_nlink at 0");
	inode->i_sb = sb;
	set_nlink(inode, 0);
	inc_nlink(inode);
	MARK("ihold at 0");
	ihold(inode);
	MARK("current_time without sb");
	inode->i_sb = NULL;
	ts = current_time(inode);
	kfree(sb);
	kfree(inode);

	MARK("proc_create S_IFDIR");
	if (proc_create("wsproc", S_IFDIR | 0444, NULL, &ws_proc_ops))
		pr_info("ws: created\n");

	MARK("idr_alloc start -1");
	ret = idr_alloc(&wsidr, &wsidr, -1, 0, GFP_KERNEL);
	pr_info("ws: ret %d\n", ret);
	idr_destroy(&wsidr);
	MARK("ida_free unallocated");
	ida_free(&wsida, 7);
	ida_destroy(&wsida);

	uk = kzalloc(sizeof(*uk), GFP_KERNEL);
	uk->name = "wsuninit";
	kref_init(&uk->kref);
	MARK("kobject_get uninitialized");
	kobject_get(uk);
	MARK("kobject_put uninitialized");
	kobject_put(uk);
	kfree(uk);
	uk = kzalloc(sizeof(*uk), GFP_KERNEL);
	kobject_init(uk, &(struct kobj_type){});
	refcount_set(&uk->kref.refcount, 0);
	MARK("kobject_put at 0");
	kobject_put(uk);
	kfree(uk);

	MARK("refcount_dec_not_one at 0");
	ret = refcount_dec_not_one(&r);
	pr_info("ws: ret %d\n", ret);

	buf = kzalloc(64, GFP_KERNEL);
	sg_init_one(&sg, buf, 64);
	MARK("sg_miter_start no direction");
	sg_miter_start(&miter, &sg, 1, 0);
	sg_miter_stop(&miter);
	MARK("sg_miter_stop consumed > length");
	sg_miter_start(&miter, &sg, 1, SG_MITER_FROM_SG);
	if (sg_miter_next(&miter))
		miter.consumed = miter.length + 1;
	sg_miter_stop(&miter);
	kfree(buf);

	MARK("chacha 8 rounds");
	chacha_block_generic(state, stream, 8);

	MARK("request_irq then enable_irq");
	ret = request_irq(5, ws_irq, IRQF_SHARED, "ws", &wscdev);
	pr_info("ws: ret %d\n", ret);
	if (!ret) {
		enable_irq(5);
		free_irq(5, &wscdev);
	}
	MARK("free_irq again");
	free_irq(5, &wscdev);

	MARK("ioremap RAM");
	buf = ioremap(0x100000, 4096);
	pr_info("ws: ioremap %px\n", buf);
	MARK("iounmap bad address");
	iounmap((void __iomem *)(VMALLOC_START + (16UL << 40)));

	MARK("padata_free with a shell");
	pinst = padata_alloc("wspadata");
	if (pinst && padata_alloc_shell(pinst))
		padata_free(pinst);
	MARK("done");
	return 0;
}

static void __exit ws_exit(void)
{
}

module_init(ws_init);
module_exit(ws_exit);
MODULE_LICENSE("GPL");
