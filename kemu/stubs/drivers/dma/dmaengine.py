"""drivers/dma/dmaengine.c: the client side of the DMA engine on a machine with
no DMA device (kemu has none): references are counted, no channel is ever
found, so async_tx clients do every operation synchronously in software and
no transaction descriptor ever exists.
"""
from kemu import export

from ...lib.kemu_warn import bug


class DmaEngine:
    """dmaengine_ref_count (dma_device_list is empty)."""

    def __init__(self, k):
        self.ref_count = 0


@export("void dmaengine_get(void)")
def dmaengine_get(k):
    """Take a client reference; there are no channels to grab or rebalance."""
    k.model(DmaEngine).ref_count += 1


@export("void dmaengine_put(void)")
def dmaengine_put(k):
    state = k.model(DmaEngine)
    state.ref_count -= 1
    if state.ref_count < 0:                             # BUG_ON(dmaengine_ref_count < 0)
        bug(k, "drivers/dma/dmaengine.c:877")


@export("struct dma_chan *dma_find_channel(enum dma_transaction_type tx_type)")
def dma_find_channel(k, tx_type):
    """this_cpu_read(channel_table[tx_type]->chan): NULL without DMA devices."""
    return 0


@export("enum dma_status dma_wait_for_async_tx(struct dma_async_tx_descriptor *tx)")
def dma_wait_for_async_tx(k, tx):
    """DMA_COMPLETE for no descriptor; a descriptor cannot exist without a channel."""
    if not tx:
        return k.target.const("DMA_COMPLETE")
    k.finding("not-modelled", "dma_wait_for_async_tx() of a descriptor, but kemu has no DMA "
                              "channel that could have made it", k.current_module())
    return k.target.const("DMA_ERROR")


@export("struct dmaengine_unmap_data *dmaengine_get_unmap_data(struct device *dev, int nr, "
        "gfp_t flags)")
def dmaengine_get_unmap_data(k, dev, nr, flags):
    """Only drivers of a channel's device ask for unmap data; none exists in kemu."""
    k.finding("not-modelled", "dmaengine_get_unmap_data() was called, but kemu has no DMA "
                              "device", k.current_module())
    return 0                                    # as when the mempool allocation fails


@export("void dmaengine_unmap_put(struct dmaengine_unmap_data *unmap)")
def dmaengine_unmap_put(k, unmap):
    """kref_put() of unmap data; NULL (all kemu can have handed out) is a no-op."""
    if unmap:
        k.finding("not-modelled", "dmaengine_unmap_put() of unmap data kemu never made",
                  k.current_module())
