"""drivers/pci/pci-driver.c, search.c, access.c, pci.c: PCI drivers without PCI devices.

``__pci_register_driver`` fills in the embedded ``device_driver`` (name,
bus, owner, groups) and registers it on ``pci_bus_type`` (kemu adds no
dynamic ids: new_id needs sysfs writes on a bound bus). kemu's machine has no PCI device, so no probe runs and
the search functions (``pci_get_device``, ``pci_get_class``,
``pci_get_subsys``, ``pci_get_domain_bus_and_slot``, ``pci_dev_present``)
find nothing, dropping the reference on ``from`` as the kernel does.
Everything that needs a ``struct pci_dev`` (config space, enabling, BARs,
MSI) is link-only: a ``not-modelled`` finding and the kernel's failure for a
missing device (config reads give ~0 and PCIBIOS_DEVICE_NOT_FOUND).
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, wr
from ..base.bus import deviceless_bus
from kemu.abi.exports import not_modelled, link_only

# device model, buses (stubs/drivers)
members("struct device_driver", "name", "bus", "owner", "mod_name")
members("struct pci_driver", "name", "driver", "node", "id_table", "probe", "remove")

_WHY = "kemu's machine has no PCI device"


def _not_found(k, *args):
    """PCIBIOS_DEVICE_NOT_FOUND, the config accessors' answer for an absent device."""
    return k.target.const("PCIBIOS_DEVICE_NOT_FOUND")


deviceless_bus("pci", _WHY, "pci_bus_match")


@export("int __pci_register_driver(struct pci_driver *drv, struct module *owner, "
        "const char *mod_name)", fails="-ENOMEM")
def __pci_register_driver(k, drv, owner, mod_name):
    from ..base.bus import driver_register_gen
    t = k.target
    d = drv + t.offset("pci_driver.driver")
    wr(k, d, "device_driver.name", rd(k, drv, "pci_driver.name"))
    wr(k, d, "device_driver.bus", k.export_addr("pci_bus_type"))
    wr(k, d, "device_driver.owner", owner)
    wr(k, d, "device_driver.mod_name", mod_name)
    return (yield from driver_register_gen(k, d))


@export("void pci_unregister_driver(struct pci_driver *drv)")
def pci_unregister_driver(k, drv):
    from ..base.bus import driver_unregister_gen
    yield from driver_unregister_gen(k, drv + k.target.offset("pci_driver.driver"))


def _put_from(k, from_):
    if from_:
        not_modelled(k, "pci_dev_put", _WHY)


@export("struct pci_dev *pci_get_device(unsigned int vendor, unsigned int device, "
        "struct pci_dev *from)")
def pci_get_device(k, vendor, device, from_):
    _put_from(k, from_)
    return 0


@export("struct pci_dev *pci_get_subsys(unsigned int vendor, unsigned int device, "
        "unsigned int ss_vendor, unsigned int ss_device, struct pci_dev *from)")
def pci_get_subsys(k, vendor, device, ss_vendor, ss_device, from_):
    _put_from(k, from_)
    return 0


@export("struct pci_dev *pci_get_class(unsigned int class, struct pci_dev *from)")
def pci_get_class(k, class_, from_):
    _put_from(k, from_)
    return 0


@export("struct pci_dev *pci_get_domain_bus_and_slot(int domain, unsigned int bus, "
        "unsigned int devfn)")
def pci_get_domain_bus_and_slot(k, domain, bus, devfn):
    return 0


@export("int pci_dev_present(const struct pci_device_id *ids)")
def pci_dev_present(k, ids):
    return 0


@export("void pci_dev_put(struct pci_dev *dev)")
def pci_dev_put(k, dev):
    _put_from(k, dev)


@export("struct pci_dev *pci_dev_get(struct pci_dev *dev)")
def pci_dev_get(k, dev):
    _put_from(k, dev)
    return dev


def _cfg_read(size):
    def before(k, dev, where, val):
        {1: k.machine.write_u8, 2: k.machine.write_u16, 4: k.machine.write_u32}[size](
            val, (1 << (8 * size)) - 1)                 # PCI_SET_ERROR_RESPONSE
    return before


def _bus_cfg_read(size):
    def before(k, bus, devfn, where, val):
        _cfg_read(size)(k, 0, where, val)
    return before


for _n, _t, _s in (("byte", "u8", 1), ("word", "u16", 2), ("dword", "u32", 4)):
    link_only(f"int pci_read_config_{_n}(const struct pci_dev *dev, int where, {_t} *val)",
              _not_found, _WHY, before=_cfg_read(_s))
    link_only(f"int pci_write_config_{_n}(const struct pci_dev *dev, int where, {_t} val)",
              _not_found, _WHY)
    link_only(f"int pci_bus_read_config_{_n}(struct pci_bus *bus, unsigned int devfn, int where, "
              f"{_t} *val)", _not_found, _WHY, before=_bus_cfg_read(_s))
    link_only(f"int pci_bus_write_config_{_n}(struct pci_bus *bus, unsigned int devfn, "
              f"int where, {_t} val)", _not_found, _WHY)

_ENODEV = -errno.ENODEV
for _proto, _res in (
        ("const struct pci_device_id *pci_match_id(const struct pci_device_id *ids, "
         "struct pci_dev *dev)", 0),
        ("int pci_enable_device(struct pci_dev *dev)", _ENODEV),
        ("int pcim_enable_device(struct pci_dev *pdev)", _ENODEV),
        ("void pci_disable_device(struct pci_dev *dev)", None),
        ("void pci_set_master(struct pci_dev *dev)", None),
        ("int pci_request_regions(struct pci_dev *pdev, const char *res_name)", -errno.EBUSY),
        ("void pci_release_regions(struct pci_dev *pdev)", None),
        ("int pci_request_region(struct pci_dev *pdev, int bar, const char *res_name)",
         -errno.EBUSY),
        ("void pci_release_region(struct pci_dev *pdev, int bar)", None),
        ("void *pcim_iomap(struct pci_dev *pdev, int bar, unsigned long maxlen)", 0),
        ("void pcim_iounmap(struct pci_dev *pdev, void *addr)", None),
        ("void *pci_iomap(struct pci_dev *dev, int bar, unsigned long maxlen)", 0),
        ("void *pci_iomap_range(struct pci_dev *dev, int bar, unsigned long offset, "
         "unsigned long maxlen)", 0),
        ("void pci_iounmap(struct pci_dev *dev, void *addr)", None),
        ("void *pci_ioremap_bar(struct pci_dev *pdev, int bar)", 0),
        ("int pcim_iomap_regions(struct pci_dev *pdev, int mask, const char *name)", _ENODEV),
        ("void *const *pcim_iomap_table(struct pci_dev *pdev)", 0),
        ("int pci_set_cacheline_size(struct pci_dev *dev)", -errno.EINVAL),
        ("int pci_save_state(struct pci_dev *dev)", _ENODEV),
        ("void pci_restore_state(struct pci_dev *dev)", None),
        ("void pci_intx(struct pci_dev *dev, int enable)", None),
        ("int pci_enable_msi(struct pci_dev *dev)", -errno.EINVAL),
        ("void pci_disable_msi(struct pci_dev *dev)", None),
        ("int pci_alloc_irq_vectors_affinity(struct pci_dev *dev, unsigned int min_vecs, "
         "unsigned int max_vecs, unsigned int flags, struct irq_affinity *affd)", -errno.ENOSPC),
        ("void pci_free_irq_vectors(struct pci_dev *dev)", None),
        ("int pci_irq_vector(struct pci_dev *dev, unsigned int nr)", -errno.EINVAL),
        ("u16 pci_find_ext_capability(struct pci_dev *dev, int cap)", 0),
        ("u16 pci_find_next_ext_capability(struct pci_dev *dev, u16 pos, int cap)", 0),
        ("u8 pci_find_capability(struct pci_dev *dev, int cap)", 0),
        ("struct pci_dev *pci_get_slot(struct pci_bus *bus, unsigned int devfn)", 0),
        ("void pci_stop_and_remove_bus_device(struct pci_dev *dev)", None),
):
    link_only(_proto, _res, _WHY)


def _cap_read(k, dev, pos, val):
    k.machine.write_u16(val, 0)


link_only("int pcie_capability_read_word(struct pci_dev *dev, int pos, u16 *val)",
          _not_found, _WHY, before=_cap_read)
link_only("int pcie_capability_clear_and_set_word_locked(struct pci_dev *dev, int pos, "
          "u16 clear, u16 set)", _not_found, _WHY)


# probe.c / bus.c / setup-bus.c: bus scanning under a bridge (cardbus), never reached
for _proto, _res in (
        ("int pci_scan_bridge(struct pci_bus *bus, struct pci_dev *dev, int max, int pass)", 0),
        ("int pci_scan_slot(struct pci_bus *bus, int devfn)", 0),
        ("void pci_bus_assign_resources(const struct pci_bus *bus)", None),
        ("void pci_bus_size_bridges(struct pci_bus *bus)", None),
        ("void pci_bus_add_devices(const struct pci_bus *bus)", None),
        ("void pci_fixup_cardbus(struct pci_bus *bus)", None),
):
    link_only(_proto, _res, _WHY)


@export("void pci_lock_rescan_remove(void)")
def pci_lock_rescan_remove(k):
    """pci_rescan_remove_lock: kemu runs one task; nothing contends."""


@export("void pci_unlock_rescan_remove(void)")
def pci_unlock_rescan_remove(k):
    """See pci_lock_rescan_remove."""


@data("const char *pci_power_names[7]", size=7 * 8)
def pci_power_names(k, addr):
    """pci.c's names of the PCI power states."""
    for i, name in enumerate(("error", "D0", "D1", "D2", "D3hot", "D3cold", "unknown")):
        s = k.machine.alloc_kdata(len(name) + 1, 1)
        k.machine.write(s, name.encode() + b"\0")
        k.machine.write_u64(addr + 8 * i, s)


for _proto, _res in (
        ("bool pci_dev_run_wake(struct pci_dev *dev)", False),
        ("int pci_prepare_to_sleep(struct pci_dev *dev)", -errno.EIO),
        ("int usb_hcd_amd_remote_wakeup_quirk(struct pci_dev *pdev)", 0),
):
    link_only(_proto, _res, _WHY)
