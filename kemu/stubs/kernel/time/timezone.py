"""kernel/time/time.c: ``sys_tz``, the kernel's timezone (UTC until settimeofday sets it)."""
from kemu import data
from kemu.abi.exports import members

members("struct timezone", "tz_minuteswest", "tz_dsttime")


@data("struct timezone sys_tz")
def sys_tz(k, addr):
    k.machine.write(addr, bytes(k.target.sizeof("timezone")))
