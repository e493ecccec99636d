"""lib/string.c and arch/x86/lib memory functions.

The most called of them also run as machine code inside the emulator
(``native=``: arch/x86/lib/memcpy_64.S's ``rep movsb`` and friends, and
byte loops with lib/string.c's results), so a module's string work never
leaves Unicorn; each Python model below stays the definition (the tracer runs
it, and the assembly leaves its rare paths to it). Left out: the
word-at-a-time reads of Linux's versions, which only change speed.
"""
import errno

from kemu import export

E2BIG = errno.E2BIG

# the native functions (x86_64, Intel syntax; arguments in rdi, rsi, rdx)
_MEMCPY = """
    mov rax, rdi
    mov rcx, rdx
    rep movsb
    ret
"""
_MEMMOVE = """
    mov rax, rdi
    mov rcx, rdx
    cmp rdi, rsi
    jbe forward
    lea r8, [rsi + rdx]
    cmp rdi, r8
    jae forward
    lea rsi, [rsi + rdx - 1]
    lea rdi, [rdi + rdx - 1]
    std
    rep movsb
    cld
    ret
forward:
    rep movsb
    ret
"""
_MEMSET = """
    mov r9, rdi
    mov eax, esi
    mov rcx, rdx
    rep stosb
    mov rax, r9
    ret
"""
_MEMCMP = """
    xor eax, eax
    test rdx, rdx
    je done
next:
    movzx eax, byte ptr [rdi]
    movzx ecx, byte ptr [rsi]
    sub eax, ecx
    jne done
    inc rdi
    inc rsi
    dec rdx
    jne next
done:
    ret
"""
_MEMCHR = """
    test rdx, rdx
    je none
next:
    cmp byte ptr [rdi], sil
    je found
    inc rdi
    dec rdx
    jne next
none:
    xor eax, eax
    ret
found:
    mov rax, rdi
    ret
"""
_STRNLEN = """
    xor eax, eax
next:
    cmp rax, rsi
    jae done
    cmp byte ptr [rdi + rax], 0
    je done
    inc rax
    jmp next
done:
    ret
"""
_STRLEN = "    mov rsi, -1\n" + _STRNLEN         # strnlen() with no bound
_STRNCMP = """
    test rdx, rdx
    je same
next:
    movzx eax, byte ptr [rdi]
    movzx ecx, byte ptr [rsi]
    cmp eax, ecx
    jne differ
    test eax, eax
    je same
    inc rdi
    inc rsi
    dec rdx
    jne next
same:
    xor eax, eax
    ret
differ:
    sbb eax, eax
    or eax, 1
    ret
"""
_STRCMP = "    mov rdx, -1\n" + _STRNCMP         # strncmp() with no bound
_STRCPY = """
    mov rax, rdi
next:
    mov cl, byte ptr [rsi]
    mov byte ptr [rdi], cl
    inc rsi
    inc rdi
    test cl, cl
    jne next
    ret
"""
_STRNCPY = """
    mov rax, rdi
    test rdx, rdx
    je done
next:
    mov cl, byte ptr [rsi]
    mov byte ptr [rdi], cl
    test cl, cl
    je pad
    inc rsi
pad:
    inc rdi
    dec rdx
    jne next
done:
    ret
"""
_STRSCPY = f"""
    test rdx, rdx
    je {{model}}
    bt rdx, 63
    jc {{model}}
    xor eax, eax
next:
    mov cl, byte ptr [rsi + rax]
    mov byte ptr [rdi + rax], cl
    test cl, cl
    je done
    inc rax
    cmp rax, rdx
    jb next
    mov byte ptr [rdi + rdx - 1], 0
    mov rax, {-E2BIG}
done:
    ret
"""
_STRCAT = """
    mov rax, rdi
end:
    cmp byte ptr [rdi], 0
    je copy
    inc rdi
    jmp end
copy:
    mov cl, byte ptr [rsi]
    mov byte ptr [rdi], cl
    inc rsi
    inc rdi
    test cl, cl
    jne copy
    ret
"""
_STRCHR = """
next:
    mov cl, byte ptr [rdi]
    cmp cl, sil
    je found
    test cl, cl
    je none
    inc rdi
    jmp next
found:
    mov rax, rdi
    ret
none:
    xor eax, eax
    ret
"""
_STRRCHR = """
    xor eax, eax
next:
    mov cl, byte ptr [rdi]
    cmp cl, sil
    jne other
    mov rax, rdi
other:
    test cl, cl
    je done
    inc rdi
    jmp next
done:
    ret
"""


def _cstr(k, addr, maxlen=1 << 24):
    return k.machine.read_cstr(addr, maxlen)


@export("void *__memcpy(void *dest, const void *src, size_t count)", native=_MEMCPY)
@export("void *memcpy(void *dest, const void *src, size_t count)", native=_MEMCPY)
def memcpy(k, dest, src, count):
    if count:
        k.machine.write(dest, k.machine.read(src, count))
    return dest


@export("void *__memmove(void *dest, const void *src, size_t count)", native=_MEMMOVE)
@export("void *memmove(void *dest, const void *src, size_t count)", native=_MEMMOVE)
def memmove(k, dest, src, count):
    return memcpy(k, dest, src, count)       # reads the whole source first


@export("void *__memset(void *s, int c, size_t count)", native=_MEMSET)
@export("void *memset(void *s, int c, size_t count)", native=_MEMSET)
def memset(k, s, c, count):
    if count:
        k.machine.fill(s, c, count)
    return s


@export("int bcmp(const void *a, const void *b, size_t len)", native=_MEMCMP)
@export("int memcmp(const void *cs, const void *ct, size_t count)", native=_MEMCMP)
def memcmp(k, cs, ct, count):
    a, b = k.machine.read(cs, count), k.machine.read(ct, count)
    for x, y in zip(a, b):
        if x != y:
            return x - y
    return 0


@export("void *memchr(const void *s, int c, size_t n)", native=_MEMCHR)
def memchr(k, s, c, n):
    pos = k.machine.read(s, n).find(bytes([c & 0xFF]))
    return s + pos if pos >= 0 else 0


@export("void *memchr_inv(const void *start, int c, size_t bytes)")
def memchr_inv(k, start, c, n):
    data = k.machine.read(start, n)
    for i, b in enumerate(data):
        if b != c & 0xFF:
            return start + i
    return 0


@export("void *memscan(void *addr, int c, size_t size)")
def memscan(k, addr, c, size):
    pos = k.machine.read(addr, size).find(bytes([c & 0xFF]))
    return addr + (pos if pos >= 0 else size)


@export("size_t strlen(const char *s)", native=_STRLEN)
def strlen(k, s):
    return len(_cstr(k, s))


@export("size_t strnlen(const char *s, size_t count)", native=_STRNLEN)
def strnlen(k, s, count):
    return len(_cstr(k, s, count))


def _cmp(a: bytes, b: bytes) -> int:
    for x, y in zip(a + b"\0", b + b"\0"):
        if x != y:
            return 1 if x > y else -1
        if x == 0:
            break
    return 0


@export("int strcmp(const char *cs, const char *ct)", native=_STRCMP)
def strcmp(k, cs, ct):
    return _cmp(_cstr(k, cs), _cstr(k, ct))


@export("int strncmp(const char *cs, const char *ct, size_t count)", native=_STRNCMP)
def strncmp(k, cs, ct, count):
    return _cmp(_cstr(k, cs, count)[:count], _cstr(k, ct, count)[:count])


@export("int strcasecmp(const char *s1, const char *s2)")
def strcasecmp(k, s1, s2):
    return _cmp(_cstr(k, s1).lower(), _cstr(k, s2).lower())


@export("int strncasecmp(const char *s1, const char *s2, size_t len)")
def strncasecmp(k, s1, s2, n):
    return _cmp(_cstr(k, s1, n).lower()[:n], _cstr(k, s2, n).lower()[:n])


@export("char *strcpy(char *dest, const char *src)", native=_STRCPY)
def strcpy(k, dest, src):
    k.machine.write(dest, _cstr(k, src) + b"\0")
    return dest


@export("char *strncpy(char *dest, const char *src, size_t count)", native=_STRNCPY)
def strncpy(k, dest, src, count):
    s = _cstr(k, src, count)
    k.machine.write(dest, s)
    if count > len(s):
        k.machine.fill(dest + len(s), 0, count - len(s))       # the NUL padding
    return dest


# 6.8 (strscpy() of two arguments): the export is sized_strscpy()
@export("ssize_t strscpy(char *dest, const char *src, size_t count)", until="6.8",
        native=_STRSCPY)
@export("ssize_t sized_strscpy(char *dest, const char *src, size_t count)", since="6.8",
        native=_STRSCPY)
def strscpy(k, dest, src, count):
    if count == 0 or count > 2**63:
        return -E2BIG
    s = _cstr(k, src, count)
    if len(s) >= count:
        k.machine.write(dest, s[:count - 1] + b"\0")
        return -E2BIG
    k.machine.write(dest, s + b"\0")
    return len(s)


@export("ssize_t strscpy_pad(char *dest, const char *src, size_t count)")
def strscpy_pad(k, dest, src, count):
    ret = strscpy(k, dest, src, count)
    written = count - 1 if ret < 0 else ret
    if count and written + 1 < count:
        k.machine.write(dest + written + 1, bytes(count - written - 1))
    return ret


@export("size_t strlcpy(char *dest, const char *src, size_t size)")
def strlcpy(k, dest, src, size):
    s = _cstr(k, src)
    if size:
        n = min(len(s), size - 1)
        k.machine.write(dest, s[:n] + b"\0")
    return len(s)


@export("char *strcat(char *dest, const char *src)", native=_STRCAT)
def strcat(k, dest, src):
    k.machine.write(dest + len(_cstr(k, dest)), _cstr(k, src) + b"\0")
    return dest


@export("char *strncat(char *dest, const char *src, size_t count)")
def strncat(k, dest, src, count):
    k.machine.write(dest + len(_cstr(k, dest)), _cstr(k, src, count)[:count] + b"\0")
    return dest


@export("size_t strlcat(char *dest, const char *src, size_t count)")
def strlcat(k, dest, src, count):
    d, s = _cstr(k, dest), _cstr(k, src)
    total = len(d) + len(s)
    if len(d) < count:
        n = min(len(s), count - len(d) - 1)
        k.machine.write(dest + len(d), s[:n] + b"\0")
    return total


@export("char *strchr(const char *s, int c)", native=_STRCHR)
def strchr(k, s, c):
    data = _cstr(k, s) + b"\0"
    pos = data.find(bytes([c & 0xFF]))
    return s + pos if pos >= 0 else 0


@export("char *strchrnul(const char *s, int c)")
def strchrnul(k, s, c):
    data = _cstr(k, s)
    pos = data.find(bytes([c & 0xFF]))
    return s + (pos if pos >= 0 else len(data))


@export("char *strnchr(const char *s, size_t count, int c)")
def strnchr(k, s, count, c):
    data = _cstr(k, s, count)[:count]
    pos = data.find(bytes([c & 0xFF]))
    return s + pos if pos >= 0 else 0


@export("char *strrchr(const char *s, int c)", native=_STRRCHR)
def strrchr(k, s, c):
    data = _cstr(k, s) + b"\0"
    pos = data.rfind(bytes([c & 0xFF]))
    return s + pos if pos >= 0 else 0


@export("char *strstr(const char *s1, const char *s2)")
def strstr(k, s1, s2):
    pos = _cstr(k, s1).find(_cstr(k, s2))
    return s1 + pos if pos >= 0 else 0


@export("char *strnstr(const char *s1, const char *s2, size_t len)")
def strnstr(k, s1, s2, n):
    pos = _cstr(k, s1, n)[:n].find(_cstr(k, s2))
    return s1 + pos if pos >= 0 else 0


@export("size_t strspn(const char *s, const char *accept)")
def strspn(k, s, accept):
    data, acc = _cstr(k, s), set(_cstr(k, accept))
    n = 0
    while n < len(data) and data[n] in acc:
        n += 1
    return n


@export("size_t strcspn(const char *s, const char *reject)")
def strcspn(k, s, reject):
    data, rej = _cstr(k, s), set(_cstr(k, reject))
    n = 0
    while n < len(data) and data[n] not in rej:
        n += 1
    return n


@export("char *strpbrk(const char *cs, const char *ct)")
def strpbrk(k, cs, ct):
    n = strcspn(k, cs, ct)
    return cs + n if n < len(_cstr(k, cs)) else 0


@export("char *strsep(char **s, const char *ct)")
def strsep(k, s, ct):
    m = k.machine
    sbegin = m.read_u64(s)
    if not sbegin:
        return 0
    data, delim = _cstr(k, sbegin), set(_cstr(k, ct))
    for i, ch in enumerate(data):
        if ch in delim:
            m.write_u8(sbegin + i, 0)
            m.write_u64(s, sbegin + i + 1)
            return sbegin
    m.write_u64(s, 0)
    return sbegin


_SPACES = b" \t\n\v\f\r"


@export("char *skip_spaces(const char *str)")
def skip_spaces(k, s):
    data = _cstr(k, s)
    return s + len(data) - len(data.lstrip(_SPACES))


@export("char *strim(char *s)")
def strim(k, s):
    data = _cstr(k, s)
    trimmed = data.rstrip(_SPACES)
    if len(trimmed) < len(data):
        k.machine.write_u8(s + len(trimmed), 0)
    return s + len(trimmed) - len(trimmed.lstrip(_SPACES))


@export("char *strreplace(char *s, char old, char new)")
def strreplace(k, s, old, new):
    data = _cstr(k, s)
    k.machine.write(s, data.replace(bytes([old & 0xFF]), bytes([new & 0xFF])))
    return s + len(data)


@export("int sysfs_streq(const char *s1, const char *s2)")
def sysfs_streq(k, s1, s2):
    a, b = _cstr(k, s1), _cstr(k, s2)
    return int(a.removesuffix(b"\n") == b.removesuffix(b"\n"))


@export("int match_string(const char * const *array, size_t n, const char *string)")
def match_string(k, array, n, string):
    target = _cstr(k, string)
    for i in range(n):
        item = k.machine.read_u64(array + 8 * i)
        if not item:
            break
        if _cstr(k, item) == target:
            return i
    return -errno.EINVAL


@export("int __sysfs_match_string(const char * const *array, size_t n, const char *str)")
def __sysfs_match_string(k, array, n, str_):
    """The index of the entry sysfs_streq() matches (``n`` == -1: up to a NULL), or
    -EINVAL."""
    target = _cstr(k, str_).removesuffix(b"\n")
    unbounded = n == (1 << 64) - 1
    i = 0
    while unbounded or i < n:
        item = k.machine.read_u64(array + 8 * i)
        if not item:
            if unbounded:
                break
        elif _cstr(k, item).removesuffix(b"\n") == target:
            return i
        i += 1
    return -errno.EINVAL
