"""init/main.c: ``system_state``. Modules load after boot: SYSTEM_RUNNING."""
from kemu import data


@data("int system_state")
def system_state(k, addr):
    k.machine.write_u32(addr, k.target.const("SYSTEM_RUNNING"))
