"""lib/lzo/lzo1x_decompress_safe.c: the LZO1X (and LZO-RLE) decompressor, ported.

The same checks in the same order (input, output and look-behind overruns,
the 255-run overflow guard) and the same return codes; on an error
``*out_len`` is what was produced so far, as in the kernel.
"""
from kemu import export

M2_MAX_OFFSET = 0x0800                     # lib/lzo/lzodefs.h
MIN_ZERO_RUN_LENGTH = 4
MAX_255_COUNT = ((1 << 64) - 1) // 255 - 2
LZO_E_OK, LZO_E_ERROR = 0, -1              # include/linux/lzo.h
LZO_E_INPUT_OVERRUN, LZO_E_OUTPUT_OVERRUN, LZO_E_LOOKBEHIND_OVERRUN = -4, -5, -6
LZO_E_INPUT_NOT_CONSUMED = -8


class _Stop(Exception):
    def __init__(self, code):
        self.code = code


def decompress(src: bytes, out_cap: int) -> tuple[int, bytes]:
    """lzo1x_decompress_safe() on bytes: (return code, the output produced)."""
    ip, ip_end = 0, len(src)
    out = bytearray()
    s = src + bytes(8)                       # reads past the end are checked before use

    def need_ip(x):
        if ip_end - ip < x:
            raise _Stop(LZO_E_INPUT_OVERRUN)

    def need_op(x):
        if out_cap - len(out) < x:
            raise _Stop(LZO_E_OUTPUT_OVERRUN)

    def run255(base):
        """The zero-byte run extension of a length; ip at the first run byte."""
        nonlocal ip
        last = ip
        while s[ip] == 0:
            ip += 1
            need_ip(1)
        offset = ip - last
        if offset > MAX_255_COUNT:
            raise _Stop(LZO_E_ERROR)
        t = (offset << 8) - offset + base + s[ip]
        ip += 1
        return t

    def copy_match(m_pos, t):
        if m_pos < 0:
            raise _Stop(LZO_E_LOOKBEHIND_OVERRUN)
        need_op(t)
        for _ in range(t):                   # byte by byte: overlapping copies repeat
            out.append(out[m_pos])
            m_pos += 1

    def match_next(nxt):
        nonlocal ip
        need_ip(nxt + 3)
        need_op(nxt)
        out.extend(s[ip:ip + nxt])
        ip += nxt
        return nxt

    try:
        if ip_end < 3:
            raise _Stop(LZO_E_INPUT_OVERRUN)
        version = 0
        if ip_end >= 5 and s[0] == 17:
            version = s[1]
            ip = 2
        state = t = 0
        label = "loop"
        if s[ip] > 17:
            t = s[ip] - 17
            ip += 1
            label = "match_next" if t < 4 else "literal"
        while True:
            if label == "match_next":           # match_next: state = next; copy next literals
                state = t = match_next(t)
                label = "loop"
                continue
            if label == "loop":
                t = s[ip]
                ip += 1
                if t < 16 and state == 0:
                    if t == 0:
                        t = run255(15)
                    t += 3
                    label = "literal"
            if label == "literal":              # copy_literal_run
                need_op(t)
                need_ip(t + 3)
                out.extend(s[ip:ip + t])
                ip += t
                state = 4
                label = "loop"
                continue
            if t < 16:
                nxt = t & 3
                if state != 4:
                    m_pos = len(out) - 1 - (t >> 2) - (s[ip] << 2)
                    ip += 1
                    if m_pos < 0:
                        raise _Stop(LZO_E_LOOKBEHIND_OVERRUN)
                    need_op(2)
                    out.append(out[m_pos])
                    out.append(out[m_pos + 1])
                    t, label = nxt, "match_next"
                    continue
                m_pos = len(out) - (1 + M2_MAX_OFFSET) - (t >> 2) - (s[ip] << 2)
                ip += 1
                t = 3
            elif t >= 64:
                nxt = t & 3
                m_pos = len(out) - 1 - ((t >> 2) & 7) - (s[ip] << 3)
                ip += 1
                t = (t >> 5) - 1 + 2
            elif t >= 32:
                t = (t & 31) + 2
                if t == 2:
                    t = run255(t + 31)
                    need_ip(2)
                nxt = s[ip] | s[ip + 1] << 8
                ip += 2
                m_pos = len(out) - 1 - (nxt >> 2)
                nxt &= 3
            else:
                need_ip(2)
                nxt = s[ip] | s[ip + 1] << 8
                if (nxt & 0xFFFC) == 0xFFFC and (t & 0xF8) == 0x18 and version:
                    need_ip(3)
                    t = ((t & 7) | s[ip + 2] << 3) + MIN_ZERO_RUN_LENGTH
                    need_op(t)
                    out.extend(bytes(t))
                    ip += 3
                    t, label = nxt & 3, "match_next"
                    continue
                m_pos = len(out) - ((t & 8) << 11)
                t = (t & 7) + 2
                if t == 2:
                    t = run255(t + 7)
                    need_ip(2)
                    nxt = s[ip] | s[ip + 1] << 8
                ip += 2
                m_pos -= nxt >> 2
                nxt &= 3
                if m_pos == len(out):
                    break                     # eof_found
                m_pos -= 0x4000
            copy_match(m_pos, t)
            t, label = nxt, "match_next"
    except _Stop as stop:
        return stop.code, bytes(out)
    if t != 3:
        return LZO_E_ERROR, bytes(out)
    if ip == ip_end:
        return LZO_E_OK, bytes(out)
    return (LZO_E_INPUT_NOT_CONSUMED if ip < ip_end else LZO_E_INPUT_OVERRUN), bytes(out)


@export("int lzo1x_decompress_safe(const unsigned char *src, size_t src_len, "
        "unsigned char *dst, size_t *dst_len)")
def lzo1x_decompress_safe(k, src, src_len, dst, dst_len):
    m = k.machine
    code, out = decompress(m.read(src, src_len) if src_len else b"", m.read_u64(dst_len))
    if out:
        m.write(dst, out)
    m.write_u64(dst_len, len(out))
    return code
