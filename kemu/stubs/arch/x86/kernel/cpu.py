"""arch/x86/kernel/cpu/common.c, fpu/xstate.c: boot_cpu_data and cpu_info.

The CPU is the one kemu emulates: its CPUID is read from a scratch Unicorn
instance of the same model, and the capability words are filled as
get_cpu_cap() fills them, plus the synthetic bits Linux sets for such a CPU.
Modules that test boot_cpu_has(X86_FEATURE_...) see exactly what kemu can run.
"""
import functools
import struct

from kemu import data, export, percpu
from kemu.abi.exports import members

members("struct cpuinfo_x86", "x86_capability", "x86_vendor_id", "x86_model_id", "x86",
        "x86_vendor", "x86_model", "x86_stepping", "x86_virt_bits", "x86_phys_bits",
        "x86_coreid_bits", "cu_id", "extended_cpuid_level", "cpuid_level", "x86_cache_size",
        "x86_cache_alignment", "x86_cache_max_rmid", "x86_cache_occ_scale",
        "x86_cache_mbm_width_offset", "x86_power", "loops_per_jiffy", "x86_max_cores",
        "apicid", "initial_apicid", "x86_clflush_size", "booted_cores", "phys_proc_id",
        "logical_proc_id", "cpu_core_id", "cpu_die_id", "logical_die_id", "cpu_index",
        "microcode", "x86_tlbsize", "ppin", "smt_active", "x86_cache_bits")

from ....lib.usercopy import TASK_SIZE_MAX

LPJ = 8_000_000                      # loops_per_jiffy of a 2 GHz CPU at HZ=250
XFEATURE_MASK_FPSSE = 0x3
XSAVE_CPUID_FEATURES = ["FPU", "XMM", "AVX", "MPX", "MPX", "AVX512F", "AVX512F", "AVX512F",
                        "INTEL_PT", "PKU", "ENQCMD"]
XFEATURE_NAMES = ["x87 floating point registers", "SSE registers", "AVX registers",
                  "MPX bounds registers", "MPX CSR", "AVX-512 opmask", "AVX-512 Hi256",
                  "AVX-512 ZMM_Hi256", "Processor Trace (unused)",
                  "Protection Keys User registers", "PASID state",
                  "unknown xstate feature", "unknown xstate feature", "unknown xstate feature",
                  "unknown xstate feature", "unknown xstate feature", "unknown xstate feature",
                  "AMX Tile config", "AMX Tile data", "unknown xstate feature"]
# (member, struct width, signed) of struct cpuinfo_x86 (arch/x86/include/asm/processor.h)
_WIDTHS = {"x86": 1, "x86_vendor": 1, "x86_model": 1, "x86_stepping": 1, "x86_tlbsize": 4,
           "x86_virt_bits": 1, "x86_phys_bits": 1, "x86_coreid_bits": 1, "cu_id": 1,
           "extended_cpuid_level": 4, "cpuid_level": 4, "x86_cache_size": 4,
           "x86_cache_alignment": 4, "x86_cache_max_rmid": 4, "x86_cache_occ_scale": 4,
           "x86_cache_mbm_width_offset": 4, "x86_power": 4, "loops_per_jiffy": 8, "ppin": 8,
           "x86_max_cores": 2, "apicid": 2, "initial_apicid": 2, "x86_clflush_size": 2,
           "booted_cores": 2, "phys_proc_id": 2, "logical_proc_id": 2, "cpu_core_id": 2,
           "cpu_die_id": 2, "logical_die_id": 2, "cpu_index": 2, "smt_active": 1,
           "microcode": 4, "x86_cache_bits": 1}


@functools.lru_cache(maxsize=None)
def cpuid(leaf: int, subleaf: int = 0) -> tuple:
    """CPUID of kemu's CPU model, run on a scratch Unicorn instance."""
    from unicorn import UC_ARCH_X86, UC_MODE_64, Uc
    from unicorn import x86_const as X
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.mem_map(0x1000, 0x1000)
    uc.mem_write(0x1000, b"\x0f\xa2\xf4")          # cpuid; hlt
    uc.reg_write(X.UC_X86_REG_EAX, leaf)
    uc.reg_write(X.UC_X86_REG_ECX, subleaf)
    uc.emu_start(0x1000, 0x1002)
    return tuple(uc.reg_read(r) for r in (X.UC_X86_REG_EAX, X.UC_X86_REG_EBX,
                                           X.UC_X86_REG_ECX, X.UC_X86_REG_EDX))


def _feature(k, name):
    return k.target.const(f"X86_FEATURE_{name}")


def capability_words(k) -> list:
    """x86_capability[] as get_cpu_cap() and init_intel() leave it."""
    t = k.target
    words = [0] * (t.const("NCAPINTS") + t.const("NBUGINTS"))
    max_level = cpuid(0)[0]
    _, _, ecx, edx = cpuid(1)
    words[0], words[4] = edx, ecx
    if max_level >= 6:
        words[14] = cpuid(6)[0]
    if max_level >= 7:
        eax, ebx, ecx, edx = cpuid(7, 0)
        words[9], words[16], words[18] = ebx, ecx, edx
        if eax >= 1:
            words[12] = cpuid(7, 1)[0]
    if max_level >= 0xD:
        words[10] = cpuid(0xD, 1)[0]
    ext = cpuid(0x80000000)[0]
    if ext >= 0x80000001:
        _, _, ecx, edx = cpuid(0x80000001)
        words[6], words[1] = ecx, edx
    if ext >= 0x80000007:
        words[17] = cpuid(0x80000007)[1]
    if ext >= 0x80000008:
        words[13] = cpuid(0x80000008)[1]
    for name in ("ALWAYS", "CPUID", "NOPL", "REP_GOOD"):       # Linux-defined, word 3
        bit = _feature(k, name)
        words[bit // 32] |= 1 << (bit % 32)
    return words


def cpu_has(k, name: str) -> bool:
    bit = _feature(k, name)
    return bool(capability_words(k)[bit // 32] >> (bit % 32) & 1)


def max_xfeatures(k) -> int:
    """fpu_kernel_cfg.max_features: CPUID 0xd less the states whose feature is absent."""
    if not cpu_has(k, "XSAVE"):
        return XFEATURE_MASK_FPSSE
    eax, _, _, edx = cpuid(0xD, 0)
    mask = eax | edx << 32
    for i, name in enumerate(XSAVE_CPUID_FEATURES):
        try:
            present = cpu_has(k, name)
        except KeyError:
            present = False
        if not present:
            mask &= ~(1 << i)
    return mask | XFEATURE_MASK_FPSSE


def _signature():
    eax = cpuid(1)[0]
    family = (eax >> 8) & 0xF
    if family == 0xF:
        family += (eax >> 20) & 0xFF
    model = (eax >> 4) & 0xF
    if family >= 6:
        model += ((eax >> 16) & 0xF) << 4
    return family, model, eax & 0xF


def fill_cpuinfo(k, addr: int) -> None:
    t, m = k.target, k.machine
    family, model, stepping = _signature()
    _, ebx1, _, _ = cpuid(1)
    ext = cpuid(0x80000000)[0]
    v = cpuid(0)
    vendor_id = struct.pack("<III", v[1], v[3], v[2])
    model_id = b"".join(struct.pack("<IIII", *cpuid(leaf))
                        for leaf in (0x80000002, 0x80000003, 0x80000004)) if ext >= 0x80000004 \
        else b""
    model_id = model_id.split(b"\0", 1)[0].lstrip(b" ")
    phys, virt = (cpuid(0x80000008)[0] & 0xFF, cpuid(0x80000008)[0] >> 8 & 0xFF) \
        if ext >= 0x80000008 else (36, 48)
    clflush = ((ebx1 >> 8) & 0xFF) * 8
    values = {
        "x86": family, "x86_vendor": k.target.const("X86_VENDOR_INTEL")
        if vendor_id == b"GenuineIntel" else k.target.const("X86_VENDOR_AMD"),
        "x86_model": model, "x86_stepping": stepping, "x86_virt_bits": virt,
        "x86_phys_bits": phys, "extended_cpuid_level": ext, "cpuid_level": v[0],
        "x86_cache_size": (cpuid(0x80000006)[2] >> 16) if ext >= 0x80000006 else 0,
        "x86_cache_alignment": clflush, "x86_cache_max_rmid": -1, "x86_cache_occ_scale": -1,
        "x86_power": cpuid(0x80000007)[3] if ext >= 0x80000007 else 0,
        "loops_per_jiffy": LPJ, "x86_max_cores": 1, "apicid": ebx1 >> 24,
        "initial_apicid": ebx1 >> 24, "x86_clflush_size": clflush, "booted_cores": 1,
        "microcode": 1, "x86_cache_bits": phys,
    }
    for name, value in values.items():
        if not t.has_offset(f"cpuinfo_x86.{name}"):      # x86_max_cores: gone in 6.9
            continue
        width = _WIDTHS[name]
        m.write(addr + t.offset(f"cpuinfo_x86.{name}"),
                (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little"))
    m.write(addr + t.offset("cpuinfo_x86.x86_vendor_id"), vendor_id + b"\0")
    m.write(addr + t.offset("cpuinfo_x86.x86_model_id"), model_id[:63] + b"\0")
    m.write(addr + t.offset("cpuinfo_x86.x86_capability"),
            b"".join(w.to_bytes(4, "little") for w in capability_words(k)))


@data("struct cpuinfo_x86 boot_cpu_data")
def boot_cpu_data(k, addr):
    fill_cpuinfo(k, addr)


@percpu("struct cpuinfo_x86 cpu_info")
def cpu_info(k, offset):
    fill_cpuinfo(k, k.machine.percpu_addr + offset)


@export("unsigned int x86_family(unsigned int sig)")
def x86_family(k, sig):
    x86 = (sig >> 8) & 0xF
    if x86 == 0xF:
        x86 += (sig >> 20) & 0xFF
    return x86


@export("unsigned int x86_model(unsigned int sig)")
def x86_model(k, sig):
    fam = x86_family(k, sig)
    model = (sig >> 4) & 0xF
    if fam >= 0x6:
        model += ((sig >> 16) & 0xF) << 4
    return model


@export("unsigned int x86_stepping(unsigned int sig)")
def x86_stepping(k, sig):
    return sig & 0xF


class _Names:
    """xfeature_names[] as kernel strings, made once per kernel."""

    def __init__(self, k):
        self.addrs = []
        for name in XFEATURE_NAMES:
            addr = k.machine.alloc_kdata(len(name) + 1, 1)
            k.machine.write(addr, name.encode() + b"\0")
            self.addrs.append(addr)


@export("int cpu_has_xfeatures(u64 xfeatures_needed, const char **feature_name)")
def cpu_has_xfeatures(k, needed, feature_name):
    missing = needed & ~max_xfeatures(k)
    if feature_name:
        shown = missing or needed
        idx = min(shown.bit_length() - 1, len(XFEATURE_NAMES) - 1)
        k.machine.write_u64(feature_name, k.model(_Names).addrs[idx] if idx >= 0 else 0)
    return 0 if missing else 1


@data("unsigned long USER_PTR_MAX")
def USER_PTR_MAX(k, addr):
    """6.12 (arch/x86/kernel/cpu/common.c): the access_ok() limit modules read
    (built-in code patches it in as a runtime constant): TASK_SIZE_MAX without LAM."""
    k.machine.write_u64(addr, TASK_SIZE_MAX)
