// SPDX-License-Identifier: GPL-2.0
/*
 * kemu_proc.c - /proc and seq_file: a directory with a seq_operations file
 * (private state, several pages of output), a single_open file, a proc_ops
 * file with read and write, a /proc/net single file, and a file using the
 * other seq_* output helpers.  leak=1 leaves /proc/kemu_leak behind at exit.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <linux/uaccess.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 17, 0)
#define pde_data(inode) PDE_DATA(inode)		/* renamed in 5.17 */
#endif

static int items = 300;
module_param(items, int, 0444);
static bool leak;
module_param(leak, bool, 0444);

static struct proc_dir_entry *dir;
static int value = 42;

struct list_state {
	int shown;
	int starts;
};

static void *list_start(struct seq_file *m, loff_t *pos)
{
	struct list_state *st = m->private;

	st->starts++;
	if (*pos >= items)
		return NULL;
	return (void *)(unsigned long)(*pos + 1);
}

static void *list_next(struct seq_file *m, void *v, loff_t *pos)
{
	(*pos)++;
	if (*pos >= items)
		return NULL;
	return (void *)(unsigned long)(*pos + 1);
}

static void list_stop(struct seq_file *m, void *v)
{
}

static int list_show(struct seq_file *m, void *v)
{
	struct list_state *st = m->private;
	unsigned long n = (unsigned long)v;

	st->shown++;
	seq_printf(m, "item %3lu: %s\n", n, (n % 2) ? "odd" : "even");
	return 0;
}

static const struct seq_operations list_ops = {
	.start = list_start,
	.next = list_next,
	.stop = list_stop,
	.show = list_show,
};

static int single_show(struct seq_file *m, void *v)
{
	seq_printf(m, "single: %s value=%d\n", (char *)m->private, value);
	return 0;
}

static ssize_t rw_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	char tmp[32];
	int len = scnprintf(tmp, sizeof(tmp), "%d\n", *(int *)pde_data(file_inode(file)));

	return simple_read_from_buffer(buf, count, ppos, tmp, len);
}

static ssize_t rw_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	char tmp[32];
	int v, err;

	if (count >= sizeof(tmp))
		return -EINVAL;
	if (copy_from_user(tmp, buf, count))
		return -EFAULT;
	tmp[count] = 0;
	err = kstrtoint(tmp, 0, &v);
	if (err)
		return err;
	*(int *)pde_data(file_inode(file)) = v;
	pr_info("kemu_proc: value set to %d\n", v);
	return count;
}

static const struct proc_ops rw_ops = {
	.proc_read = rw_read,
	.proc_write = rw_write,
	.proc_lseek = default_llseek,
};

static int net_show(struct seq_file *m, void *v)
{
	struct net *net = m->private;

	seq_printf(m, "netns inum=%u same=%d\n", net->ns.inum, net == &init_net);
	return 0;
}

/* the classic pattern: proc_ops with single_open/seq_read/seq_lseek/single_release */
static int classic_open(struct inode *inode, struct file *file)
{
	return single_open(file, single_show, "classic");
}

static const struct proc_ops classic_ops = {
	.proc_open = classic_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

static int misc_show(struct seq_file *m, void *v)
{
	static const unsigned char blob[20] = "kemu\x01\x02\x03\xff hexdump!!";

	seq_puts(m, "puts|");
	seq_putc(m, 'c');
	seq_write(m, "|write|", 7);
	seq_put_decimal_ull(m, "ull=", 18446744073709551615ULL);
	seq_put_decimal_ll(m, " ll=", -1234567);
	seq_putc(m, '\n');
	seq_escape(m, "tab\there space", " \t");
	seq_putc(m, '\n');
	seq_hex_dump(m, "hd: ", DUMP_PREFIX_OFFSET, 16, 1, blob, sizeof(blob), true);
	seq_printf(m, "overflowed=%d\n", seq_has_overflowed(m));
	return 0;
}

static int __init kemu_proc_init(void)
{
	dir = proc_mkdir("kemu_proc", NULL);
	if (!dir)
		return -ENOMEM;
	if (!proc_create_seq_private("list", 0444, dir, &list_ops,
				     sizeof(struct list_state), NULL))
		goto fail;
	if (!proc_create_single_data("single", 0444, dir, single_show, "hello"))
		goto fail;
	if (!proc_create_data("rw", 0644, dir, &rw_ops, &value))
		goto fail;
	if (!proc_create_single("misc", 0444, dir, misc_show))
		goto fail;
	if (!proc_create("classic", 0444, dir, &classic_ops))
		goto fail;
	if (!proc_create_net_single("kemu_net", 0444, init_net.proc_net, net_show, NULL))
		goto fail;
	if (leak && !proc_create_single("kemu_leak", 0444, NULL, single_show))
		goto fail;
	/* a second entry of the same name is refused (with a warning) */
	pr_info("kemu_proc: duplicate=%d\n",
		proc_create_single("single", 0444, dir, single_show) != NULL);
	pr_info("kemu_proc: ready\n");
	return 0;
fail:
	remove_proc_subtree("kemu_proc", NULL);
	remove_proc_entry("kemu_net", init_net.proc_net);
	return -ENOMEM;
}

static void __exit kemu_proc_exit(void)
{
	remove_proc_entry("kemu_net", init_net.proc_net);
	pr_info("kemu_proc: subtree=%d\n", remove_proc_subtree("kemu_proc", NULL));
	pr_info("kemu_proc: again=%d\n", remove_proc_subtree("kemu_proc", NULL));
}

module_init(kemu_proc_init);
module_exit(kemu_proc_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: /proc entries and seq_file");
