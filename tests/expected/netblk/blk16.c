#include <linux/module.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>

static int major;
static struct blk_mq_tag_set set;
static struct gendisk *disk;
static int inits, exits;

static blk_status_t blk16_queue_rq(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd)
{
	blk_mq_start_request(bd->rq);
	blk_mq_end_request(bd->rq, BLK_STS_OK);
	return BLK_STS_OK;
}

static int blk16_init_request(struct blk_mq_tag_set *s, struct request *rq, unsigned int hctx_idx,
			      unsigned int numa_node)
{
	inits++;
	return 0;
}

static void blk16_exit_request(struct blk_mq_tag_set *s, struct request *rq, unsigned int hctx_idx)
{
	exits++;
}

static int blk16_init_hctx(struct blk_mq_hw_ctx *hctx, void *data, unsigned int idx)
{
	pr_info("blk16: init_hctx %u data %s\n", idx, data == &set ? "set" : "other");
	hctx->driver_data = data;
	return 0;
}

static const struct blk_mq_ops blk16_mq_ops = {
	.queue_rq = blk16_queue_rq,
	.init_request = blk16_init_request,
	.exit_request = blk16_exit_request,
	.init_hctx = blk16_init_hctx,
};

static const struct block_device_operations blk16_fops = {
	.owner = THIS_MODULE,
};

static void limits(const char *when)
{
	struct queue_limits *l = &disk->queue->limits;

	pr_info("blk16: %s: lbs %u pbs %u io_min %u max_hw_sectors %u max_sectors %u segs %u seg_size %u dma %u\n",
		when, l->logical_block_size, l->physical_block_size, l->io_min, l->max_hw_sectors,
		l->max_sectors, l->max_segments, l->max_segment_size, l->dma_alignment);
}

static int __init blk16_init(void)
{
	int err;

	major = register_blkdev(0, "blk16");
	pr_info("blk16: major %d\n", major);
	pr_info("blk16: same major again %d\n", register_blkdev(major, "blk16b"));
	pr_info("blk16: too big %d\n", register_blkdev(600, "blk16c"));

	pr_info("blk16: empty set %d\n", blk_mq_alloc_tag_set(&set));
	set.ops = &blk16_mq_ops;
	set.nr_hw_queues = 1;
	set.queue_depth = 16;
	set.numa_node = NUMA_NO_NODE;
	set.flags = BLK_MQ_F_SHOULD_MERGE;
	set.driver_data = &set;
	err = blk_mq_alloc_tag_set(&set);
	pr_info("blk16: tag set %d, %d requests initialised, nr_maps %u\n", err, inits, set.nr_maps);
	if (err)
		goto out_blkdev;

	disk = blk_mq_alloc_disk(&set, &set);
	if (IS_ERR(disk)) {
		err = PTR_ERR(disk);
		goto out_set;
	}
	pr_info("blk16: queuedata %s timeout %u nr_requests %lu\n",
		disk->queue->queuedata == &set ? "set" : "other", disk->queue->rq_timeout / HZ,
		disk->queue->nr_requests);
	limits("default");
	blk_queue_logical_block_size(disk->queue, 4096);
	blk_queue_max_hw_sectors(disk->queue, 1);
	blk_queue_max_segments(disk->queue, 0);
	blk_queue_max_segment_size(disk->queue, 512);
	limits("set");
	disk->major = major;
	disk->first_minor = 0;
	disk->minors = 1;
	disk->fops = &blk16_fops;
	disk->flags |= GENHD_FL_NO_PART;
	snprintf(disk->disk_name, DISK_NAME_LEN, "blk16");
	set_capacity(disk, 2048);
	err = add_disk(disk);
	pr_info("blk16: add_disk %d capacity %llu\n", err, (unsigned long long)get_capacity(disk));
	if (err)
		goto out_disk;
	return 0;

out_disk:
	put_disk(disk);
out_set:
	blk_mq_free_tag_set(&set);
out_blkdev:
	unregister_blkdev(major, "blk16");
	return err;
}

static void __exit blk16_exit(void)
{
	del_gendisk(disk);
	put_disk(disk);
	blk_mq_free_tag_set(&set);
	unregister_blkdev(major, "blk16");
	pr_info("blk16: gone, %d requests exited\n", exits);
}

module_init(blk16_init);
module_exit(blk16_exit);
MODULE_LICENSE("GPL");
