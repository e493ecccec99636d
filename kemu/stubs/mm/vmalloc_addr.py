"""mm/vmalloc.c: is_vmalloc_addr() for objects of the vmalloc model."""
from kemu import export


@export("bool is_vmalloc_addr(const void *x)")
def is_vmalloc_addr(k, x):
    obj = k.heap.find_containing(x) if x else None
    return int(obj is not None and obj.kind == "vmalloc")
