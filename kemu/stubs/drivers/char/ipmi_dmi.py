"""drivers/char/ipmi/ipmi_dmi.c and ipmi_plat_data.c, built into Debian's kernel.

At boot ipmi_dmi scans the DMI tables for IPMI device records; kemu's machine
(QEMU i440FX's DMI) has none, so no slave address is known (0), and nothing
adds an IPMI platform device unless a module asks with explicit parameters —
a path kemu's runs do not reach.
"""
from kemu import export

from kemu.abi.exports import link_only


@export("int ipmi_dmi_get_slave_addr(enum si_type si_type, unsigned int space, "
        "unsigned long base_addr)")
def ipmi_dmi_get_slave_addr(k, si_type, space, base_addr):
    return 0


link_only("struct platform_device *ipmi_platform_add(const char *name, unsigned int inst, "
          "struct ipmi_plat_data *p)", 0,
          "kemu's machine has no IPMI controller to add a platform device for")
