"""fs/anon_inodes.c: files without a path, handed to userspace by ioctls. kemu's
file model has no fd table to install them in, so only an ioctl reaches these;
they fail with -ENOMEM and a finding."""
from kemu.abi.exports import unreachable

WHY = "kemu has no file descriptor table for anonymous inodes"
unreachable("struct file *anon_inode_getfile(const char *name, "
            "const struct file_operations *fops, void *priv, int flags)", -12 & (2**64 - 1), WHY)
unreachable("int anon_inode_getfd(const char *name, const struct file_operations *fops, "
            "void *priv, int flags)", -12, WHY)
