"""drivers/base/transport_class.c, drivers/base/attribute_container.c: transport classes.

A transport class (SCSI SPI/SAS/FC/iSCSI, RAID) is a device class,
registered as ``class_register`` does; an attribute container goes on
attribute_container_list and is recorded (reported if left at exit);
``attribute_container_unregister`` fails -EBUSY while devices are in it
(never, here). The per-device calls, made when a host or target is added,
are link-only: kemu's machine has no host adapter (``not-modelled`` finding).
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import link_only_table, members
from kemu.abi.toolkit import cstr, rd, static, static_addr, sym, wr

from .class_ import register, unregister

members("struct transport_class", "class", "setup", "remove", "configure")
members("struct anon_transport_class", "tclass", "container")
members("struct attribute_container", "node", "class", "flags")

ATTRIBUTE_CONTAINER_NO_CLASSDEVS = 0x01


class Containers:
    """attribute_container_list."""

    def __init__(self, k):
        self.conts: list[int] = []


def _tclass(k, tclass) -> int:
    return tclass + k.target.offset("transport_class.class")


@export("int transport_class_register(struct transport_class *tclass)")
def transport_class_register(k, tclass):
    return (yield from register(k, _tclass(k, tclass)))


@export("void transport_class_unregister(struct transport_class *tclass)")
def transport_class_unregister(k, tclass):
    yield from unregister(k, _tclass(k, tclass))


@export("int attribute_container_register(struct attribute_container *cont)")
def attribute_container_register(k, cont):
    k.model(Containers).conts.append(cont)
    cls = rd(k, cont, "attribute_container.class")
    name = cstr(k, rd(k, cls, "class.name"), 64) if cls else "?"
    k.register("attribute container", cont, k.module_containing(cont) or k.current_module(),
               f"attribute container {sym(k, cont)} (class {name})")
    return 0


@export("int attribute_container_unregister(struct attribute_container *cont)")
def attribute_container_unregister(k, cont):
    conts = k.model(Containers).conts
    if cont in conts:
        conts.remove(cont)
        k.unregister("attribute container", cont)
    return 0


@static("int anon_transport_dummy_function(struct transport_container *tc, struct device *dev, "
        "struct device *cdev)")
def anon_transport_dummy_function(k, tc, dev, cdev):
    return 0


@export("int anon_transport_class_register(struct anon_transport_class *atc)")
def anon_transport_class_register(k, atc):
    t = k.target
    tclass = atc + t.offset("anon_transport_class.tclass")
    cont = atc + t.offset("anon_transport_class.container")
    wr(k, cont, "attribute_container.class", _tclass(k, tclass))
    flags = rd(k, cont, "attribute_container.flags", 8)
    wr(k, cont, "attribute_container.flags", flags | ATTRIBUTE_CONTAINER_NO_CLASSDEVS, 8)
    attribute_container_register(k, cont)
    wr(k, tclass, "transport_class.setup", static_addr(k, "anon_transport_dummy_function"))
    wr(k, tclass, "transport_class.remove", static_addr(k, "anon_transport_dummy_function"))
    return 0


@export("void anon_transport_class_unregister(struct anon_transport_class *atc)")
def anon_transport_class_unregister(k, atc):
    attribute_container_unregister(k, atc + k.target.offset("anon_transport_class.container"))


link_only_table((
    ("void transport_setup_device(struct device *dev)", None),
    ("int transport_add_device(struct device *dev)", 0),
    ("void transport_configure_device(struct device *dev)", None),
    ("void transport_remove_device(struct device *dev)", None),
    ("void transport_destroy_device(struct device *dev)", None),
), "no transport host or target device exists (no host adapter)")
