"""mm/util.c: vmemdup_user() (kvmalloc'ed copy of user memory)."""
import errno

from kemu import export

from kemu.abi.toolkit import err_ptr
from ..lib.usercopy import access_ok, copy_in
from .slab import kfree_addr, kmalloc


@export("void *vmemdup_user(const void __user *src, size_t len)", fails="ERR_PTR(-ENOMEM)")
def vmemdup_user(k, src, length):
    """kvmalloc(len, GFP_USER) and copy_from_user(); ERR_PTR(-EFAULT) on a fault."""
    p = kmalloc(k, length, k.target.const("GFP_USER"))
    if not p:
        return err_ptr(-errno.ENOMEM)
    data = copy_in(k, src, length) if access_ok(src, length) else b""
    if len(data) != length:
        kfree_addr(k, p, "kvfree")
        return err_ptr(-errno.EFAULT)
    if data:
        k.machine.write(p, data)
    return p


@export("char *memdup_user_nul(const void *src, size_t len)", fails="ERR_PTR(-ENOMEM)")
def memdup_user_nul(k, src, length):
    """A NUL-terminated kmalloc'd copy of user memory, or ERR_PTR(-EFAULT)."""
    if not access_ok(src, length):
        return err_ptr(-errno.EFAULT)
    data = copy_in(k, src, length)
    if len(data) < length:
        return err_ptr(-errno.EFAULT)
    addr = kmalloc(k, length + 1, 0)
    k.machine.write(addr, data + b"\0")
    return addr
