"""block/: block-layer helpers modules call."""
