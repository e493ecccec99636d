"""net/netfilter/core.c: ``nf_ctnetlink_has_listener`` (no ctnetlink listener in kemu)."""
from kemu import data


@data("u8 nf_ctnetlink_has_listener")
def nf_ctnetlink_has_listener(k, addr):
    k.machine.write_u8(addr, 0)
