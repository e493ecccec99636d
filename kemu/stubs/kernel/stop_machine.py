"""kernel/stop_machine.c: stop_machine() on kemu's single CPU.

With every other CPU stopped, ``fn(data)`` runs on one of them with
interrupts off; on one CPU that is the caller, so kemu calls it in place.
"""
from kemu import export


@export("int stop_machine(int (*fn)(void *data), void *data, const struct cpumask *cpus)")
def stop_machine(k, fn, data, cpus):
    ret = (yield k.call_request(fn, data)) & 0xFFFFFFFF
    return ret - (1 << 32) if ret >> 31 else ret
