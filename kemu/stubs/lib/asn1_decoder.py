"""lib/asn1_decoder.c: asn1_ber_decoder(), the BER/DER/CER decoder that runs the
bytecode asn1_compiler generates into modules (x509, pkcs8, ecrdsa params ...).

A line-by-line port of the 6.1 function: the same opcode lengths, the same
unsigned arithmetic (size_t positions, unsigned short stacks), the same error
exits; action callbacks are the module's functions, called as the kernel does.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.kernel.log import KERN_ERR
from kemu.abi.exports import members

from kemu.abi.toolkit import s32

members("struct asn1_decoder", "machine", "machlen", "actions")

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


class _Decode:
    """The decoder's locals (asn1_ber_decoder()'s stack frame)."""

    def __init__(self, k, ops, machine, data, data_addr, datalen, actions, context):
        self.k, self.ops, self.c = k, ops, ops.c
        self.machine, self.data, self.data_addr = machine, data, data_addr
        self.actions, self.context = actions, context
        self.datalen = datalen
        self.tag = self.csp = self.jsp = self.optag = self.hdr = self.flags = 0
        self.pc = self.dp = self.tdp = self.len = 0
        self.cons_dp = [0] * NR_CONS_STACK
        self.cons_datalen = [0] * NR_CONS_STACK
        self.cons_hdrlen = [0] * NR_CONS_STACK
        self.jump_stack = [0] * NR_JUMP_STACK

    def action(self, index, tag, value, vlen):
        """actions[index](context, hdr, tag, data + value, vlen): the module's function."""
        fn = self.k.machine.read_u64(self.actions + 8 * index)
        return s32((yield self.k.call_request(fn, self.context, self.hdr, tag,
                                              self.data_addr + value, vlen)))

    def match_tag(self, op, oplen):
        """The tag-matching prologue of ops up to ASN1_OP__MATCHES_TAG; False to skip the op."""
        c, data, datalen = self.c, self.data, self.datalen
        if (op & c["ASN1_OP_MATCH__COND"] and self.flags & FLAG_MATCHED) or self.dp == datalen:
            self.pc += oplen
            return False
        self.flags, self.hdr = 0, 2
        if (datalen - self.dp) & U64 < 2:
            raise Asn1Error("Data overrun error")
        self.tag = data[self.dp]
        self.dp += 1
        if self.tag & 0x1F == c["ASN1_LONG_TAG"]:
            raise Asn1Error("Long tag not supported")
        if not op & c["ASN1_OP_MATCH__ANY"]:
            self.optag = self.machine[self.pc + 1]
            self.flags |= self.optag & FLAG_CONS
            if (self.optag ^ self.tag) & ~(self.optag & c["ASN1_CONS_BIT"]) & 0xFF:
                if op & c["ASN1_OP_MATCH__SKIP"]:           # all odd ops are MATCH_OR_SKIP
                    self.pc += oplen
                    self.dp -= 1
                    return False
                raise Asn1Error("Unexpected tag")
        self.flags |= FLAG_MATCHED
        length = data[self.dp]
        self.dp += 1
        if length > 0x7F:
            if length == c["ASN1_INDEFINITE_LENGTH"]:
                if not self.tag & c["ASN1_CONS_BIT"]:
                    raise Asn1Error("Indefinite len primitive not permitted")
                self.flags |= FLAG_INDEFINITE_LENGTH
                if 2 > (datalen - self.dp) & U64:
                    raise Asn1Error("Data overrun error")
            else:
                n = length - 0x80
                if n > 2:
                    raise Asn1Error("Unsupported length")
                if n > (datalen - self.dp) & U64:
                    raise Asn1Error("Data overrun error")
                self.hdr = (self.hdr + n) & 0xFF
                length = 0
                for _ in range(n):
                    length = length << 8 | data[self.dp]
                    self.dp += 1
                if length > (datalen - self.dp) & U64:
                    raise Asn1Error("Data overrun error")
        elif length > (datalen - self.dp) & U64:
            raise Asn1Error("Data overrun error")
        self.len = length
        if self.flags & FLAG_CONS:
            if self.csp >= NR_CONS_STACK:
                raise Asn1Error("Cons stack overflow")
            self.cons_dp[self.csp] = self.dp & 0xFFFF
            self.cons_hdrlen[self.csp] = self.hdr
            if not self.flags & FLAG_INDEFINITE_LENGTH:
                self.cons_datalen[self.csp] = datalen & 0xFFFF
                self.datalen = self.dp + length
            else:
                self.cons_datalen[self.csp] = 0
            self.csp += 1
        self.tdp = self.dp
        return True


def _op_match_act(st, op, oplen, where):
    ret = yield from st.action(st.machine[st.pc + where], st.tag, st.dp, st.len)
    if ret < 0:
        return ret
    return (yield from _op_skip(st, op, oplen))


def _op_match_any_act(st, op, oplen):
    return (yield from _op_match_act(st, op, oplen, 1))


def _op_match_act_tagged(st, op, oplen):
    return (yield from _op_match_act(st, op, oplen, 2))


def _op_skip(st, op, oplen):
    """skip_data: step over a primitive's contents."""
    if not st.flags & FLAG_CONS:
        if st.flags & FLAG_INDEFINITE_LENGTH:
            st.dp, st.len = find_indefinite_length(st.ops, st.data, st.datalen, st.dp)
        else:
            st.dp = (st.dp + st.len) & U64
    st.pc += oplen
    return None
    yield


def _op_jump(st, op, oplen):
    if st.jsp == NR_JUMP_STACK:
        raise Asn1Error("Jump stack overflow")
    st.jump_stack[st.jsp] = (st.pc + oplen) & 0xFF
    st.jsp += 1
    st.pc = st.machine[st.pc + 2]
    return None
    yield


def _op_cond_fail(st, op, oplen):
    if not st.flags & FLAG_MATCHED:
        raise Asn1Error("Unexpected tag")
    st.pc += oplen
    return None
    yield


def _op_complete(st, op, oplen):
    if st.jsp != 0 or st.csp != 0:
        st.k.log.emit(KERN_ERR, "ASN.1 decoder error: Stacks not empty at completion "
                         f"({st.jsp}, {st.csp})")
        return -errno.EBADMSG
    return 0
    yield


def _op_end_set(st, op, oplen):
    if not st.flags & FLAG_MATCHED:
        raise Asn1Error("Unexpected tag")
    return (yield from _op_end(st, op, oplen))


def _op_end(st, op, oplen):
    """The end of a constructed type: check its length (or EOC), maybe loop an _OF."""
    c, data = st.c, st.data
    if st.csp <= 0:
        raise Asn1Error("Cons stack underflow")
    st.csp -= 1
    st.tdp, st.hdr = st.cons_dp[st.csp], st.cons_hdrlen[st.csp]
    st.len, st.datalen = st.datalen, st.cons_datalen[st.csp]
    if st.datalen == 0:                                       # indefinite length: the EOC
        st.datalen = st.len
        if (st.datalen - st.dp) & U64 < 2:
            raise Asn1Error("Data overrun error")
        if data[st.dp] != 0:
            if op & c["ASN1_OP_END__OF"]:
                st.csp += 1
                st.pc = st.machine[st.pc + 1]
                return None
            raise Asn1Error("Missing EOC in indefinite len cons")
        if data[st.dp + 1] != 0:
            raise Asn1Error("Invalid length EOC")
        st.dp += 2
        st.len = (st.dp - st.tdp - 2) & U64
    else:
        if st.dp < st.len and op & c["ASN1_OP_END__OF"]:
            st.datalen = st.len
            st.csp += 1
            st.pc = st.machine[st.pc + 1]
            return None
        if st.dp != st.len:
            raise Asn1Error("Cons length error")
        st.len = (st.len - st.tdp) & U64
    if op & c["ASN1_OP_END__ACT"]:
        index = st.machine[st.pc + (2 if op & c["ASN1_OP_END__OF"] else 1)]
        yield from st.action(index, 0, st.tdp, st.len)
    st.pc += oplen
    return None


def _op_act(st, op, oplen):
    yield from st.action(st.machine[st.pc + 1], st.tag, st.tdp, st.len)
    st.pc += oplen
    return None


def _op_return(st, op, oplen):
    if st.jsp <= 0:
        raise Asn1Error("Jump stack underflow")
    st.jsp -= 1
    st.pc = st.jump_stack[st.jsp]
    return None
    yield


_HANDLERS = {"act1": _op_match_any_act, "act2": _op_match_act_tagged, "skip": _op_skip,
             "jump": _op_jump, "cond_fail": _op_cond_fail, "complete": _op_complete,
             "end_set": _op_end_set, "end": _op_end, "act": _op_act, "return": _op_return}


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
    st = _Decode(k, ops, m.read(machine_addr, machlen) if machlen else b"",
                 m.read(data_addr, datalen) if datalen else b"", data_addr, datalen,
                 actions, context)
    try:
        while True:                                                  # next_op:
            if st.pc >= machlen:
                raise Asn1Error("Machine overrun error")
            op = st.machine[st.pc]
            oplen = ops.length.get(op, 0)
            if st.pc + oplen > machlen:
                raise Asn1Error("Machine overrun error")
            if op <= ops.c["ASN1_OP__MATCHES_TAG"] and not st.match_tag(op, oplen):
                continue
            handler = _HANDLERS.get(ops.kind.get(op))
            if handler is None:
                k.log.emit(KERN_ERR, f"ASN.1 decoder error: Found reserved opcode ({op})")
                return -errno.EBADMSG
            ret = yield from handler(st, op, oplen)
            if ret is not None:
                return ret
    except (Asn1Error, IndexError):                  # errmsg goes to pr_debug() only
        return -errno.EBADMSG
