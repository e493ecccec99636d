"""kernel/time/time.c: ``sys_tz``, the kernel's timezone (UTC until settimeofday sets it)."""
from kemu import data


@data("struct timezone sys_tz")
def sys_tz(k, addr):
    k.machine.write(addr, bytes(k.target.sizeof("timezone")))
