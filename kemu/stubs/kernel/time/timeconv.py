"""kernel/time/timeconv.c and the time zone of kernel/time/time.c.

``time64_to_tm`` breaks seconds since the epoch (plus ``offset`` seconds)
into a ``struct tm`` (years since 1900, months 0-11, weekday 0 = Sunday) with
the proleptic Gregorian calendar, as the kernel does. ``sys_tz`` is the
kernel's time zone, UTC with no DST until settimeofday() changes it (kemu
never does).
"""
from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import wr

members("struct tm", "tm_sec", "tm_min", "tm_hour", "tm_mday", "tm_mon", "tm_year", "tm_wday",
        "tm_yday")

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def broken_down(totalsecs: int, offset: int) -> dict:
    """time64_to_tm() fields for ``totalsecs + offset``."""
    days, rem = divmod(totalsecs + offset, 86400)
    hour, rem = divmod(rem, 3600)
    minute, sec = divmod(rem, 60)
    wday = (4 + days) % 7                         # 1970-01-01 was a Thursday
    # whole 400-year cycles (146097 days) first: the same calendar, so the
    # year loop below runs at most 400 times whatever a module passes
    cycles, days = divmod(days, 146097)
    year = 1970 + 400 * cycles
    while True:
        ylen = 366 if _leap(year) else 365
        if 0 <= days < ylen:
            break
        if days < 0:
            year -= 1
            days += 366 if _leap(year) else 365
        else:
            days -= ylen
            year += 1
    yday, mon = days, 0
    for mon, mdays in enumerate(_MONTH_DAYS):
        mdays += 1 if mon == 1 and _leap(year) else 0
        if days < mdays:
            break
        days -= mdays
    return {"tm_sec": sec, "tm_min": minute, "tm_hour": hour, "tm_mday": days + 1,
            "tm_mon": mon, "tm_year": year - 1900, "tm_wday": wday, "tm_yday": yday}


@export("void time64_to_tm(time64_t totalsecs, int offset, struct tm *result)")
def time64_to_tm(k, totalsecs, offset, result):
    for field, value in broken_down(totalsecs, offset).items():
        size = 8 if field == "tm_year" else 4           # long tm_year
        wr(k, result, f"tm.{field}", value & ((1 << (8 * size)) - 1), size)

