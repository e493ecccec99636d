"""arch/x86/kernel/rtc.c: ``rtc_lock``, the spinlock that serialises CMOS access,
and rtc_cmos_read()/rtc_cmos_write()."""
from kemu import data, export


@data("struct spinlock rtc_lock")
def rtc_lock(k, addr):
    pass                                     # unlocked


class Cmos:
    """The MC146818 CMOS of a PC: the RTC registers read the virtual wall clock
    (BCD, 24-hour, as a PC BIOS sets it up); the NVRAM bytes start zeroed."""

    def __init__(self, k):
        self.k = k
        self.ram = bytearray(128)
        self.ram[0x0A] = 0x26                   # 32.768 kHz base, 1024 Hz rate
        self.ram[0x0B] = 0x02                   # 24-hour mode, BCD
        self.ram[0x0D] = 0x80                   # valid RAM and time

    def read(self, addr: int) -> int:
        import time as _time
        from ....kernel.time.timekeeping import REALTIME_AT_BOOT
        if addr <= 9 and addr not in (1, 3, 5):
            t = _time.gmtime((REALTIME_AT_BOOT + self.k.clock_ns) // 1_000_000_000)
            value = {0: t.tm_sec, 2: t.tm_min, 4: t.tm_hour, 6: t.tm_wday + 1,
                     7: t.tm_mday, 8: t.tm_mon, 9: t.tm_year % 100}[addr]
            return (value // 10) << 4 | value % 10
        return self.ram[addr & 0x7F]


@export("unsigned char rtc_cmos_read(unsigned char addr)")
def rtc_cmos_read(k, addr):
    return k.model(Cmos).read(addr)


@export("void rtc_cmos_write(unsigned char val, unsigned char addr)")
def rtc_cmos_write(k, val, addr):
    k.model(Cmos).ram[addr & 0x7F] = val
