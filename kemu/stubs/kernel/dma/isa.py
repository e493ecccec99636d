"""kernel/dma.c: the ISA DMA channel allocator (request_dma/free_dma, /proc/dma).

x86's eight ISA DMA channels (MAX_DMA_CHANNELS, arch/x86/include/asm/dma.h),
channel 4 held by "cascade" from boot as in the kernel. A channel is only
booked: kemu's machine has no 8237 controller to program, and the
``dma_spin_lock`` modules take around their register writes is an ordinary
unlocked spinlock. A channel a module still holds once its exit has run is
reported. /proc/dma lists the busy channels in the kernel's format.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_WARNING

from kemu.abi.toolkit import cstr

MAX_DMA_CHANNELS = 8          # arch/x86/include/asm/dma.h (not a header-visible constant)


class IsaDma:
    """Per-kernel dma_chan_busy[]: channel -> device_id string."""

    def __init__(self, k):
        self.k = k
        self.busy: dict[int, str] = {4: "cascade"}


@data("struct spinlock dma_spin_lock")
def dma_spin_lock(k, addr):
    pass                                     # DEFINE_SPINLOCK: unlocked


@export("int request_dma(unsigned int dmanr, const char *device_id)")
def request_dma(k, dmanr, device_id):
    if dmanr >= MAX_DMA_CHANNELS:
        return -errno.EINVAL
    chans = k.model(IsaDma)
    if dmanr in chans.busy:
        return -errno.EBUSY
    name = cstr(k, device_id, 256) if device_id else "(null)"
    chans.busy[dmanr] = name
    k.register("isa dma", dmanr, k.current_module(), f"ISA DMA channel {dmanr} ({name})")
    return 0


@export("void free_dma(unsigned int dmanr)")
def free_dma(k, dmanr):
    if dmanr >= MAX_DMA_CHANNELS:
        k.log.emit(KERN_WARNING, f"Trying to free DMA{dmanr}")
        return
    if k.model(IsaDma).busy.pop(dmanr, None) is None:
        k.log.emit(KERN_WARNING, f"Trying to free free DMA{dmanr}")
        return
    k.unregister("isa dma", dmanr)


def proc_dma(k) -> str:
    """/proc/dma (proc_dma_show)."""
    return "".join(f"{i:2d}: {name}\n" for i, name in sorted(k.model(IsaDma).busy.items()))
