"""kernel/jump_label.c: static keys, with the jump sites in module text patched.

A key's ``enabled`` count lives in the key itself (module or kernel data);
every change that flips a key rewrites the ``__jump_table`` sites of every
loaded module that uses it (jmp <-> nop, 2 or 5 bytes, as
arch/x86/kernel/jump_label.c does).
"""
from kemu.abi.exports import members, module_notifier
from kemu import data, export

from ..lib.kemu_warn import warn_once

members("struct jump_entry", "code", "target", "key")
members("struct static_key", "enabled", "type")

NOP2 = b"\x66\x90"
NOP5 = b"\x0f\x1f\x44\x00\x00"


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def _enabled(k, key):
    return _s32(k.machine.read_u32(key + k.target.offset("static_key.enabled")))


def _set_enabled(k, key, value):
    k.machine.write_u32(key + k.target.offset("static_key.enabled"), value)


def static_key_count_of(k, key) -> int:
    n = _enabled(k, key)
    return n if n >= 0 else 1


def jump_entries(k, mod):
    """(code, target, key, branch) of each __jump_table entry of a module still mapped."""
    idx = mod.image.find_sec("__jump_table") if mod.image is not None else 0
    if not idx or idx not in mod.section_spans:
        return
    t, m = k.target, k.machine
    base, size = mod.section_spans[idx]
    esize = t.sizeof("jump_entry")
    for e in range(base, base + size, esize):
        code = e + t.offset("jump_entry.code") + m.read_s32(e + t.offset("jump_entry.code"))
        target = e + t.offset("jump_entry.target") + m.read_s32(e + t.offset("jump_entry.target"))
        raw = m.read_u64(e + t.offset("jump_entry.key"))
        raw = raw - (1 << 64) if raw >> 63 else raw
        key = (e + t.offset("jump_entry.key") + (raw & ~3)) & 0xFFFFFFFFFFFFFFFF
        if mod.within(code):
            yield code, target, key, bool(raw & 1)


def _patch(k, code, target, jump: bool) -> None:
    m = k.machine
    head = m.read(code, 2)
    size = 2 if head[0] == 0xEB or head == NOP2 else 5
    if jump:
        rel = target - (code + size)
        new = (b"\xeb" + (rel & 0xFF).to_bytes(1, "little") if size == 2
               else b"\xe9" + (rel & 0xFFFFFFFF).to_bytes(4, "little"))
    else:
        new = NOP2 if size == 2 else NOP5
    if m.read(code, size) != new:
        m.write(code, new)
        m.invalidate(code, size)


def jump_label_update(k, key) -> None:
    """Make every site of ``key`` jump or fall through as static_key_enabled() says."""
    enabled = static_key_count_of(k, key) > 0
    for mod in list(k.modules.values()):
        for code, target, ekey, branch in jump_entries(k, mod):
            if ekey == key:
                _patch(k, code, target, enabled ^ branch)


@data("bool static_key_initialized")
def static_key_initialized(k, addr):
    k.machine.write_u8(addr, 1)


@export("int static_key_count(struct static_key *key)")
def static_key_count(k, key):
    return static_key_count_of(k, key)


@export("bool static_key_fast_inc_not_disabled(struct static_key *key)")
def static_key_fast_inc_not_disabled(k, key):
    v = _enabled(k, key)
    if v <= 0 or v + 1 > 0x7FFFFFFF:
        return False
    _set_enabled(k, key, v + 1)
    return True


def static_key_slow_inc_cpuslocked(k, key):
    if static_key_fast_inc_not_disabled(k, key):
        return True
    if _enabled(k, key) == 0:
        _set_enabled(k, key, -1)
        jump_label_update(k, key)
        _set_enabled(k, key, 1)
        return True
    if not static_key_fast_inc_not_disabled(k, key):
        warn_once(k, "kernel/jump_label.c:177", "static_key_slow_inc_cpuslocked+0x76/0x80")
        return False
    return True


@export("bool static_key_slow_inc(struct static_key *key)")
def static_key_slow_inc(k, key):
    return static_key_slow_inc_cpuslocked(k, key)


@export("void static_key_enable_cpuslocked(struct static_key *key)")
def static_key_enable_cpuslocked(k, key):
    v = _enabled(k, key)
    if v > 0:
        if v != 1:
            warn_once(k, "kernel/jump_label.c:200", "static_key_enable_cpuslocked+0x49/0x90")
        return
    if v == 0:
        _set_enabled(k, key, -1)
        jump_label_update(k, key)
        _set_enabled(k, key, 1)


@export("void static_key_enable(struct static_key *key)")
def static_key_enable(k, key):
    static_key_enable_cpuslocked(k, key)


@export("void static_key_disable_cpuslocked(struct static_key *key)")
def static_key_disable_cpuslocked(k, key):
    v = _enabled(k, key)
    if v != 1:
        if v != 0:
            warn_once(k, "kernel/jump_label.c:231", "static_key_disable_cpuslocked+0x6d/0x80")
        return
    _set_enabled(k, key, 0)
    jump_label_update(k, key)


@export("void static_key_disable(struct static_key *key)")
def static_key_disable(k, key):
    static_key_disable_cpuslocked(k, key)


def _slow_dec(k, key):
    val = _enabled(k, key)
    if val != 1:                                 # static_key_dec_not_one()
        if val <= 0:                             # WARN_ON_ONCE(v < 0), WARN_ON_ONCE(v == 0)
            warn_once(k, *(("kernel/jump_label.c:279", "static_key_dec_not_one+0x2e/0x50") if val == 0
                           else ("kernel/jump_label.c:273", "static_key_dec_not_one+0x25/0x50")))
            return
        _set_enabled(k, key, val - 1)
        return
    _set_enabled(k, key, 0)
    jump_label_update(k, key)


@export("void static_key_slow_dec(struct static_key *key)")
def static_key_slow_dec(k, key):
    _slow_dec(k, key)



def jump_label_add_module(k, mod) -> None:
    """jump_label_add_module() at MODULE_STATE_COMING: sites whose key is no longer in
    its initial state (a key of another module or of the kernel that was flipped
    before this module loaded) are patched before the module's init runs.

    kemu's loader has no COMING notification yet; whoever adds one calls this.
    """
    t, m = k.target, k.machine
    for code, target, key, branch in list(jump_entries(k, mod)):
        init_type = bool(m.read_u64(key + t.offset("static_key.type")) &
                         t.const("JUMP_TYPE_TRUE")) ^ branch
        now = (static_key_count_of(k, key) > 0) ^ branch
        if now != init_type:
            _patch(k, code, target, now)


@module_notifier
def _jump_label_module_notify(k, mod) -> None:
    """jump_label_module_notify(): patch a module's sites when it is COMING."""
    from kemu.module.module import ModuleState
    if mod.state == ModuleState.COMING:
        jump_label_add_module(k, mod)
