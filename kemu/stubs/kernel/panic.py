"""kernel/panic.c and the hardening checks that end in a panic or a warning."""
from kemu import export
from kemu.errors import KernelBug
from kemu.kernel.log import KERN_EMERG, KERN_WARNING
from kemu.kernel.taint import TAINT_FLAGS

from .printk import vformat, vprintk_emit


@export("void __stack_chk_fail(void)")
def __stack_chk_fail(k):
    caller = k.machine.read_u64(k.machine.reg("rsp"))
    hit = k.symbolize(caller - 1)              # %pB: the symbol of ret-1, offset of ret
    where = (f"{hit[0]}+{hit[1] + 1:#x}/{hit[2]:#x}" + (f" [{hit[3]}]" if hit[3] else "")
             if hit else f"{caller:#x}")
    msg = f"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: {where}"
    k.log.emit(KERN_EMERG, msg)
    raise KernelBug(msg)


@export("void fortify_panic(const char *name)")
def fortify_panic(k, name):
    func = k.machine.read_cstr(name, 128).decode("latin-1")
    k.log.emit(KERN_EMERG, f"detected buffer overflow in {func}")
    raise KernelBug(f"kernel BUG: detected buffer overflow in {func}")


# include/linux/fortify-string.h EACH_FORTIFY_FUNC (6.12)
FORTIFY_FUNCS = ("strncpy", "strnlen", "strlen", "strscpy", "strlcat", "strcat", "strncat",
                 "memset", "memcpy", "memmove", "memscan", "memcmp", "memchr", "memchr_inv",
                 "kmemdup", "strcpy", "UNKNOWN")


@export("void __fortify_panic(const u8 reason, const size_t avail, const size_t size)",
        since="6.9")
def __fortify_panic(k, reason, avail, size):
    """lib/string_helpers.c: __fortify_report()'s WARN, then BUG() (partial: the
    WARN's register dump and backtrace are not printed)."""
    name = FORTIFY_FUNCS[min(reason >> 1, len(FORTIFY_FUNCS) - 1)]
    k.log.emit(KERN_WARNING, "------------[ cut here ]------------")
    msg = (f"{name}: detected buffer overflow: {size} byte "
           f"{'write' if reason & 1 else 'read'} of buffer size {avail}")
    k.log.emit(KERN_WARNING, msg)
    raise KernelBug(f"kernel BUG: {msg}")


@export("void __warn_printk(const char *fmt, ...)")
def __warn_printk(k, fmt, va):
    """WARN(cond, fmt, ...): the cut-here line, then the message; __warn() follows."""
    k.log.emit(KERN_WARNING, "------------[ cut here ]------------")
    vprintk_emit(k, vformat(k, fmt, va))


@export("void __check_object_size(const void *ptr, unsigned long n, bool to_user)")
def __check_object_size(k, ptr, n, to_user):
    obj = k.heap.find_containing(ptr)
    if obj is not None and ptr + n > obj.addr + obj.capacity:
        off = ptr - obj.addr
        direction = "exposure" if to_user else "overwrite"
        msg = (f"usercopy: Kernel memory {direction} attempt detected to SLUB object "
               f"'kmalloc-{obj.capacity}' (offset {off}, size {n})!")
        k.log.emit(KERN_EMERG, msg)
        raise KernelBug("kernel BUG at mm/usercopy.c:99!")


@export("void add_taint(unsigned flag, enum lockdep_ok lockdep_ok)")
def add_taint(k, flag, lockdep_ok):
    if flag < len(TAINT_FLAGS):
        k.add_taint(TAINT_FLAGS[flag].c_true)


class KernelPanic(KernelBug):
    """panic() was called: the kernel stops; kemu ends the running entry."""


@export("void panic(const char *fmt, ...)")
def panic(k, fmt, va):
    text = vformat(k, fmt, va)[:1023]               # vscnprintf(buf, 1024, ...)
    if text.endswith(b"\n"):
        text = text[:-1]
    msg = "Kernel panic - not syncing: " + text.decode("utf-8", "surrogateescape")
    k.log.emit(KERN_EMERG, msg)
    raise KernelPanic(msg)
