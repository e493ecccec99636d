"""drivers/firmware/dmi_scan.c: the machine's DMI (SMBIOS) identification strings.

kemu's machine identifies itself as the QEMU/KVM "Standard PC (i440FX + PIIX,
1996)" with SeaBIOS, as Debian's kernel sees it under QEMU: these are the
``dmi_ident[]`` strings. ``dmi_check_system`` / ``dmi_first_match`` walk a
driver's table with the kernel's ``dmi_matches`` (substring, or exact with
``exact_match``; an absent field never matches) and call each matching
entry's callback in emulation; QEMU's SMBIOS has no onboard-device or OEM
string entries, so ``dmi_find_device`` finds nothing. ``dmi_walk`` (raw table
decoding) is link-only.

Python API: ``dmi_ident(k) -> {field name: text}``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, rd, s32
from kemu.abi.exports import link_only

members("struct dmi_system_id", "callback", "matches", "ident", "driver_data")
members("struct dmi_strmatch", "substr", "slot", "exact_match")

QEMU_DMI = {
    "DMI_BIOS_VENDOR": "SeaBIOS",
    "DMI_BIOS_VERSION": "1.16.2-debian-1.16.2-1",
    "DMI_BIOS_DATE": "04/01/2014",
    "DMI_BIOS_RELEASE": "0.0",
    "DMI_SYS_VENDOR": "QEMU",
    "DMI_PRODUCT_NAME": "Standard PC (i440FX + PIIX, 1996)",
    "DMI_PRODUCT_VERSION": "pc-i440fx-8.0",
    "DMI_CHASSIS_VENDOR": "QEMU",
    "DMI_CHASSIS_TYPE": "1",
    "DMI_CHASSIS_VERSION": "pc-i440fx-8.0",
}


class Dmi:
    """dmi_ident[]: field number -> (text, kernel string address)."""

    def __init__(self, k):
        self.ident: dict[int, tuple[str, int]] = {}
        for field, text in QEMU_DMI.items():
            addr = k.machine.alloc_kdata(len(text) + 1, 1)
            k.machine.write(addr, text.encode() + b"\0")
            self.ident[k.target.const(field)] = (text, addr)


def _matches(k, d) -> bool:
    """dmi_matches()."""
    t = k.target
    ident = k.model(Dmi).ident
    size = t.sizeof("dmi_strmatch")
    for i in range(4):
        m = d + t.offset("dmi_system_id.matches") + i * size
        raw = k.machine.read_u8(m)
        slot, exact = raw & 0x7F, raw >> 7
        if slot == t.const("DMI_NONE"):
            break
        sub = cstr(k, m + t.offset("dmi_strmatch.substr"), 79)
        if slot == t.const("DMI_OEM_STRING"):
            return False                      # no OEM strings in QEMU's SMBIOS
        have = ident.get(slot)
        if have is not None and ((exact and have[0] == sub) or (not exact and sub in have[0])):
            continue
        return False
    return True


def _end(k, d) -> bool:
    t = k.target
    return (k.machine.read_u8(d + t.offset("dmi_system_id.matches")) & 0x7F) == \
        t.const("DMI_NONE")


@export("int dmi_check_system(const struct dmi_system_id *list)")
def dmi_check_system(k, list_):
    count = 0
    d = list_
    while not _end(k, d):
        if _matches(k, d):
            count += 1
            cb = rd(k, d, "dmi_system_id.callback")
            if cb and s32((yield k.call_request(cb, d))):
                break
        d += k.target.sizeof("dmi_system_id")
    return count


@export("const struct dmi_system_id *dmi_first_match(const struct dmi_system_id *list)")
def dmi_first_match(k, list_):
    d = list_
    while not _end(k, d):
        if _matches(k, d):
            return d
        d += k.target.sizeof("dmi_system_id")
    return 0


@export("const char *dmi_get_system_info(int field)")
def dmi_get_system_info(k, field):
    hit = k.model(Dmi).ident.get(s32(field))
    return hit[1] if hit else 0


@export("bool dmi_match(enum dmi_field f, const char *str)")
def dmi_match(k, f, str_):
    hit = k.model(Dmi).ident.get(f)
    if hit is None or not str_:
        return (hit[1] if hit else 0) == str_
    return hit[0] == cstr(k, str_, 256)


@export("bool dmi_name_in_vendors(const char *str)")
def dmi_name_in_vendors(k, str_):
    ident = k.model(Dmi).ident
    want = cstr(k, str_, 256)
    for f in ("DMI_SYS_VENDOR", "DMI_BOARD_VENDOR", "DMI_BOARD_NAME"):
        hit = ident.get(k.target.const(f))
        if hit and want in hit[0]:
            return True
    return False


@export("const struct dmi_device *dmi_find_device(int type, const char *name, "
        "const struct dmi_device *from)")
def dmi_find_device(k, type_, name, from_):
    return 0


@export("bool dmi_get_date(int field, int *yearp, int *monthp, int *dayp)")
def dmi_get_date(k, field, yearp, monthp, dayp):
    """The kernel's lenient mm/dd/yy[yy] parse of a date field."""
    hit = k.model(Dmi).ident.get(s32(field))
    year = month = day = 0
    exists = hit is not None
    if exists:
        parts = hit[0].split("/")
        try:
            month, day, year = int(parts[0]), int(parts[1]), int(parts[2])
            if year < 100:
                year += 1900 if year >= 70 else 2000
        except (ValueError, IndexError):
            year = month = day = 0
    for p, v in ((yearp, year), (monthp, month), (dayp, day)):
        if p:
            k.machine.write_u32(p, v & 0xFFFFFFFF)
    return exists


@export("int dmi_get_bios_year(void)")
def dmi_get_bios_year(k):
    year = k.heap.alloc(4, zero=True)
    try:
        exists = dmi_get_date(k, k.target.const("DMI_BIOS_DATE"), year, 0, 0)
        y = k.machine.read_u32(year)
    finally:
        k.heap.free(year)
    if not exists:
        return -errno.ENODATA
    return y or -errno.ENOENT


link_only("int dmi_walk(void (*decode)(const struct dmi_header *, void *), void *private_data)",
          -errno.ENXIO, "kemu keeps no raw SMBIOS table to decode")


def dmi_ident(k) -> dict:
    """{DMI field constant name: text} of kemu's machine."""
    return dict(QEMU_DMI)

