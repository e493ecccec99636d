"""drivers/dax/super.c: DAX devices behind block devices.

kemu's block devices (image-backed loop devices) have no DAX support, as a
loop device has none: ``fs_dax_get_by_bdev`` finds no dax_device (NULL, so a
filesystem mounts without DAX) and ``fs_put_dax`` has nothing to put.
"""
from kemu import export


@export("struct dax_device *fs_dax_get_by_bdev(struct block_device *bdev, u64 *start_off, "
        "void *holder, const struct dax_holder_operations *ops)")
def fs_dax_get_by_bdev(k, bdev, start_off, holder, ops):
    return 0


@export("void fs_put_dax(struct dax_device *dax_dev, void *holder)")
def fs_put_dax(k, dax_dev, holder):
    pass
