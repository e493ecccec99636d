"""drivers/base/property.c: unified device properties (firmware nodes).

kemu's devices have no firmware node: no device tree, no ACPI companion,
no software node (``platform_device_register_full``'s properties are not
modelled). The kernel's answers for a device without one are given:
reading a property is -EINVAL, ``device_property_present`` is false, match
data is NULL, there are no child nodes. A device that does carry a fwnode
(set by the module itself) is reported as not modelled.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, wr
from kemu.abi.exports import not_modelled

members("struct device", "of_node", "fwnode")
members("struct fwnode_endpoint", "port", "id", "local_fwnode")

_WHY = "kemu's devices have no firmware node properties"


def _fwnode(k, dev):
    return rd(k, dev, "device.fwnode") if dev else 0


def _check(k, dev, name):
    """True when ``dev`` has a firmware node kemu cannot answer for."""
    if _fwnode(k, dev):
        not_modelled(k, name, _WHY)
        return True
    return False


def _einval_reader(name, proto):
    def fn(k, dev, *args):
        _check(k, dev, name)
        return -errno.EINVAL
    fn.__name__ = name
    fn.__doc__ = f"{name}(): -EINVAL, the device has no firmware node."
    export(proto)(fn)


for _name, _proto in (
        ("device_property_read_u8_array", "int device_property_read_u8_array(struct device *dev, "
         "const char *propname, u8 *val, size_t nval)"),
        ("device_property_read_u16_array", "int device_property_read_u16_array(struct device *dev, "
         "const char *propname, u16 *val, size_t nval)"),
        ("device_property_read_u32_array", "int device_property_read_u32_array(struct device *dev, "
         "const char *propname, u32 *val, size_t nval)"),
        ("device_property_read_u64_array", "int device_property_read_u64_array(struct device *dev, "
         "const char *propname, u64 *val, size_t nval)"),
        ("device_property_read_string", "int device_property_read_string(struct device *dev, "
         "const char *propname, const char **val)"),
        ("device_property_read_string_array", "int device_property_read_string_array("
         "struct device *dev, const char *propname, const char **val, size_t nval)"),
        ("device_property_match_string", "int device_property_match_string(struct device *dev, "
         "const char *propname, const char *string)"),
):
    _einval_reader(_name, _proto)


def _fw_einval(name, proto, since=None):
    def fn(k, fwnode, *args):
        if fwnode:
            not_modelled(k, name, _WHY)
        return -errno.EINVAL
    fn.__name__ = name
    export(proto, since=since)(fn)


for _name, _proto in (
        ("fwnode_property_read_string", "int fwnode_property_read_string("
         "const struct fwnode_handle *fwnode, const char *propname, const char **val)"),
        ("fwnode_property_read_u32_array", "int fwnode_property_read_u32_array("
         "const struct fwnode_handle *fwnode, const char *propname, u32 *val, size_t nval)"),
        ("fwnode_property_read_string_array", "int fwnode_property_read_string_array("
         "const struct fwnode_handle *fwnode, const char *propname, const char **val, "
         "size_t nval)"),
):
    _fw_einval(_name, _proto)

# not in 6.1, in 6.12: fwnode_property_read_string(), then match_string()
_fw_einval("fwnode_property_match_property_string", "int fwnode_property_match_property_string("
           "const struct fwnode_handle *fwnode, const char *propname, "
           "const char * const *array, size_t n)", since="6.12")


@export("const struct fwnode_handle *__dev_fwnode_const(const struct device *dev)")
def __dev_fwnode_const(k, dev):
    """dev_fwnode() of a const device (a _Generic macro in 6.1.y and 6.12), as __dev_fwnode()."""
    return _fwnode(k, dev)


@export("bool device_property_present(struct device *dev, const char *propname)")
def device_property_present(k, dev, propname):
    _check(k, dev, "device_property_present")
    return False


@export("bool fwnode_property_present(const struct fwnode_handle *fwnode, const char *propname)")
def fwnode_property_present(k, fwnode, propname):
    if fwnode:
        not_modelled(k, "fwnode_property_present", _WHY)
    return False


@export("const void *device_get_match_data(const struct device *dev)")
def device_get_match_data(k, dev):
    _check(k, dev, "device_get_match_data")
    return 0


@export("struct fwnode_handle *device_get_next_child_node(const struct device *dev, "
        "struct fwnode_handle *child)")
def device_get_next_child_node(k, dev, child):
    _check(k, dev, "device_get_next_child_node")
    return 0


@export("struct fwnode_handle *device_get_named_child_node(const struct device *dev, "
        "const char *childname)")
def device_get_named_child_node(k, dev, childname):
    _check(k, dev, "device_get_named_child_node")
    return 0


@export("unsigned int device_get_child_node_count(const struct device *dev)")
def device_get_child_node_count(k, dev):
    _check(k, dev, "device_get_child_node_count")
    return 0


@export("struct fwnode_handle *__dev_fwnode(struct device *dev)")
def __dev_fwnode(k, dev):
    return _fwnode(k, dev)


@export("void fwnode_handle_put(struct fwnode_handle *fwnode)")
def fwnode_handle_put(k, fwnode):
    if fwnode:
        not_modelled(k, "fwnode_handle_put", _WHY)


@export("void device_set_node(struct device *dev, struct fwnode_handle *fwnode)")
def device_set_node(k, dev, fwnode):
    wr(k, dev, "device.fwnode", fwnode)
    wr(k, dev, "device.of_node", 0)          # to_of_node(): kemu has no OF nodes


@export("bool is_acpi_device_node(const struct fwnode_handle *fwnode)")
def is_acpi_device_node(k, fwnode):
    if fwnode:
        not_modelled(k, "is_acpi_device_node", _WHY)
    return False


@export("struct fwnode_handle *fwnode_get_parent(const struct fwnode_handle *fwnode)")
def fwnode_get_parent(k, fwnode):
    """fwnode_call_ptr_op(fwnode, get_parent): NULL for no node."""
    if fwnode:
        not_modelled(k, "fwnode_get_parent", _WHY)
    return 0


@export("struct fwnode_handle *fwnode_get_next_parent(struct fwnode_handle *fwnode)")
def fwnode_get_next_parent(k, fwnode):
    parent = fwnode_get_parent(k, fwnode)
    fwnode_handle_put(k, fwnode)
    return parent


@export("int fwnode_property_match_string(const struct fwnode_handle *fwnode, "
        "const char *propname, const char *string)")
def fwnode_property_match_string(k, fwnode, propname, string):
    """fwnode_property_read_string_array(fwnode, propname, NULL, 0)'s -EINVAL."""
    if fwnode:
        not_modelled(k, "fwnode_property_match_string", _WHY)
    return -errno.EINVAL


@export("int fwnode_property_get_reference_args(const struct fwnode_handle *fwnode, "
        "const char *prop, const char *nargs_prop, unsigned int nargs, unsigned int index, "
        "struct fwnode_reference_args *args)")
def fwnode_property_get_reference_args(k, fwnode, prop, nargs_prop, nargs, index, args):
    if fwnode:
        not_modelled(k, "fwnode_property_get_reference_args", _WHY)
    return -errno.ENOENT


@export("int fwnode_graph_parse_endpoint(const struct fwnode_handle *fwnode, "
        "struct fwnode_endpoint *endpoint)")
def fwnode_graph_parse_endpoint(k, fwnode, endpoint):
    """The endpoint is zeroed; fwnode_call_int_op() on no node is -EINVAL."""
    k.machine.write(endpoint, bytes(k.target.sizeof("fwnode_endpoint")))
    if fwnode:
        not_modelled(k, "fwnode_graph_parse_endpoint", _WHY)
    return -errno.EINVAL


@export("struct fwnode_handle *fwnode_graph_get_next_endpoint(const struct fwnode_handle *fwnode, "
        "struct fwnode_handle *prev)")
def fwnode_graph_get_next_endpoint(k, fwnode, prev):
    """No node (and so no secondary node) has a graph: NULL."""
    if fwnode or prev:
        not_modelled(k, "fwnode_graph_get_next_endpoint", _WHY)
    return 0


@export("struct fwnode_handle *fwnode_graph_get_port_parent(const struct fwnode_handle *fwnode)")
def fwnode_graph_get_port_parent(k, fwnode):
    if fwnode:
        not_modelled(k, "fwnode_graph_get_port_parent", _WHY)
    return 0


@export("struct fwnode_handle *fwnode_graph_get_remote_endpoint("
        "const struct fwnode_handle *fwnode)")
def fwnode_graph_get_remote_endpoint(k, fwnode):
    if fwnode:
        not_modelled(k, "fwnode_graph_get_remote_endpoint", _WHY)
    return 0


@export("struct fwnode_handle *fwnode_handle_get(struct fwnode_handle *fwnode)")
def fwnode_handle_get(k, fwnode):
    """No get op to call on no node: the node itself (NULL)."""
    if fwnode:
        not_modelled(k, "fwnode_handle_get", _WHY)
    return fwnode
