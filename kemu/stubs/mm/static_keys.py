"""Static keys of mm/ that inline helpers in modules test (all disabled at boot:
no HugeTLB vmemmap optimisation, no ZONE_DEVICE pages)."""
from kemu import data


@data("struct static_key_false hugetlb_optimize_vmemmap_key")
def hugetlb_optimize_vmemmap_key(k, addr):
    pass                       # zeroed: enabled == 0


@data("struct static_key_false devmap_managed_key")
def devmap_managed_key(k, addr):
    pass
