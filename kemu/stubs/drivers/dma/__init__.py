"""drivers/dma/: the DMA engine core."""
