"""arch/x86/kernel/cpu/match.c: x86_match_cpu(), matching boot_cpu_data.

boot_cpu_data describes the CPU kemu emulates (stubs/arch/x86/kernel/cpu.py),
so a driver for a feature Unicorn does not emulate (AVX, say) finds no match,
exactly as on hardware lacking it.
"""
from kemu import export
from kemu.abi.exports import members

members("struct cpuinfo_x86", "x86_capability")
# crypto / lib helpers (stubs/crypto, stubs/lib, stubs/kernel/padata.py,
# stubs/arch/x86/kernel/cpu_match.py)
members("struct x86_cpu_id", "vendor", "family", "model", "steppings", "feature", "flags",
        "driver_data")


def _u16(k, addr, member):
    return k.machine.read_u16(addr + k.target.offset(member))


@export("const struct x86_cpu_id *x86_match_cpu(const struct x86_cpu_id *match)")
def x86_match_cpu(k, match):
    """The first entry of the table (ended by an all-zero entry) matching the CPU, or NULL."""
    t, m = k.target, k.machine
    c = k.export_addr("boot_cpu_data")

    def cpu_u8(member):
        return m.read_u8(c + t.offset(f"cpuinfo_x86.{member}"))

    def cpu_has(bit):
        word = m.read_u32(c + t.offset("cpuinfo_x86.x86_capability") + 4 * (bit // 32))
        return bool(word >> (bit % 32) & 1)

    entry = match
    while True:
        vendor, family, model, steppings, feature = (
            _u16(k, entry, f"x86_cpu_id.{n}")
            for n in ("vendor", "family", "model", "steppings", "feature"))
        if not (vendor | family | model | steppings | feature):
            return 0
        if ((vendor == t.const("X86_VENDOR_ANY") or vendor == cpu_u8("x86_vendor")) and
                (family == t.const("X86_FAMILY_ANY") or family == cpu_u8("x86")) and
                (model == t.const("X86_MODEL_ANY") or model == cpu_u8("x86_model")) and
                (steppings == t.const("X86_STEPPING_ANY") or
                 steppings >> cpu_u8("x86_stepping") & 1) and
                (feature == t.const("X86_FEATURE_ANY") or cpu_has(feature))):
            return entry
        entry += t.sizeof("x86_cpu_id")
