"""Tests for stubs/lib/vsprintf.py, the port of Linux 6.1 lib/vsprintf.c.

Expected strings come from reading the 6.1 C source; where Linux and ISO C
agree, integer/string formatting is also cross-checked against Python's
own ``%`` operator.
"""

import errno
import importlib.util
import itertools
import pathlib
import struct
import sys

import pytest

_PATH = pathlib.Path(__file__).resolve().parents[1] / "kemu" / "stubs" / "lib" / "vsprintf.py"
_SPEC = importlib.util.spec_from_file_location("kemu_test_vsprintf", _PATH)
vs = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = vs
_SPEC.loader.exec_module(vs)

MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------------------
# Fakes for the caller-provided interfaces
# ---------------------------------------------------------------------------

class Args:
    """ArgReader over a list of Python ints (negative ints are wrapped)."""

    def __init__(self, values):
        self.values = list(values)
        self.used = 0

    def next_int(self):
        value = self.values[self.used]
        self.used += 1
        return value & MASK64


class Mem:
    """MemReader over a few mapped regions; everything else faults."""

    def __init__(self, regions=None):
        self.regions = dict(regions or {})

    def map(self, addr, data):
        self.regions[addr] = bytes(data)
        return addr

    def read(self, addr, size):
        for base, data in self.regions.items():
            if base <= addr and addr + size <= base + len(data):
                return data[addr - base:addr - base + size]
        raise MemoryError("unmapped read at %#x" % addr)


class Sym:
    """Symbolizer over (start, size, name, module) entries."""

    def __init__(self, entries):
        self.entries = entries

    def lookup(self, addr):
        for start, size, name, module in self.entries:
            if start <= addr < start + size:
                return (name, addr - start, size, module)
        return None


def fmt(f, *args, mem=None, sym=None, va=None):
    """Format with the port; ``f`` may be str or bytes, returns str (latin-1)."""
    if isinstance(f, str):
        f = f.encode("latin-1")
    out = vs.format_string(f, Args(args), mem or Mem(), sym, va_format=va)
    assert isinstance(out, bytes)
    return out.decode("latin-1")


# Handy addresses
DATA = 0xFFFF888000100000
STR = 0xFFFF888000200000
NULL = 0
ERR_ENOMEM = -12 & MASK64


def hashed(ptr):
    """What plain %p prints for a non-NULL, non-ERR pointer."""
    return "%016x" % (vs.siphash_1u64(ptr, vs.PTR_KEY) & 0xFFFFFFFF)


# ---------------------------------------------------------------------------
# Plain text, %%, invalid conversions
# ---------------------------------------------------------------------------

def test_plain_text():
    assert fmt("hello, world\n") == "hello, world\n"


def test_empty_format():
    assert fmt("") == ""


def test_percent_percent_ignores_width():
    assert fmt("100%% %5%|") == "100% %|"


def test_nul_in_format_ends_it():
    assert fmt(b"abc\0%d", 5) == "abc"


@pytest.mark.parametrize("f", ["a%yb%d", "a%nX", "a%hnX", "a%ZdX", "a%qX", "a%lLdX", "a%hhhdX",
                               "a%zzdX", "a%LLdX", "a%"])
def test_invalid_conversion_stops_output(f):
    # FORMAT_TYPE_INVALID: "goto out" -- nothing after the bad specifier.
    assert fmt(f, 1, 2) == "a"


def test_invalid_after_valid_keeps_prefix():
    assert fmt("%d-%d-%w-%d", 1, 2, 3) == "1-2-"


# ---------------------------------------------------------------------------
# Integers: qualifiers and truncation / sign extension
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("f,arg,expected", [
    ("%d", 42, "42"),
    ("%d", -42, "-42"),
    ("%i", -7, "-7"),
    ("%d", 0x1FFFFFFFF, "-1"),              # int is 32 bits
    ("%u", -1, "4294967295"),
    ("%x", -1, "ffffffff"),
    ("%X", 0xDEADBEEF, "DEADBEEF"),
    ("%o", 8, "10"),
    ("%hhd", 0x1FF, "-1"),
    ("%hhu", 0x1FF, "255"),
    ("%hhx", -2, "fe"),
    ("%hd", 0x18000, "-32768"),
    ("%hu", -1, "65535"),
    ("%hx", 0x12345678, "5678"),
    ("%ld", -1, "-1"),
    ("%lu", -1, "18446744073709551615"),
    ("%lx", 0xFFFF888000000000, "ffff888000000000"),
    ("%lld", -(1 << 63), "-9223372036854775808"),
    ("%llu", -1, "18446744073709551615"),
    ("%Ld", -5, "-5"),                      # 'L' is long long
    ("%llx", 0x123456789ABCDEF0, "123456789abcdef0"),
    ("%zu", -1, "18446744073709551615"),
    ("%zd", -1, "-1"),
    ("%zx", 0x1000, "1000"),
    ("%td", -3, "-3"),
    ("%tu", -3, "18446744073709551613"),    # ptrdiff_t printed unsigned by %tu
    ("%tx", 255, "ff"),
    ("%lo", 0o777, "777"),
])
def test_integer_qualifiers(f, arg, expected):
    assert fmt(f, arg) == expected


def test_int_min():
    assert fmt("%d", 0x80000000) == "-2147483648"


def test_hhd_ignores_upper_bits_of_int():
    assert fmt("%hhd %hhd", 0x7F, 0x80) == "127 -128"


# ---------------------------------------------------------------------------
# Integers: flags, width, precision (Linux specifics)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("f,arg,expected", [
    ("%5d|", 42, "   42|"),
    ("%-5d|", 42, "42   |"),
    ("%05d", 42, "00042"),
    ("%05d", -42, "-0042"),
    ("%-05d|", 42, "42   |"),        # '-' beats '0'
    ("%+d", 5, "+5"),
    ("%+d", -5, "-5"),
    ("% d", 5, " 5"),
    ("%+ d", 5, "+5"),
    ("%+05d", 5, "+0005"),
    ("% 05d", 5, " 0005"),
    ("%+u", 5, "5"),                 # PLUS only matters for signed
    ("%.3d", 5, "005"),
    ("%.3d", -5, "-005"),
    ("%8.3d|", 5, "     005|"),
    ("%-8.3d|", 5, "005     |"),
    ("%2d", 100, "100"),
    ("%#x", 255, "0xff"),
    ("%#X", 255, "0XFF"),
    ("%#o", 8, "010"),
    ("%#10x|", 255, "      0xff|"),
    ("%#-10x|", 255, "0xff      |"),
    ("%#010x", 255, "0x000000ff"),
    ("%#08x", 1, "0x000001"),
    ("%#.4x", 255, "0x00ff"),
    ("%#5o|", 8, "  010|"),
    ("%#d", 5, "5"),                 # no prefix in base 10
])
def test_integer_flags(f, arg, expected):
    assert fmt(f, arg) == expected


def test_hash_x_of_zero_is_0x0():
    # Linux prints the 0x prefix even for zero (ISO C prints "0").
    assert fmt("%#x %#X %#lx", 0, 0, 0) == "0x0 0X0 0x0"


def test_hash_o_of_zero_is_single_zero():
    # need_pfx is set but the "0" prefix is only emitted for non-zero values.
    assert fmt("%#o|%#5o|%#05o", 0, 0, 0) == "0|    0|00000"


def test_precision_zero_of_zero_prints_digit():
    # ISO C prints nothing for "%.0d" of 0; Linux always prints the digit.
    assert fmt("[%.0d][%.0x][%.d]", 0, 0, 0) == "[0][0][0]"


def test_zeropad_is_not_disabled_by_precision():
    # ISO C ignores '0' when a precision is given; Linux does not.
    assert fmt("%08.3d", 5) == "00000005"
    assert fmt("%08.3x", 0xAB) == "000000ab"


def test_star_width_and_precision():
    assert fmt("%*d|", 6, 42) == "    42|"
    assert fmt("%-*d|", 6, 42) == "42    |"
    assert fmt("%.*d", 4, 7) == "0007"
    assert fmt("%*.*d|", 8, 4, 7) == "    0007|"


def test_star_negative_width_means_left():
    assert fmt("%*d|", -6, 42) == "42    |"
    assert fmt("%*d|", 0xFFFFFFFA, 42) == "42    |"   # int arg: low 32 bits


def test_star_negative_precision_is_zero():
    # Linux clamps a negative '*' precision to 0 (ISO C: "as if omitted").
    assert fmt("%.*d", -1, 0) == "0"
    assert fmt("[%.*s]", -1, STR, mem=Mem({STR: b"abc\0"})) == "[]"


def test_star_huge_width_is_clamped():
    out = fmt("%*d", 1 << 30, 1)
    assert len(out) == (1 << 23) - 1 and out.endswith(" 1")


def test_star_huge_precision_is_clamped():
    out = fmt("%.*d", 100000, 1)
    assert len(out) == (1 << 15) - 1 and out.endswith("01")


def test_width_from_digits_truncated_to_24_bits():
    # 16777218 == 2 + 2**24: the 24-bit bitfield keeps 2.
    assert fmt("%16777218d|", 1) == " 1|"


_PY_CHECK_FLAGS = ["", "-", "+", " ", "0", "#", "-+", "+0", " 0", "#0", "-#", "+ ", "-0"]
_PY_CHECK_WIDTH = ["", "1", "6", "12"]
_PY_CHECK_PREC = ["", ".0", ".1", ".5"]
_PY_CHECK_VALUES = [0, 1, 7, 8, 255, 1000, 65535, 123456789, 2147483647, -1, -8, -255, -2147483648]


@pytest.mark.parametrize("conv", ["d", "i", "u", "x", "X", "o"])
def test_integers_agree_with_python_formatting(conv):
    """Cross-check against Python's %-formatting for int-sized values.

    Python agrees with Linux on "%#x" of 0, "%.0d" of 0 and '0' with a
    precision.  Divergences handled here: Python's "0o" octal prefix, and
    Python honouring '+'/' ' for unsigned conversions (C and Linux only
    print a sign for signed conversions).
    """
    checked = 0
    for flags, width, prec, value in itertools.product(
            _PY_CHECK_FLAGS, _PY_CHECK_WIDTH, _PY_CHECK_PREC, _PY_CHECK_VALUES):
        if conv == "o" and "#" in flags:
            continue
        spec = "%" + flags + width + prec
        if conv in "di":
            py_value = value
        else:
            py_value = value & 0xFFFFFFFF
        py_conv = "d" if conv in "iu" else conv
        py_spec = spec if conv in "di" else spec.replace("+", "").replace(" ", "")
        expected = (py_spec + py_conv) % py_value
        assert fmt(spec + conv, value) == expected, (spec + conv, value)
        checked += 1
    assert checked > 1000


def test_octal_special_prefix():
    for value in (1, 8, 0o777):
        assert fmt("%#o", value) == "0" + format(value, "o")
        assert fmt("%#12o|", value) == ("0" + format(value, "o")).rjust(12) + "|"


# ---------------------------------------------------------------------------
# %c
# ---------------------------------------------------------------------------

def test_char():
    assert fmt("%c%c%c", ord("a"), ord("b"), 0x141) == "abA"


def test_char_width():
    assert fmt("[%5c][%-5c][%05c]", ord("x"), ord("y"), ord("z")) == "[    x][y    ][    z]"


def test_char_nul_is_emitted():
    assert fmt("a%cb", 0) == "a\0b"


def test_char_star_width_consumes_arg():
    assert fmt("%*c|%d", 3, ord("q"), 9) == "  q|9"


# ---------------------------------------------------------------------------
# %s
# ---------------------------------------------------------------------------

@pytest.fixture
def smem():
    return Mem({STR: b"hello\0junk\0", DATA: b"abcdefgh" * 64 + b"\0"})


@pytest.mark.parametrize("f,expected", [
    ("%s", "hello"),
    ("[%10s]", "[     hello]"),
    ("[%-10s]", "[hello     ]"),
    ("[%.2s]", "[he]"),
    ("[%10.2s]", "[        he]"),
    ("[%-10.2s]", "[he        ]"),
    ("[%.0s]", "[]"),
    ("[%.s]", "[hello]"),        # '.' without digits leaves precision at -1
    ("[%3s]", "[hello]"),
    ("[%010s]", "[     hello]"),  # '0' does not zero pad strings
])
def test_string_width_precision(smem, f, expected):
    assert fmt(f, STR, mem=smem) == expected


def test_string_agrees_with_python(smem):
    for width, prec, left in itertools.product(["", "1", "5", "9"], ["", ".0", ".3", ".9"], ["", "-"]):
        spec = "%" + left + width + prec + "s"
        assert fmt(spec, STR, mem=smem) == spec % "hello", spec


def test_string_star(smem):
    assert fmt("[%*.*s]", 6, 3, STR, mem=smem) == "[   hel]"


def test_long_string(smem):
    assert fmt("%s", DATA, mem=smem) == "abcdefgh" * 64


def test_null_string():
    assert fmt("%s", NULL) == "(null)"
    assert fmt("[%10s]", NULL) == "[    (null)]"
    assert fmt("[%-8s]", NULL) == "[(null)  ]"
    assert fmt("[%.3s]", NULL) == "[(nu]"


def test_efault_strings():
    assert fmt("%s", 0x10) == "(efault)"
    assert fmt("%s", 0xFFF) == "(efault)"
    assert fmt("%s", ERR_ENOMEM) == "(efault)"
    assert fmt("%s", -4095 & MASK64) == "(efault)"


def test_just_below_err_range_is_read():
    addr = (-4096) & MASK64
    assert fmt("%s", addr, mem=Mem({addr: b"ok\0"})) == "ok"


def test_string_fault_mid_string_stops():
    base = 0x10000
    mem = Mem({base: b"partial"})          # no NUL, next byte unmapped
    assert fmt("[%s]", base, mem=mem) == "[partial]"
    assert fmt("[%10s]", base, mem=mem) == "[   partial]"


def test_string_unmapped_pointer_prints_empty():
    assert fmt("[%s]", 0x123456000) == "[]"


def test_string_precision_bounds_the_read():
    base = 0x20000
    reads = []

    class Tracking(Mem):
        def read(self, addr, size):
            reads.append((addr, size))
            return super().read(addr, size)

    mem = Tracking({base: b"abcdef"})      # no NUL at all
    assert fmt("%.4s", base, mem=mem) == "abcd"
    assert all(addr + size <= base + 4 for addr, size in reads)


def test_string_chunk_crossing_into_unmapped_memory():
    base = 0x30000 - 3
    mem = Mem({base: b"xyz"})              # crosses a 256-byte boundary into unmapped
    assert fmt("%s!", base, mem=mem) == "xyz!"


# ---------------------------------------------------------------------------
# %p: hashing, %px, %pK, NULL/ERR, unknown extensions
# ---------------------------------------------------------------------------

def test_siphash_reference_vector():
    # SipHash-2-4 reference: key 00..0f, message 00..07.
    key = (0x0706050403020100, 0x0F0E0D0C0B0A0908)
    assert vs.siphash_1u64(0x0706050403020100, key) == 0x93F5F5799A932462


def test_plain_p_is_hashed():
    ptr = 0xFFFF888012345678
    out = fmt("%p", ptr)
    assert out == hashed(ptr)
    assert len(out) == 16 and out.startswith("00000000")
    assert out != "%016x" % ptr


def test_p_hash_is_deterministic_and_distinct():
    a, b = 0xFFFF888000001000, 0xFFFF888000002000
    assert fmt("%p", a) == fmt("%p", a)
    assert fmt("%p", a) != fmt("%p", b)


def test_p_null_and_err_are_not_hashed():
    # Linux 6.1 ptr_to_id(): IS_ERR_OR_NULL pointers are printed as-is.
    assert fmt("%p", NULL) == "0000000000000000"
    assert fmt("%p", ERR_ENOMEM) == "fffffffffffffff4"


def test_p_width_and_flags():
    ptr = 0xFFFF888012345678
    h = hashed(ptr).lstrip("0")
    assert fmt("[%20p]", ptr) == "[" + h.rjust(20) + "]"
    assert fmt("[%-20p]", ptr) == "[" + h.ljust(20) + "]"


def test_px():
    assert fmt("%px", 0xFFFF888012345678) == "ffff888012345678"
    assert fmt("%px", 0x1234) == "0000000000001234"
    assert fmt("%px", NULL) == "0000000000000000"


def test_pK_defaults_to_hashed():
    ptr = 0xFFFF888012345678
    assert fmt("%pK", ptr) == hashed(ptr)


def test_pK_restricted(monkeypatch):
    monkeypatch.setattr(vs, "KPTR_RESTRICT", 2)
    assert fmt("%pK", 0xFFFF888012345678) == "0000000000000000"


def test_no_hash_pointers(monkeypatch):
    monkeypatch.setattr(vs, "NO_HASH_POINTERS", True)
    assert fmt("%p", 0xFFFF888012345678) == "ffff888012345678"


def test_unknown_extension_is_hashed_and_alnum_suffix_skipped():
    ptr = 0xFFFF888012345678
    assert fmt("%pQxyz9!", ptr) == hashed(ptr) + "!"
    assert fmt("%p-%p", ptr, ptr) == hashed(ptr) + "-" + hashed(ptr)


def test_pF_is_not_a_symbol_in_61():
    ptr = 0xFFFFFFFF81000010
    sym = Sym([(0xFFFFFFFF81000000, 0x40, "start_kernel", None)])
    assert fmt("%pF", ptr, sym=sym) == hashed(ptr)
    assert fmt("%pf", ptr, sym=sym) == "(%pf?)"


def test_legacy_pF(monkeypatch):
    monkeypatch.setattr(vs, "LEGACY_PF_SYMBOLS", True)
    sym = Sym([(0xFFFFFFFF81000000, 0x40, "start_kernel", None)])
    assert fmt("%pF %pf", 0xFFFFFFFF81000010, 0xFFFFFFFF81000010, sym=sym) == \
        "start_kernel+0x10/0x40 start_kernel"


# ---------------------------------------------------------------------------
# %pS family
# ---------------------------------------------------------------------------

SYMS = Sym([
    (0xFFFFFFFF81000000, 0x40, "start_kernel", None),
    (0xFFFFFFFFC0001000, 0x80, "my_init", "hello"),
])


@pytest.mark.parametrize("f,ptr,expected", [
    ("%pS", 0xFFFFFFFF81000010, "start_kernel+0x10/0x40"),
    ("%pS", 0xFFFFFFFF81000000, "start_kernel+0x0/0x40"),
    ("%ps", 0xFFFFFFFF81000010, "start_kernel"),
    ("%pSR", 0xFFFFFFFF81000010, "start_kernel+0x10/0x40"),
    ("%pSb", 0xFFFFFFFF81000010, "start_kernel+0x10/0x40"),
    ("%pS", 0xFFFFFFFFC0001024, "my_init+0x24/0x80 [hello]"),
    ("%ps", 0xFFFFFFFFC0001024, "my_init [hello]"),
    ("%pS", 0xFFFFFFFF90000000, "0xffffffff90000000"),
    ("%ps", 0xFFFFFFFF90000000, "0xffffffff90000000"),
    ("%pS", NULL, "0x0"),
    # %pB looks up address-1 and adds the 1 back to the offset:
    ("%pB", 0xFFFFFFFF81000040, "start_kernel+0x40/0x40"),
    ("%pB", 0xFFFFFFFF81000000, "0xffffffff81000000"),
    ("[%30pS]", 0xFFFFFFFF81000010, "[        start_kernel+0x10/0x40]"),
    ("[%.5ps]", 0xFFFFFFFF81000010, "[start]"),
])
def test_symbols(f, ptr, expected):
    assert fmt(f, ptr, sym=SYMS) == expected


def test_symbol_without_symbolizer():
    assert fmt("%pS", 0xFFFFFFFF81000010) == "0xffffffff81000010"


# ---------------------------------------------------------------------------
# %pe
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("err,expected", [
    (-12, "-ENOMEM"), (-22, "-EINVAL"), (-1, "-EPERM"), (-11, "-EAGAIN"),
    (-95, "-EOPNOTSUPP"), (-517, "-EPROBE_DEFER"), (-524, "-ENOTSUPP"),
    (-512, "-ERESTARTSYS"), (-41, "-41"), (-520, "-520"), (-4095, "-4095"),
])
def test_pe(err, expected):
    assert fmt("%pe", err & MASK64) == expected


def test_pe_width_and_non_error():
    assert fmt("[%10pe]", -12 & MASK64) == "[   -ENOMEM]"
    assert fmt("%pe", NULL) == "0000000000000000"
    ptr = 0xFFFF888012345678
    assert fmt("%pe", ptr) == hashed(ptr)


def test_errname_table_matches_host_errno():
    assert vs.errname(-2) == "-ENOENT" and vs.errname(2) == "ENOENT"
    for num, name in vs._ERRNO_NAMES.items():
        if num < 512 and hasattr(errno, name):
            assert getattr(errno, name) == num, name


# ---------------------------------------------------------------------------
# MAC, IPv4, IPv6, sockaddr
# ---------------------------------------------------------------------------

MAC = bytes([0x00, 0x1B, 0x21, 0x3A, 0x4B, 0xFC])


@pytest.mark.parametrize("f,expected", [
    ("%pM", "00:1b:21:3a:4b:fc"),
    ("%pMR", "fc:4b:3a:21:1b:00"),
    ("%pMF", "00-1b-21-3a-4b-fc"),
    ("%pm", "001b213a4bfc"),
    ("%pmR", "fc4b3a211b00"),
    ("[%20pM]", "[   00:1b:21:3a:4b:fc]"),
])
def test_mac(f, expected):
    assert fmt(f, DATA, mem=Mem({DATA: MAC})) == expected


def test_mac_null_and_fault():
    assert fmt("%pM", NULL) == "(null)"
    assert fmt("%pM", 0x7000000) == "(efault)"


@pytest.mark.parametrize("f,expected", [
    ("%pI4", "10.0.2.15"),
    ("%pi4", "010.000.002.015"),
    ("%pI4h", "15.2.0.10"),
    ("%pI4l", "15.2.0.10"),
    ("%pI4n", "10.0.2.15"),
    ("[%-12pI4]", "[10.0.2.15   ]"),
    ("%pI", "(%pI?)"),
    ("%pi5", "(%pi?)"),
])
def test_ipv4(f, expected):
    assert fmt(f, DATA, mem=Mem({DATA: bytes([10, 0, 2, 15])})) == expected


def _ip6(text):
    import ipaddress
    return ipaddress.IPv6Address(text).packed


@pytest.mark.parametrize("addr,expected", [
    ("2001:db8::1", "2001:db8::1"),
    ("::1", "::1"),
    ("::", "::"),
    ("fe80::", "fe80::"),
    ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),   # single 0 not compressed
    ("2001:0:0:1::1", "2001:0:0:1::1"),                 # first longest run wins
    ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
    ("fe80::5efe:c000:201", "fe80::5efe:192.0.2.1"),     # ISATAP
    ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
])
def test_ipv6_compressed(addr, expected):
    assert fmt("%pI6c", DATA, mem=Mem({DATA: _ip6(addr)})) == expected


def test_ipv6_full_forms():
    mem = Mem({DATA: _ip6("2001:db8::1")})
    assert fmt("%pI6", DATA, mem=mem) == "2001:0db8:0000:0000:0000:0000:0000:0001"
    assert fmt("%pi6", DATA, mem=mem) == "20010db8000000000000000000000001"


def test_sockaddr_in():
    sa = struct.pack("<H", 2) + struct.pack(">H", 8080) + bytes([192, 168, 1, 2]) + b"\0" * 8
    mem = Mem({DATA: sa})
    assert fmt("%pIS", DATA, mem=mem) == "192.168.1.2"
    assert fmt("%pISp", DATA, mem=mem) == "192.168.1.2:8080"
    assert fmt("%piSp", DATA, mem=mem) == "192.168.001.002:8080"


def test_sockaddr_in6():
    sa = (struct.pack("<H", 10) + struct.pack(">H", 443) + struct.pack(">I", 0x12345)
          + _ip6("fe80::1") + struct.pack("<I", 3))
    mem = Mem({DATA: sa})
    assert fmt("%pISc", DATA, mem=mem) == "fe80::1"
    assert fmt("%pISpc", DATA, mem=mem) == "[fe80::1]:443"
    assert fmt("%pISpfsc", DATA, mem=mem) == "[fe80::1]:443/74565%3"


def test_sockaddr_bad_family():
    assert fmt("%pISp", DATA, mem=Mem({DATA: b"\x07\0" + b"\0" * 30})) == "(einval)"


# ---------------------------------------------------------------------------
# %pU, %ph, %pa, %pE, %pV, %pd/%pD, %pt, %p4cc, %pb, %pR, %pN
# ---------------------------------------------------------------------------

UUID = bytes(range(0x10, 0x20))


@pytest.mark.parametrize("f,expected", [
    ("%pU", "10111213-1415-1617-1819-1a1b1c1d1e1f"),
    ("%pUb", "10111213-1415-1617-1819-1a1b1c1d1e1f"),
    ("%pUB", "10111213-1415-1617-1819-1A1B1C1D1E1F"),
    ("%pUl", "13121110-1514-1716-1819-1a1b1c1d1e1f"),
    ("%pUL", "13121110-1514-1716-1819-1A1B1C1D1E1F"),
])
def test_uuid(f, expected):
    assert fmt(f, DATA, mem=Mem({DATA: UUID})) == expected


HEX = bytes([0xDE, 0xAD, 0xBE, 0xEF, 0x01])


@pytest.mark.parametrize("f,args,expected", [
    ("%*ph", (4,), "de ad be ef"),
    ("%*phC", (4,), "de:ad:be:ef"),
    ("%*phD", (4,), "de-ad-be-ef"),
    ("%*phN", (5,), "deadbeef01"),
    ("%ph", (), "de"),                 # no width: one byte
    ("%3ph", (), "de ad be"),
    ("%-3ph", (), "de ad be"),
    ("%*ph", (-2,), "de ad"),          # negative '*' width -> LEFT, abs value
    ("[%*ph]", (0,), "[]"),
    ("%0ph", (), "de"),                # '0' is a flag, not a width
])
def test_hex_string(f, args, expected):
    assert fmt(f, *args, DATA, mem=Mem({DATA: HEX})) == expected


def test_hex_string_capped_at_64_bytes():
    mem = Mem({DATA: bytes(range(100))})
    out = fmt("%*phN", 100, DATA, mem=mem)
    assert out == bytes(range(64)).hex()


def test_hex_string_null_and_fault():
    assert fmt("%*ph", 4, NULL) == "(null)"
    assert fmt("%*ph", 8, DATA, mem=Mem({DATA: b"\1\2"})) == "(efault)"


def test_address_val():
    mem = Mem({DATA: struct.pack("<Q", 0xFED00000), DATA + 8: struct.pack("<Q", 0x1234)})
    assert fmt("%pa", DATA, mem=mem) == "0x00000000fed00000"
    assert fmt("%pap", DATA, mem=mem) == "0x00000000fed00000"
    assert fmt("%pad", DATA + 8, mem=mem) == "0x0000000000001234"
    assert fmt("%pa", NULL) == "(null)"


def test_escaped_string():
    mem = Mem({DATA: b"a\n\x01\\\"\xe9 "})
    # default ESCAPE_ANY_NP: printable chars (incl. '\\', '"', Latin-1) pass
    assert fmt("%*pE", 7, DATA, mem=mem) == 'a\\n\\001\\"\xe9 '
    assert fmt("%*pEc", 7, DATA, mem=mem) == 'a\n\x01\\\\\\"\xe9 '
    assert fmt("%*pEo", 2, DATA, mem=mem) == "\\141\\012"
    assert fmt("%*pEh", 3, DATA, mem=mem) == "\\x61\\x0a\\x01"
    assert fmt("%*pEhp", 3, DATA, mem=mem) == "a\\x0a\\x01"
    assert fmt("%*pEs", 3, DATA, mem=mem) == "a\\n\x01"
    assert fmt("%pE", DATA, mem=mem) == "a"
    assert fmt("[%*pE]", 0, DATA, mem=mem) == "[]"


def test_va_format_hook():
    seen = []

    def hook(ptr):
        seen.append(ptr)
        return b"inner 42"

    assert fmt("<%pV>", DATA, va=hook) == "<inner 42>"
    assert seen == [DATA]
    assert fmt("<%pV>", NULL, va=hook) == "<(null)>"


def test_va_format_without_hook_prints_raw_format():
    mem = Mem({DATA: struct.pack("<QQ", STR, 0), STR: b"raw %d\0"})
    assert fmt("%pV", DATA, mem=mem) == "raw %d"


def _dentry_mem():
    """root '/' <- 'usr' <- 'lib' dentries using the 6.1 x86_64 layout."""
    mem = Mem()
    root, usr, lib = 0x100000, 0x101000, 0x102000
    for d, parent, name, name_addr in ((root, root, b"/", 0x200000),
                                       (usr, root, b"usr", 0x200100),
                                       (lib, usr, b"lib", 0x200200)):
        blob = bytearray(64)
        blob[vs.DENTRY_D_PARENT_OFFSET:vs.DENTRY_D_PARENT_OFFSET + 8] = struct.pack("<Q", parent)
        blob[vs.DENTRY_D_NAME_NAME_OFFSET:vs.DENTRY_D_NAME_NAME_OFFSET + 8] = struct.pack("<Q", name_addr)
        mem.map(d, blob)
        mem.map(name_addr, name + b"\0")
    filp = bytearray(64)
    filp[vs.FILE_F_PATH_DENTRY_OFFSET:vs.FILE_F_PATH_DENTRY_OFFSET + 8] = struct.pack("<Q", lib)
    mem.map(0x300000, filp)
    return mem, root, usr, lib, 0x300000


def test_dentry_names():
    mem, root, usr, lib, filp = _dentry_mem()
    assert fmt("%pd", lib, mem=mem) == "lib"
    assert fmt("%pd2", lib, mem=mem) == "usr/lib"
    assert fmt("%pd3", lib, mem=mem) == "/usr/lib"
    assert fmt("%pd4", lib, mem=mem) == "/usr/lib"
    assert fmt("%pd", root, mem=mem) == "/"
    assert fmt("[%-10pd2]", lib, mem=mem) == "[usr/lib   ]"
    assert fmt("[%.5pd2]", lib, mem=mem) == "[usr/l]"
    assert fmt("%pD2", filp, mem=mem) == "usr/lib"
    assert fmt("%pd", NULL) == "(null)"
    assert fmt("%pD", NULL) == "(null)"


def test_time_and_date():
    # struct rtc_time: sec, min, hour, mday, mon, year, wday, yday, isdst
    tm = struct.pack("<9i", 5, 4, 3, 2, 0, 123, 0, 0, 0)
    mem = Mem({DATA: tm, STR: struct.pack("<q", 1700000000)})
    assert fmt("%ptR", DATA, mem=mem) == "2023-01-02T03:04:05"
    assert fmt("%ptRs", DATA, mem=mem) == "2023-01-02 03:04:05"
    assert fmt("%ptRd", DATA, mem=mem) == "2023-01-02"
    assert fmt("%ptRt", DATA, mem=mem) == "03:04:05"
    assert fmt("%ptRr", DATA, mem=mem) == "0123-00-02T03:04:05"
    assert fmt("%ptT", STR, mem=mem) == "2023-11-14T22:13:20"
    assert fmt("%ptTd", STR, mem=mem) == "2023-11-14"
    assert fmt("%ptX", DATA, mem=mem) == "(%pt?)"


def test_time64_negative():
    mem = Mem({STR: struct.pack("<q", -1)})
    assert fmt("%ptT", STR, mem=mem) == "1969-12-31T23:59:59"


def test_fourcc():
    mem = Mem({DATA: b"NV12", STR: struct.pack("<I", 0x80000000 | 0x3231564E)})
    assert fmt("%p4cc", DATA, mem=mem) == "NV12 little-endian (0x3231564e)"
    assert fmt("%p4cc", STR, mem=mem) == "NV12 big-endian (0xb231564e)"
    assert fmt("%p4", DATA, mem=mem) == "(%p4?)"


def test_bitmaps():
    mem = Mem({DATA: struct.pack("<QQ", 0x800000000000000F | (1 << 40), 0x3)})
    assert fmt("%*pbl", 66, DATA, mem=mem) == "0-3,40,63-65"
    assert fmt("%*pb", 66, DATA, mem=mem) == "3,80000100,0000000f"
    assert fmt("%*pb", 8, DATA, mem=mem) == "0f"
    assert fmt("[%*pb]", 0, DATA, mem=mem) == "[]"
    assert fmt("%*pbl", 2, DATA, mem=mem) == "0-1"


def test_resources():
    res = struct.pack("<QQQQ", 0xFED00000, 0xFED003FF, 0, 0x200 | 0x2000)
    io = struct.pack("<QQQQ", 0x3F8, 0x3FF, 0, 0x100)
    irq = struct.pack("<QQQQ", 4, 4, 0, 0x400)
    mem = Mem({DATA: res, DATA + 0x100: io, DATA + 0x200: irq})
    assert fmt("%pR", DATA, mem=mem) == "[mem 0xfed00000-0xfed003ff pref]"
    assert fmt("%pr", DATA, mem=mem) == "[mem 0xfed00000-0xfed003ff flags 0x2200]"
    assert fmt("%pR", DATA + 0x100, mem=mem) == "[io  0x03f8-0x03ff]"
    assert fmt("%pR", DATA + 0x200, mem=mem) == "[irq 4]"


def test_netdev_features():
    mem = Mem({DATA: struct.pack("<Q", 0x1234)})
    assert fmt("%pNF", DATA, mem=mem) == "0x0000000000001234"
    assert fmt("%pN", DATA, mem=mem) == "(%pN?)"


def test_error_string_extensions():
    assert fmt("%pOF", DATA) == "(%pOF?)"
    assert fmt("%pO", DATA) == "(%pO?)"
    assert fmt("%pA", DATA) == "(%pA?)"
    assert fmt("%pGx", DATA) == "(%pG?)"
    assert fmt("%pkx", DATA) == "(einval)"


def test_pks_reads_string():
    assert fmt("%pks|%pus", STR, STR, mem=Mem({STR: b"kstr\0"})) == "kstr|kstr"


def test_unsupported_object_extensions_check_pointer_then_hash():
    assert fmt("%pg", NULL) == "(null)"
    assert fmt("%pC", DATA) == hashed(DATA)


# ---------------------------------------------------------------------------
# A realistic mixed printk line
# ---------------------------------------------------------------------------

def test_mixed_line():
    mem = Mem({STR: b"eth0\0", DATA: MAC})
    out = fmt("%s: link up, %u Mbps, mac %pM, irq %d, flags %#06x, %-6s|\n",
              STR, 1000, DATA, 11, 0x41, STR, mem=mem)
    assert out == "eth0: link up, 1000 Mbps, mac 00:1b:21:3a:4b:fc, irq 11, flags 0x0041, eth0  |\n"
