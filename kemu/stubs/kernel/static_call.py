"""kernel/static_call_inline.c and arch/x86/kernel/static_call.c: __static_call_update().

A module's static call sites are left calling its trampoline (kemu does not
patch .static_call_sites), so updating a key is: record the new function in
key->func and rewrite the trampoline as arch_static_call_transform() does, a
"jmp func" (or a "ret" for a NULL function), after checking the trampoline's
"SCT" signature as __static_call_validate() does.
"""
from kemu import export
from kemu.abi.exports import members

from ..lib.kemu_warn import bug

members("struct static_call_key", "func", "type", "mods", "sites")

JMP32 = 0xE9
RET = 0xC3
INT3 = 0xCC
TRAMP_SIGNATURE = b"\x0f\xb9\xcc"       # ud1 %esp, %ecx: "SCT" after the 5-byte insn
INSN_SIZE = 5


def _transform_tramp(k, tramp, func):
    m = k.machine
    if m.read(tramp + INSN_SIZE, 3) != TRAMP_SIGNATURE:
        bug(k, "arch/x86/kernel/static_call.c:133")      # __static_call_validate()
    if func:
        code = bytes([JMP32]) + ((func - (tramp + INSN_SIZE)) & 0xFFFFFFFF).to_bytes(4, "little")
    else:
        code = bytes([RET]) + bytes([INT3] * (INSN_SIZE - 1))
    if m.read(tramp, INSN_SIZE) != code:
        m.write(tramp, code)
        m.invalidate(tramp, INSN_SIZE)


@export("void __static_call_update(struct static_call_key *key, void *tramp, void *func)")
def __static_call_update(k, key, tramp, func):
    """static_call_update(): the key's function and its trampoline."""
    slot = key + k.target.offset("static_call_key.func")
    if k.machine.read_u64(slot) == func:
        return
    k.machine.write_u64(slot, func)
    if tramp:
        _transform_tramp(k, tramp, func)
