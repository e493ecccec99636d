"""fs/: filesystem-side helpers modules call."""
