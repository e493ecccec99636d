"""lib/lz4/lz4_decompress.c: LZ4 block decompression (the vmlinux exports).

Valid blocks decompress exactly as the kernel does; a malformed block yields a
negative value, -(input position) - 1 as the kernel computes it, at the first
inconsistency this implementation detects.
"""
from kemu import export

MINMATCH, LASTLITERALS, MFLIMIT = 4, 5, 12


def decompress(src: bytes, max_out: int, partial: int | None = None):
    """(output bytes, result): result is the output size or a negative error."""
    out = bytearray()
    ip, iend = 0, len(src)
    limit = max_out if partial is None else min(partial, max_out)
    if max_out == 0:
        return bytes(out), (0 if iend == 1 and src[:1] == b"\0" else -1)
    if iend == 0:
        return bytes(out), -1
    while True:
        token = src[ip]
        ip += 1
        length = token >> 4
        if length == 15:
            while True:
                if ip >= iend:
                    return bytes(out), -ip - 1
                s = src[ip]
                ip += 1
                length += s
                if s != 255:
                    break
        if ip + length > iend or len(out) + length > max_out:
            if partial is not None and len(out) + length > limit and ip + length <= iend:
                out += src[ip:ip + limit - len(out)]
                return bytes(out), len(out)
            return bytes(out), -ip - 1
        out += src[ip:ip + length]
        ip += length
        if partial is not None and len(out) >= limit:
            return bytes(out[:limit]), limit
        if ip == iend:                        # the block ends with its last literals
            return bytes(out), len(out)
        if ip + 2 > iend:
            return bytes(out), -ip - 1
        offset = src[ip] | src[ip + 1] << 8
        ip += 2
        if offset == 0 or offset > len(out):
            return bytes(out), -ip - 1
        mlen = token & 15
        if mlen == 15:
            while True:
                if ip >= iend - LASTLITERALS + 1:
                    return bytes(out), -ip - 1
                s = src[ip]
                ip += 1
                mlen += s
                if s != 255:
                    break
        mlen += MINMATCH
        if len(out) + mlen > max_out - LASTLITERALS and partial is None:
            return bytes(out), -ip - 1
        start = len(out) - offset
        for i in range(mlen):
            out.append(out[start + i])
        if partial is not None and len(out) >= limit:
            return bytes(out[:limit]), limit


@export("int LZ4_decompress_safe(const char *source, char *dest, int compressedSize, "
        "int maxDecompressedSize)")
def LZ4_decompress_safe(k, source, dest, compressed_size, max_size):
    if compressed_size < 0 or max_size < 0:
        return -1
    data = k.machine.read(source, compressed_size) if compressed_size else b""
    out, ret = decompress(data, max_size)
    if out:
        k.machine.write(dest, out)
    return ret


@export("int LZ4_decompress_safe_partial(const char *source, char *dest, int compressedSize, "
        "int targetOutputSize, int maxDecompressedSize)")
def LZ4_decompress_safe_partial(k, source, dest, compressed_size, target, max_size):
    if compressed_size < 0 or max_size < 0:
        return -1
    data = k.machine.read(source, compressed_size) if compressed_size else b""
    out, ret = decompress(data, max_size, partial=target)
    if out:
        k.machine.write(dest, out)
    return ret
