"""net/core/flow_offload.c (and neighbour.c's neigh_destroy): hardware flow offload.

Offload needs a network device whose driver registers an indirect block
callback (flow_indr_dev_register) or binds a flow block; kemu's machine has
no device, so the list of indirect devices is empty (``flow_indr_dev_exists``
is false) and nothing is ever offloaded. The offload paths (building a
flow_rule for a device, setting up or freeing a driver's block callback) are
reached only with such a device: a call is a not-modelled finding.
"""
import errno

from kemu import export
from kemu.exports import unreachable

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
