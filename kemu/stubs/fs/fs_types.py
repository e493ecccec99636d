"""fs/fs_types.c: the on-disk file-type codes (FT_*) to the dirent's DT_* types."""
from kemu import export

# fs_dtype_by_ftype[], indexed by FT_UNKNOWN, FT_REG_FILE, FT_DIR, FT_CHRDEV, FT_BLKDEV,
# FT_FIFO, FT_SOCK, FT_SYMLINK
_DTYPES = ("DT_UNKNOWN", "DT_REG", "DT_DIR", "DT_CHR", "DT_BLK", "DT_FIFO", "DT_SOCK", "DT_LNK")


@export("unsigned char fs_ftype_to_dtype(unsigned int filetype)")
def fs_ftype_to_dtype(k, filetype):
    c = k.target.const
    return c(_DTYPES[filetype]) if filetype < c("FT_MAX") else c("DT_UNKNOWN")


@export("int noop_fsync(struct file *file, loff_t start, loff_t end, int datasync)")
def noop_fsync(k, file, start, end, datasync):
    """fs/libfs.c: nothing to write back."""
    return 0
