"""arch/x86/xen/enlighten.c: ``xen_domain_type``. kemu's machine is no Xen guest:
XEN_NATIVE, so ``xen_domain()`` is false in module code, as on bare hardware."""
from kemu import data


@data("int xen_domain_type")
def xen_domain_type(k, addr):
    k.machine.write_u32(addr, k.target.const("XEN_NATIVE"))
