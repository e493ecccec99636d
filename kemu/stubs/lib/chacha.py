"""lib/crypto/chacha.c: the ChaCha block function (state in module memory)."""
from kemu import export

from .kemu_warn import warn_once

M = 0xFFFFFFFF


def _rotl(v, n):
    return ((v << n) | (v >> (32 - n))) & M


def permute(x, nrounds):
    for _ in range(0, nrounds, 2):
        for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                           (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)):
            x[a] = (x[a] + x[b]) & M
            x[d] = _rotl(x[d] ^ x[a], 16)
            x[c] = (x[c] + x[d]) & M
            x[b] = _rotl(x[b] ^ x[c], 12)
            x[a] = (x[a] + x[b]) & M
            x[d] = _rotl(x[d] ^ x[a], 8)
            x[c] = (x[c] + x[d]) & M
            x[b] = _rotl(x[b] ^ x[c], 7)
    return x


def _words(k, addr, n=16):
    raw = k.machine.read(addr, 4 * n)
    return [int.from_bytes(raw[4 * i:4 * i + 4], "little") for i in range(n)]


def _check(k, nrounds):
    if nrounds not in (20, 12):
        warn_once(k, "lib/crypto/chacha.c:21", "chacha_permute+0x2a0/0x2b0")


def _permute(k, x, nrounds):
    """permute() for any round count (Linux runs whatever it is given, after
    the WARN): done in slices that stop at the entry's time budget."""
    while nrounds > 64:
        x = permute(x, 64)
        nrounds -= 64
        k.machine.check_deadline()
    return permute(x, nrounds)


@export("void chacha_block_generic(u32 *state, u8 *stream, int nrounds)")
def chacha_block_generic(k, state, stream, nrounds):
    _check(k, nrounds)
    s = _words(k, state)
    x = _permute(k, list(s), nrounds)
    k.machine.write(stream, b"".join(((x[i] + s[i]) & M).to_bytes(4, "little") for i in range(16)))
    k.machine.write_u32(state + 48, (s[12] + 1) & M)          # state[12]++


@export("void hchacha_block_generic(const u32 *state, u32 *stream, int nrounds)")
def hchacha_block_generic(k, state, stream, nrounds):
    _check(k, nrounds)
    x = _permute(k, _words(k, state), nrounds)
    k.machine.write(stream, b"".join(w.to_bytes(4, "little") for w in x[0:4] + x[12:16]))
