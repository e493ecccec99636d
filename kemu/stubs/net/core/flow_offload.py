"""net/core/flow_offload.c (and neighbour.c, dev.c, dst_cache.c, dst.c): flow offload, tunnels.

Offload needs a network device whose driver registers an indirect block
callback (flow_indr_dev_register) or binds a flow block; kemu's machine has
no device, so the list of indirect devices is empty (``flow_indr_dev_exists``
is false) and nothing is ever offloaded. The offload paths (building a
flow_rule for a device, setting up or freeing a driver's block callback) are
reached only with such a device: a call is a not-modelled finding.
"""
import errno

from kemu import export
from kemu.abi.exports import unreachable

NO_DEVICE = "kemu has no network device to offload flows to"


@export("bool flow_indr_dev_exists(void)")
def flow_indr_dev_exists(k):
    return False                            # list_empty(&flow_block_indr_dev_list)


for _proto, _result in [
        ("struct flow_rule *flow_rule_alloc(unsigned int num_actions)", 0),
        ("void flow_block_cb_free(struct flow_block_cb *block_cb)", None),
        ("int flow_indr_dev_setup_offload(struct net_device *dev, struct Qdisc *sch, "
         "enum tc_setup_type type, void *data, struct flow_block_offload *bo, "
         "void (*cleanup)(struct flow_block_cb *block_cb))", -errno.EOPNOTSUPP),
        ("void neigh_destroy(struct neighbour *neigh)", None)]:
    unreachable(_proto, _result, NO_DEVICE)


for _proto, _result in [
        ("int dev_fill_forward_path(const struct net_device *dev, const u8 *daddr, "
         "struct net_device_path_stack *stack)", -errno.ENOENT),
        ("int dst_cache_init(struct dst_cache *dst_cache, gfp_t gfp)", -errno.ENOMEM),
        ("struct metadata_dst *metadata_dst_alloc(u8 optslen, enum metadata_type type, "
         "gfp_t flags)", 0),
        ("void metadata_dst_free(struct metadata_dst *md_dst)", None)]:
    unreachable(_proto, _result, NO_DEVICE)
