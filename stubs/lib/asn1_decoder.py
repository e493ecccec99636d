"""lib/asn1_decoder.c: asn1_ber_decoder(), the BER/DER/CER decoder that runs the
bytecode asn1_compiler generates into modules (x509, pkcs8, ecrdsa params ...).

A line-by-line port of the 6.1 function: the same opcode lengths, the same
unsigned arithmetic (size_t positions, unsigned short stacks), the same error
exits; action callbacks are the module's functions, called as the kernel does.
"""
from __future__ import annotations

import errno

from kemu import export

from ..crypto.internal import s32

U64 = (1 << 64) - 1
NR_CONS_STACK = 10
NR_JUMP_STACK = 10
FLAG_INDEFINITE_LENGTH, FLAG_MATCHED, FLAG_CONS = 0x01, 0x02, 0x20

# opcode -> length: OPC, then TAG, JMP and ACT bytes as the opcode has them
_LENGTHS = {
    "ASN1_OP_MATCH": 2, "ASN1_OP_MATCH_OR_SKIP": 2, "ASN1_OP_MATCH_ACT": 3,
    "ASN1_OP_MATCH_ACT_OR_SKIP": 3, "ASN1_OP_MATCH_JUMP": 3, "ASN1_OP_MATCH_JUMP_OR_SKIP": 3,
    "ASN1_OP_MATCH_ANY": 1, "ASN1_OP_MATCH_ANY_ACT": 2, "ASN1_OP_COND_MATCH_OR_SKIP": 2,
    "ASN1_OP_COND_MATCH_ACT_OR_SKIP": 3, "ASN1_OP_COND_MATCH_JUMP_OR_SKIP": 3,
    "ASN1_OP_COND_MATCH_ANY": 1, "ASN1_OP_COND_MATCH_ANY_ACT": 2, "ASN1_OP_COND_FAIL": 1,
    "ASN1_OP_COMPLETE": 1, "ASN1_OP_ACT": 2, "ASN1_OP_RETURN": 1, "ASN1_OP_END_SEQ": 1,
    "ASN1_OP_END_SEQ_OF": 2, "ASN1_OP_END_SET": 1, "ASN1_OP_END_SET_OF": 2,
    "ASN1_OP_END_SEQ_ACT": 2, "ASN1_OP_END_SEQ_OF_ACT": 3, "ASN1_OP_END_SET_ACT": 2,
    "ASN1_OP_END_SET_OF_ACT": 3,
}
# how the switch treats each opcode
_KIND = {
    "ASN1_OP_MATCH_ANY_ACT": "act1", "ASN1_OP_COND_MATCH_ANY_ACT": "act1",
    "ASN1_OP_MATCH_ACT": "act2", "ASN1_OP_MATCH_ACT_OR_SKIP": "act2",
    "ASN1_OP_COND_MATCH_ACT_OR_SKIP": "act2",
    "ASN1_OP_MATCH": "skip", "ASN1_OP_MATCH_OR_SKIP": "skip", "ASN1_OP_MATCH_ANY": "skip",
    "ASN1_OP_COND_MATCH_OR_SKIP": "skip", "ASN1_OP_COND_MATCH_ANY": "skip",
    "ASN1_OP_MATCH_JUMP": "jump", "ASN1_OP_MATCH_JUMP_OR_SKIP": "jump",
    "ASN1_OP_COND_MATCH_JUMP_OR_SKIP": "jump",
    "ASN1_OP_COND_FAIL": "cond_fail", "ASN1_OP_COMPLETE": "complete",
    "ASN1_OP_END_SET": "end_set", "ASN1_OP_END_SET_ACT": "end_set",
    "ASN1_OP_END_SEQ": "end", "ASN1_OP_END_SET_OF": "end", "ASN1_OP_END_SEQ_OF": "end",
    "ASN1_OP_END_SEQ_ACT": "end", "ASN1_OP_END_SET_OF_ACT": "end",
    "ASN1_OP_END_SEQ_OF_ACT": "end",
    "ASN1_OP_ACT": "act", "ASN1_OP_RETURN": "return",
}


class Asn1Error(Exception):
    """A decode error: errmsg as the kernel names it."""


class _Ops:
    """The opcode tables with the target's enum values."""

    def __init__(self, k):
        c = k.target.const
        self.length = {c(n): v for n, v in _LENGTHS.items()}
        self.kind = {c(n): v for n, v in _KIND.items()}
        self.c = {n: c(n) for n in (
            "ASN1_OP__MATCHES_TAG", "ASN1_OP_MATCH__COND", "ASN1_OP_MATCH__ANY",
            "ASN1_OP_MATCH__SKIP", "ASN1_OP_END__OF", "ASN1_OP_END__ACT", "ASN1_CONS_BIT",
            "ASN1_LONG_TAG", "ASN1_INDEFINITE_LENGTH", "ASN1_PRIM")}


def find_indefinite_length(ops, data: bytes, datalen: int, dp: int):
    """asn1_find_indefinite_length(): (new dp, len) or Asn1Error."""
    c = ops.c
    start, indef_level = dp, 1
    while True:
        if (datalen - dp) & U64 < 2:
            raise Asn1Error("Missing EOC in indefinite len cons" if datalen == dp
                            else "Data overrun error")
        tag = data[dp]
        dp += 1
        if tag == 0:
            if data[dp] != 0:
                raise Asn1Error("Invalid length EOC")
            dp += 1
            indef_level -= 1
            if indef_level <= 0:
                return dp, dp - start
            continue
        if tag & 0x1F == c["ASN1_LONG_TAG"]:
            while True:
                if (datalen - dp) & U64 < 2:
                    raise Asn1Error("Data overrun error")
                tmp = data[dp]
                dp += 1
                if not tmp & 0x80:
                    break
        length = data[dp]
        dp += 1
        if length <= 0x7F:
            dp += length
            continue
        if length == c["ASN1_INDEFINITE_LENGTH"]:
            if tag & c["ASN1_CONS_BIT"] == c["ASN1_PRIM"] << 5:
                raise Asn1Error("Indefinite len primitive not permitted")
            indef_level += 1
            continue
        n = length - 0x80
        if n > 7:                                    # sizeof(size_t) - 1
            raise Asn1Error("Unsupported length")
        if n > (datalen - dp) & U64:
            raise Asn1Error("Data overrun error")
        length = 0
        for _ in range(n):
            length = length << 8 | data[dp]
            dp += 1
        dp = (dp + length) & U64


@export("int asn1_ber_decoder(const struct asn1_decoder *decoder, void *context, "
        "const unsigned char *data, size_t datalen)")
def asn1_ber_decoder(k, decoder, context, data_addr, datalen):
    """Decode ``data`` by the decoder's bytecode, calling its actions; 0 or -errno."""
    m, t = k.machine, k.target
    machine_addr = m.read_u64(decoder + t.offset("asn1_decoder.machine"))
    machlen = m.read_u64(decoder + t.offset("asn1_decoder.machlen"))
    actions = m.read_u64(decoder + t.offset("asn1_decoder.actions"))
    if datalen > 65535:
        return -errno.EMSGSIZE
    ops = k.model(_Ops)
    c = ops.c
    machine = m.read(machine_addr, machlen) if machlen else b""
    data = m.read(data_addr, datalen) if datalen else b""

    def action(index, hdr, tag, value, vlen):
        fn = m.read_u64(actions + 8 * index)
        return s32((yield k.call_request(fn, context, hdr, tag, data_addr + value, vlen)))

    tag = csp = jsp = optag = hdr = flags = 0
    pc = dp = tdp = length = 0
    cons_dp = [0] * NR_CONS_STACK
    cons_datalen = [0] * NR_CONS_STACK
    cons_hdrlen = [0] * NR_CONS_STACK
    jump_stack = [0] * NR_JUMP_STACK
    try:
        while True:                                                  # next_op:
            if pc >= machlen:
                raise Asn1Error("Machine overrun error")
            op = machine[pc]
            oplen = ops.length.get(op, 0)
            if pc + oplen > machlen:
                raise Asn1Error("Machine overrun error")
            if op <= c["ASN1_OP__MATCHES_TAG"]:
                if (op & c["ASN1_OP_MATCH__COND"] and flags & FLAG_MATCHED) or dp == datalen:
                    pc += oplen
                    continue
                flags, hdr = 0, 2
                if (datalen - dp) & U64 < 2:
                    raise Asn1Error("Data overrun error")
                tag = data[dp]
                dp += 1
                if tag & 0x1F == c["ASN1_LONG_TAG"]:
                    raise Asn1Error("Long tag not supported")
                if not op & c["ASN1_OP_MATCH__ANY"]:
                    optag = machine[pc + 1]
                    flags |= optag & FLAG_CONS
                    tmp = (optag ^ tag) & ~(optag & c["ASN1_CONS_BIT"]) & 0xFF
                    if tmp:
                        if op & c["ASN1_OP_MATCH__SKIP"]:
                            pc += oplen
                            dp -= 1
                            continue
                        raise Asn1Error("Unexpected tag")
                flags |= FLAG_MATCHED
                length = data[dp]
                dp += 1
                if length > 0x7F:
                    if length == c["ASN1_INDEFINITE_LENGTH"]:
                        if not tag & c["ASN1_CONS_BIT"]:
                            raise Asn1Error("Indefinite len primitive not permitted")
                        flags |= FLAG_INDEFINITE_LENGTH
                        if 2 > (datalen - dp) & U64:
                            raise Asn1Error("Data overrun error")
                    else:
                        n = length - 0x80
                        if n > 2:
                            raise Asn1Error("Unsupported length")
                        if n > (datalen - dp) & U64:
                            raise Asn1Error("Data overrun error")
                        hdr = (hdr + n) & 0xFF
                        length = 0
                        for _ in range(n):
                            length = length << 8 | data[dp]
                            dp += 1
                        if length > (datalen - dp) & U64:
                            raise Asn1Error("Data overrun error")
                elif length > (datalen - dp) & U64:
                    raise Asn1Error("Data overrun error")
                if flags & FLAG_CONS:
                    if csp >= NR_CONS_STACK:
                        raise Asn1Error("Cons stack overflow")
                    cons_dp[csp] = dp & 0xFFFF
                    cons_hdrlen[csp] = hdr
                    if not flags & FLAG_INDEFINITE_LENGTH:
                        cons_datalen[csp] = datalen & 0xFFFF
                        datalen = dp + length
                    else:
                        cons_datalen[csp] = 0
                    csp += 1
                tdp = dp
            kind = ops.kind.get(op)
            if kind in ("act1", "act2", "skip"):
                if kind != "skip":
                    index = machine[pc + (1 if kind == "act1" else 2)]
                    ret = yield from action(index, hdr, tag, dp, length)
                    if ret < 0:
                        return ret
                if not flags & FLAG_CONS:                            # skip_data:
                    if flags & FLAG_INDEFINITE_LENGTH:
                        dp, length = find_indefinite_length(ops, data, datalen, dp)
                    else:
                        dp = (dp + length) & U64
                pc += oplen
            elif kind == "jump":
                if jsp == NR_JUMP_STACK:
                    raise Asn1Error("Jump stack overflow")
                jump_stack[jsp] = (pc + oplen) & 0xFF
                jsp += 1
                pc = machine[pc + 2]
            elif kind == "cond_fail":
                if not flags & FLAG_MATCHED:
                    raise Asn1Error("Unexpected tag")
                pc += oplen
            elif kind == "complete":
                if jsp != 0 or csp != 0:
                    k.log.emit(3, "ASN.1 decoder error: Stacks not empty at completion "
                                  f"({jsp}, {csp})")
                    return -errno.EBADMSG
                return 0
            elif kind in ("end_set", "end"):
                if kind == "end_set" and not flags & FLAG_MATCHED:
                    raise Asn1Error("Unexpected tag")
                if csp <= 0:
                    raise Asn1Error("Cons stack underflow")
                csp -= 1
                tdp, hdr = cons_dp[csp], cons_hdrlen[csp]
                length, datalen = datalen, cons_datalen[csp]
                if datalen == 0:
                    datalen = length
                    if (datalen - dp) & U64 < 2:
                        raise Asn1Error("Data overrun error")
                    if data[dp] != 0:
                        dp += 1
                        if op & c["ASN1_OP_END__OF"]:
                            dp -= 1
                            csp += 1
                            pc = machine[pc + 1]
                            continue
                        raise Asn1Error("Missing EOC in indefinite len cons")
                    dp += 1
                    if data[dp] != 0:
                        raise Asn1Error("Invalid length EOC")
                    dp += 1
                    length = (dp - tdp - 2) & U64
                else:
                    if dp < length and op & c["ASN1_OP_END__OF"]:
                        datalen = length
                        csp += 1
                        pc = machine[pc + 1]
                        continue
                    if dp != length:
                        raise Asn1Error("Cons length error")
                    length = (length - tdp) & U64
                if op & c["ASN1_OP_END__ACT"]:
                    index = machine[pc + 2] if op & c["ASN1_OP_END__OF"] else machine[pc + 1]
                    yield from action(index, hdr, 0, tdp, length)
                pc += oplen
            elif kind == "act":
                yield from action(machine[pc + 1], hdr, tag, tdp, length)
                pc += oplen
            elif kind == "return":
                if jsp <= 0:
                    raise Asn1Error("Jump stack underflow")
                jsp -= 1
                pc = jump_stack[jsp]
            else:
                k.log.emit(3, f"ASN.1 decoder error: Found reserved opcode ({op})")
                return -errno.EBADMSG
    except Asn1Error:
        return -errno.EBADMSG                       # pr_debug() of errmsg only
    except IndexError:
        return -errno.EBADMSG
