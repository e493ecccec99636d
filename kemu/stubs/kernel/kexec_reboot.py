"""kernel/kexec_core.c, kernel/reboot.c: the machine's crash kernel and power-off hook.

No crash kernel is loaded (``kexec_crash_loaded()`` is false) and no driver
has claimed power-off: ``pm_power_off`` starts NULL, as on a machine whose
firmware offers none (a module may set it; it is its job to restore it).
"""
from kemu import data, export


@export("bool kexec_crash_loaded(void)")
def kexec_crash_loaded(k):
    return 0


@data("void *pm_power_off")            # void (*)(void)
def pm_power_off(k, addr):
    pass
