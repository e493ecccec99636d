"""arch/x86/xen/."""
