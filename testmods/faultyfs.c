// SPDX-License-Identifier: GPL-2.0
/*
 * faultyfs.c - a block filesystem with a bug: mount_bdev() and a fill_super
 * that reads its magic ("FAULTYFS" in block 0) with sb_bread; the root
 * directory lists "crash" and "fine", and looking "crash" up dereferences
 * NULL. put_super says goodbye, so an unmount after the fault shows it ran.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/buffer_head.h>

static struct dentry *faultyfs_lookup(struct inode *dir, struct dentry *dentry,
				      unsigned int flags)
{
	if (!strcmp(dentry->d_name.name, "crash"))
		*(volatile int *)NULL = 1;		/* the bug under test */
	return d_splice_alias(NULL, dentry);
}

static int faultyfs_iterate(struct file *file, struct dir_context *ctx)
{
	if (!dir_emit_dots(file, ctx))
		return 0;
	if (ctx->pos == 2) {
		if (!dir_emit(ctx, "crash", 5, 2, DT_REG))
			return 0;
		ctx->pos++;
	}
	if (ctx->pos == 3) {
		if (!dir_emit(ctx, "fine", 4, 3, DT_REG))
			return 0;
		ctx->pos++;
	}
	return 0;
}

static const struct inode_operations faultyfs_dir_iops = {
	.lookup = faultyfs_lookup,
};

static const struct file_operations faultyfs_dir_fops = {
	.iterate_shared = faultyfs_iterate,
	.llseek = generic_file_llseek,
	.read = generic_read_dir,
};

static void faultyfs_put_super(struct super_block *sb)
{
	pr_info("faultyfs: put_super %s\n", sb->s_id);
}

static const struct super_operations faultyfs_sops = {
	.put_super = faultyfs_put_super,
};

static int faultyfs_fill_super(struct super_block *sb, void *data, int silent)
{
	struct buffer_head *bh;
	struct inode *root;

	if (!sb_set_blocksize(sb, 512))
		return -EINVAL;
	bh = sb_bread(sb, 0);
	if (!bh)
		return -EIO;
	if (memcmp(bh->b_data, "FAULTYFS", 8)) {
		brelse(bh);
		if (!silent)
			pr_err("faultyfs: no faultyfs on %s\n", sb->s_id);
		return -EINVAL;
	}
	brelse(bh);
	sb->s_magic = 0xfa017;
	sb->s_op = &faultyfs_sops;
	root = new_inode(sb);
	if (!root)
		return -ENOMEM;
	root->i_ino = 1;
	root->i_mode = S_IFDIR | 0755;
	root->i_op = &faultyfs_dir_iops;
	root->i_fop = &faultyfs_dir_fops;
	set_nlink(root, 2);
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

static struct dentry *faultyfs_mount(struct file_system_type *type, int flags,
				     const char *dev, void *data)
{
	return mount_bdev(type, flags, dev, data, faultyfs_fill_super);
}

static struct file_system_type faultyfs_type = {
	.owner = THIS_MODULE,
	.name = "faultyfs",
	.mount = faultyfs_mount,
	.kill_sb = kill_block_super,
	.fs_flags = FS_REQUIRES_DEV,
};

static int __init faultyfs_init(void)
{
	return register_filesystem(&faultyfs_type);
}

static void __exit faultyfs_exit(void)
{
	unregister_filesystem(&faultyfs_type);
}

module_init(faultyfs_init);
module_exit(faultyfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: a block filesystem whose lookup oopses");
