"""Parsing of C prototypes that declare kernel exports.

A stub is declared once by its prototype, e.g.
``void *__kmalloc(size_t size, gfp_t flags)``; the parsed :class:`Prototype`
alone decides how each argument is read from the x86_64 System V registers and
how the Python return value is truncated into RAX.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Integer types of the x86_64 kernel ABI: name -> (size in bytes, signed).
# char is signed on x86 in Linux 6.1 (-funsigned-char came with 6.2).
_BASE_TYPES = {
    "char": (1, True), "signed char": (1, True), "unsigned char": (1, False),
    "short": (2, True), "short int": (2, True), "signed short": (2, True),
    "unsigned short": (2, False), "unsigned short int": (2, False),
    "int": (4, True), "signed": (4, True), "signed int": (4, True),
    "unsigned": (4, False), "unsigned int": (4, False),
    "long": (8, True), "long int": (8, True), "signed long": (8, True),
    "unsigned long": (8, False), "unsigned long int": (8, False),
    "long long": (8, True), "long long int": (8, True), "signed long long": (8, True),
    "unsigned long long": (8, False), "unsigned long long int": (8, False),
    "_Bool": (1, False), "bool": (1, False),
}

# Kernel typedefs that are integers (include/linux/types.h, uapi/asm-generic/*).
_TYPEDEFS = {
    "u8": "unsigned char", "__u8": "unsigned char", "s8": "signed char", "__s8": "signed char",
    "u16": "unsigned short", "__u16": "unsigned short", "__le16": "unsigned short",
    "__be16": "unsigned short", "s16": "short", "__s16": "short",
    "u32": "unsigned int", "__u32": "unsigned int", "__le32": "unsigned int",
    "__be32": "unsigned int", "s32": "int", "__s32": "int", "__wsum": "unsigned int",
    "u64": "unsigned long long", "__u64": "unsigned long long", "__le64": "unsigned long long",
    "__be64": "unsigned long long", "s64": "long long", "__s64": "long long",
    "uint8_t": "unsigned char", "uint16_t": "unsigned short", "uint32_t": "unsigned int",
    "uint64_t": "unsigned long long", "int8_t": "signed char", "int16_t": "short",
    "int32_t": "int", "int64_t": "long long",
    "pgoff_t": "unsigned long", "size_t": "unsigned long", "ssize_t": "long", "ptrdiff_t": "long",
    "uintptr_t": "unsigned long", "intptr_t": "long",
    "loff_t": "long long", "off_t": "long", "time64_t": "long long", "ktime_t": "long long",
    "gfp_t": "unsigned int", "slab_flags_t": "unsigned int", "fmode_t": "unsigned int",
    "umode_t": "unsigned short", "dev_t": "unsigned int", "pid_t": "int",
    "uid_t": "unsigned int", "gid_t": "unsigned int", "kuid_t": "unsigned int",
    "kgid_t": "unsigned int", "phys_addr_t": "unsigned long long",
    "dma_addr_t": "unsigned long long", "resource_size_t": "unsigned long long",
    "sector_t": "unsigned long long", "blkcnt_t": "unsigned long long",
    "atomic_t": "int", "atomic_long_t": "long", "atomic64_t": "long long",
    "irqreturn_t": "int", "netdev_tx_t": "int", "__sum16": "unsigned short",
    # struct { pgprotval_t pgprot; }: one INTEGER eightbyte, passed and returned in a register
    "pgprot_t": "unsigned long",
    "nf_hookfn": "void", "wait_queue_entry_t": "void", "poll_table": "void",
"spinlock_t": "void", "raw_spinlock_t": "void", "rwlock_t": "void",
    "wait_queue_head_t": "void", "cpumask_t": "void", "seqlock_t": "void",
    "__poll_t": "unsigned int", "unsigned": "unsigned int", "clockid_t": "int",
    "key_serial_t": "int", "percpu_ref_func_t": "void", "irq_handler_t": "void",
    "work_func_t": "void", "cpumask_var_t": "void",
    "gro_result_t": "int", "rx_handler_func_t": "void", "blk_status_t": "unsigned char",
    "bsg_sg_io_fn": "void", "speed_t": "unsigned int", "bsg_job_fn": "void", "bsg_timeout_fn": "void", "async_cookie_t": "unsigned long long",
    "blk_opf_t": "unsigned int", "blk_mq_req_flags_t": "unsigned int",
}

# Typedefs that are pointers when passed (va_list is an array type and decays).
_POINTER_TYPEDEFS = {"va_list"}

_QUALIFIERS = {"const", "volatile", "__user", "__iomem", "__percpu", "__rcu", "restrict",
               "__restrict", "__force", "__must_check", "extern", "static", "inline",
               "__always_inline", "notrace", "asmlinkage", "__printf", "__cold", "__init",
               "__exit", "__noreturn", "__malloc"}


# Small structs a function may return by value: System V returns an aggregate of at most
# 16 bytes whose eightbytes are all of INTEGER class in RAX (and RDX for the second).
# Only listed types are accepted, and only as return types; name -> size in bytes.
_RETURNED_STRUCTS = {
    "struct timespec64": 16,          # { time64_t tv_sec; long tv_nsec; }: current_time()
}


class PrototypeError(ValueError):
    """A prototype that kemu cannot turn into a calling convention."""


@dataclass(frozen=True)
class CType:
    """One scalar C type as the ABI sees it: void, a pointer, or an integer."""
    spelling: str
    size: int          # 0 for void
    signed: bool
    pointer: bool
    aggregate: bool = False   # a small struct returned in RAX:RDX (_RETURNED_STRUCTS)

    @property
    def is_void(self) -> bool:
        """True for a plain ``void`` (no value)."""
        return self.size == 0

    def from_raw(self, raw: int) -> int:
        """Interpret a raw 64-bit register as a value of this type."""
        if self.pointer or self.size == 8 and not self.signed:
            return raw & 0xFFFFFFFFFFFFFFFF
        bits = self.size * 8
        raw &= (1 << bits) - 1
        if self.signed and raw >> (bits - 1):
            raw -= 1 << bits
        return raw

    def to_raw(self, value) -> int:
        """Encode a Python value of this type as the 64-bit RAX contents."""
        if value is None:
            return 0
        if self.aggregate:
            return self._aggregate_to_raw(value)
        if isinstance(value, bool) or self.spelling in ("_Bool", "bool"):
            return 1 if value else 0
        value = int(value)
        if self.pointer:
            return value & 0xFFFFFFFFFFFFFFFF
        bits = self.size * 8
        value &= (1 << bits) - 1
        if self.signed and value >> (bits - 1):      # sign-extend into RAX as gcc would
            value |= ((1 << 64) - 1) ^ ((1 << bits) - 1)
        return value


    def _aggregate_to_raw(self, value) -> int:
        """The struct's image (bytes, or a tuple of its eightbytes) as one RDX:RAX integer."""
        if isinstance(value, (bytes, bytearray)):
            if len(value) > self.size:
                raise ValueError(f"{len(value)} bytes returned for {self.spelling}")
            return int.from_bytes(bytes(value).ljust(self.size, b"\0"), "little")
        words = list(value)
        if len(words) * 8 > max(self.size, 8):
            raise ValueError(f"{len(words)} eightbytes returned for {self.spelling}")
        return sum((int(w) & 0xFFFFFFFFFFFFFFFF) << (64 * i) for i, w in enumerate(words))


@dataclass(frozen=True)
class Param:
    """One named parameter of a prototype."""
    name: str
    ctype: CType


@dataclass(frozen=True)
class Prototype:
    """A parsed C function prototype."""
    name: str
    ret: CType
    params: tuple
    variadic: bool
    text: str

    def num_params(self) -> int:
        """Number of fixed (named) parameters."""
        return len(self.params)


_PROTO_RE = re.compile(r"^\s*(?P<head>[^()]*?)\s*\(\s*(?P<args>.*)\)\s*;?\s*$", re.S)
_IDENT = re.compile(r"[A-Za-z_]\w*$")


def _strip_attributes(text: str) -> str:
    # __printf(1, 2), __attribute__((...)), __aligned(8): not part of the ABI
    text = re.sub(r"__attribute__\s*\(\(.*?\)\)", " ", text)
    text = re.sub(r"\b__(printf|scanf|aligned|alloc_size|malloc)\s*\([^)]*\)", " ", text)
    return text


def parse_type(spelling: str, returned: bool = False) -> CType:
    """Parse a type spelling such as ``const char *`` or ``unsigned long``.

    With ``returned``, a struct of :data:`_RETURNED_STRUCTS` is accepted too
    (a function's return type: the struct comes back in RAX:RDX).
    """
    text = " ".join(spelling.replace("*", " * ").split())
    stars = text.count("*")
    words = [w for w in text.replace("*", " ").split() if w not in _QUALIFIERS]
    if not words:
        raise PrototypeError(f"no type in {spelling!r}")
    if stars or words[0] in _POINTER_TYPEDEFS:
        return CType(" ".join(words) + " " + "*" * stars, 8, False, True)
    if words[0] == "enum":
        return CType(" ".join(words), 4, False, False)
    if words[0] in ("struct", "union"):
        if returned and " ".join(words) in _RETURNED_STRUCTS:
            return CType(" ".join(words), _RETURNED_STRUCTS[" ".join(words)], False, False, True)
        raise PrototypeError(f"aggregate passed by value is not supported: {spelling!r}")
    name = " ".join(words)
    if name == "void":
        return CType("void", 0, False, False)
    seen = set()
    while name in _TYPEDEFS and name not in seen:
        seen.add(name)
        name = _TYPEDEFS[name]
        if name == "void":
            raise PrototypeError(f"{spelling!r} is not a scalar; pass it by pointer")
    if name not in _BASE_TYPES:
        raise PrototypeError(f"unknown type {spelling!r} (add it to kemu.abi.cproto._TYPEDEFS)")
    size, signed = _BASE_TYPES[name]
    return CType(" ".join(words), size, signed, False)


def _split_decl(decl: str):
    """Split ``const char *fmt`` into (type spelling, name)."""
    decl = decl.strip()
    # function pointer parameter: int (*fn)(void *)
    m = re.match(r"^(?P<ret>.*?)\(\s*\*\s*(?P<name>\w*)\s*\)\s*\(.*\)$", decl, re.S)
    if m:
        return "void *", m.group("name") or "fn"
    m = re.match(r"^(?P<type>.*?)(?P<name>[A-Za-z_]\w*)\s*(\[\s*\w*\s*\])?$", decl, re.S)
    if m and m.group("type").strip() and m.group("type").strip() not in ("struct", "union", "enum") \
            and not m.group("type").strip().endswith(("struct", "union", "enum")):
        typ = m.group("type") + (" *" if m.group(3) else "")
        words = typ.replace("*", " ").split()
        if words and all(w in _QUALIFIERS for w in words):
            return decl, ""          # a bare type like "unsigned" with qualifiers only
        if m.group("name") in _BASE_TYPES or m.group("name") in _TYPEDEFS or m.group("name") in (
                "int", "long", "char", "short", "void", "unsigned", "signed"):
            return decl, ""          # no parameter name was given
        return typ, m.group("name")
    return decl, ""


def _split_args(args: str):
    depth, cur, out = 0, [], []
    for ch in args:
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur))
    return out


def parse_prototype(text: str) -> Prototype:
    """Parse one C function prototype into a :class:`Prototype`.

    Raises :class:`PrototypeError` for anything that is not a plain function
    declaration with scalar (integer or pointer) parameters and return value
    (or a small struct return value listed in :data:`_RETURNED_STRUCTS`).
    """
    src = _strip_attributes(text)
    m = _PROTO_RE.match(src)
    if not m:
        raise PrototypeError(f"not a function prototype: {text!r}")
    head = m.group("head")
    hm = re.match(r"^(?P<ret>.*?)(?P<name>[A-Za-z_]\w*)$", head.strip(), re.S)
    if not hm or not hm.group("ret").strip():
        raise PrototypeError(f"prototype needs a return type and a name: {text!r}")
    ret = parse_type(hm.group("ret"), returned=True)
    params, variadic = [], False
    parts = [p.strip() for p in _split_args(m.group("args"))]
    if parts in ([], ["void"]):
        parts = []
    for i, part in enumerate(parts):
        if part == "...":
            if i != len(parts) - 1:
                raise PrototypeError(f"'...' must be last: {text!r}")
            variadic = True
            continue
        typ, name = _split_decl(part)
        ctype = parse_type(typ)
        if ctype.is_void:
            raise PrototypeError(f"void parameter in {text!r}")
        params.append(Param(name or f"arg{i}", ctype))
    return Prototype(hm.group("name"), ret, tuple(params), variadic, " ".join(text.split()))
