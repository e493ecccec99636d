"""The emulated x86_64 machine: address space, thunks, export slots, calls.

Layout (all kernel addresses, as on a real x86_64 kernel):

=====================  ======================  ======================================
region                 base                    use
=====================  ======================  ======================================
direct map             0xffff888000000000      heap (kmalloc), per-CPU area
vmalloc                0xffffc90000000000      kernel stacks, vmalloc()
kernel text            0xffffffff81000000      export slots (the only hooked code)
kernel thunks          0xffffffff82000000      keystone-assembled thunks, static calls
kernel data            0xffffffff83000000      data exports (jiffies, pv_ops, ...)
modules                0xffffffffc0000000      module core and init regions
=====================  ======================  ======================================

Everything a module can reach with a 32S relocation (slots, thunks, kernel data,
modules) lies in the top 2 GiB. Module code runs at full JIT speed: the only
``UC_HOOK_CODE`` covers the export slots, each a single ``ret``.

A hook that must call back into module code (a registration that runs the
module's ``init`` callback, say) cannot re-enter ``emu_start``; it is written
as a generator that yields :class:`CallRequest` objects, and the machine runs
the callback inside the same emulation, resuming the generator when the
callback returns (see :meth:`Machine.drive`).
"""
from __future__ import annotations

import ctypes
import itertools
import os
import struct
import threading
import time
import weakref
from dataclasses import dataclass

import keystone
from unicorn import (UC_ARCH_X86, UC_ERR_FETCH_PROT, UC_ERR_FETCH_UNMAPPED, UC_ERR_INSN_INVALID,
                     UC_ERR_READ_PROT, UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_PROT,
                     UC_ERR_WRITE_UNMAPPED, UC_HOOK_CODE, UC_HOOK_INSN_INVALID, UC_HOOK_INTR,
                     UC_HOOK_MEM_INVALID, UC_HOOK_MEM_READ, UC_MEM_FETCH_PROT, UC_MEM_FETCH_UNMAPPED,
                     UC_MEM_READ_PROT, UC_MEM_READ_UNMAPPED, UC_MEM_WRITE_PROT,
                     UC_MEM_WRITE_UNMAPPED, UC_MODE_64, UC_TLB_VIRTUAL, Uc, UcError)
from unicorn import x86_const as X
from unicorn.unicorn_py3 import unicorn as _binding

# The hot path (export slots, argument registers, RAX, memory) calls the C API
# directly: the Python binding's per-call wrappers cost more than the hooks.
_lib = _binding.uclib
_HOOK_CODE_CFUNC = _binding.HOOK_CODE_CFUNC

from kemu.errors import EmulationError, KemuError, KernelBug, Lockup, MemoryFault, ModelError
from kemu.machine.memory import PAGE_SIZE, PROT_R, PROT_RX, Region, align, page_align

DIRECT_MAP_ADDR = 0xFFFF888000000000
VMALLOC_ADDR = 0xFFFFC90000000000
SLOTS_ADDR = 0xFFFFFFFF81000000
THUNKS_ADDR = 0xFFFFFFFF82000000
KDATA_ADDR = 0xFFFFFFFF83000000
KDATA_SIZE = 1 << 26
START_KERNEL_MAP = 0xFFFFFFFF80000000      # __START_KERNEL_map: the image at physical 0
DIRECT_MAP_HEAP_OFFSET = 0x8000000         # 128 MiB: above the image's physical span
MODULES_ADDR = 0xFFFFFFFFC0000000
USER_ADDR = 0x0000000000400000

SLOT_SIZE = 16
X86_CR0_WP = 1 << 16
CR0_BOOT = 0x80050033               # PG|AM|WP|NE|ET|MP|PE, what Linux runs with (oops lines)
NUM_SLOTS = 1 << 16
THREAD_SIZE = 16384
MSR_GS_BASE = 0xC0000101
STACK_CANARY_OFFSET = 0x28          # offsetof(struct fixed_percpu_data, stack_canary)
STACK_CANARY = 0x6B656D75C0DE5A00    # fixed, so runs are deterministic

ARG_REGS = (X.UC_X86_REG_RDI, X.UC_X86_REG_RSI, X.UC_X86_REG_RDX,
            X.UC_X86_REG_RCX, X.UC_X86_REG_R8, X.UC_X86_REG_R9)
RAX, RSP, RIP = X.UC_X86_REG_RAX, X.UC_X86_REG_RSP, X.UC_X86_REG_RIP

_GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
REG_IDS = {name: getattr(X, f"UC_X86_REG_{name.upper()}") for name in _GPRS + ("rip", "eflags")}

# Thunks every module links against (arch/x86/lib/retpoline.S, arch/x86/kernel/ftrace_64.S).
# Assembled once per process with keystone.
_THUNK_ASM = {
    "__fentry__": "ret",
    "__x86_return_thunk": "ret",
    "__kemu_stop": "hlt",          # return address of top-level calls: emu_start stops here
    **{f"__x86_indirect_thunk_{r}": f"jmp {r}" for r in _GPRS if r != "rsp"},
    **{f"__x86_indirect_jump_thunk_{r}": f"jmp {r}" for r in _GPRS if r != "rsp"},
}
_ks = None
_thunk_blob: tuple[bytes, dict] | None = None


def image_alias(addr: int) -> int:
    """The direct-map address of a kernel-image address (__va(__pa_symbol(addr)))."""
    return DIRECT_MAP_ADDR + (addr - START_KERNEL_MAP)


# The 5-byte nop a native function begins with (as ftrace's patch site): divert_natives()
# turns it into a jump to the function's Python model, and back.
NOP5 = bytes.fromhex("0f1f440000")


@dataclass
class Native:
    """A kernel function running as machine code in the thunk region."""
    addr: int
    size: int
    model: int          # the slot of its Python model (tracing, rare paths)


def assemble(source: str, addr: int) -> bytes:
    """Assemble x86_64 ``source`` (Intel syntax) to bytes placed at ``addr``."""
    global _ks
    if _ks is None:
        _ks = keystone.Ks(keystone.KS_ARCH_X86, keystone.KS_MODE_64)
    encoding, _ = _ks.asm(source, addr)
    return bytes(encoding or b"")


def _thunks() -> tuple[bytes, dict]:
    global _thunk_blob
    if _thunk_blob is None:
        blob, where = bytearray(), {}
        for name, src in _THUNK_ASM.items():
            where[name] = THUNKS_ADDR + len(blob)
            blob += assemble(src, THUNKS_ADDR + len(blob))
            blob += b"\xcc" * (-len(blob) % 16)
        _thunk_blob = (bytes(blob), where)
    return _thunk_blob


class Watchdog:
    """Stops an emulation that runs past its deadline.

    Unicorn's own ``timeout`` polls from a thread every 2 microseconds, which
    on a 2-core machine costs module code a third of its speed; this thread
    sleeps until the earliest deadline instead. One serves every machine.
    Arming does not wake the thread unless the new deadline comes before its
    next wake-up, so a call costs no thread switch.
    """
    IDLE_WAKE = 0.5

    def __init__(self):
        self._cv = threading.Condition()
        self._armed: dict = {}           # token -> (deadline, uc handle)
        self._fired: set = set()
        self._tokens = itertools.count()
        self._thread = None
        self._wake_at = 0.0

    def arm(self, uch, seconds: float) -> int:
        """Stop ``uch`` after ``seconds``; returns a token for :meth:`disarm`."""
        deadline = time.monotonic() + seconds
        with self._cv:
            token = next(self._tokens)
            self._armed[token] = (deadline, uch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kemu-watchdog",
                                                daemon=True)
                self._thread.start()
            elif deadline < self._wake_at:
                self._cv.notify()
            return token

    def fired(self, token: int) -> bool:
        """True once ``token``'s deadline has passed (for loops in Python models)."""
        return token in self._fired

    def disarm(self, token: int) -> bool:
        """Cancel a deadline; returns True if it had already fired."""
        with self._cv:
            self._armed.pop(token, None)
            fired = token in self._fired
            self._fired.discard(token)
            return fired

    def _run(self) -> None:
        with self._cv:
            while True:
                now = time.monotonic()
                for token, (deadline, uch) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[token]
                        self._fired.add(token)
                        _lib.uc_emu_stop(uch)
                earliest = min((d for d, _ in self._armed.values()), default=now + self.IDLE_WAKE)
                self._wake_at = min(earliest, now + self.IDLE_WAKE)
                self._cv.wait(max(self._wake_at - now, 0.001))


WATCHDOG = Watchdog()
# a forked child (kemu survey --jobs) has no watchdog thread: start afresh
os.register_at_fork(after_in_child=WATCHDOG.__init__)


@dataclass
class CallRequest:
    """Yielded by a generator hook: call ``fn_addr(*args)`` in module code."""
    fn_addr: int
    args: tuple = ()


class Machine:
    """One emulated CPU with the kernel's address space."""

    def __init__(self):
        uc = self.uc = Uc(UC_ARCH_X86, UC_MODE_64)
        uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        # with a virtual TLB Unicorn ignores PG; WP is kemu's to honour (on_write_protect)
        uc.reg_write(X.UC_X86_REG_CR0, CR0_BOOT)
        self._killing = False          # pending generators are being discarded
        # cleared when the Uc is released: a generator the garbage collector
        # finalises after it must not touch the freed engine
        self._alive = [True]
        weakref.finalize(uc, self._alive.clear)
        # the direct map's first DIRECT_MAP_HEAP_OFFSET bytes alias the kernel image
        # (physical memory below it); the heap and page allocator start above
        self.direct_map = Region(uc, "direct map", DIRECT_MAP_ADDR + DIRECT_MAP_HEAP_OFFSET,
                                 (1 << 40) - DIRECT_MAP_HEAP_OFFSET)
        self.vmalloc = Region(uc, "vmalloc", VMALLOC_ADDR, 1 << 40)
        self.modules = Region(uc, "modules", MODULES_ADDR, 1 << 30)
        self.kdata = Region(uc, "kernel data", KDATA_ADDR, KDATA_SIZE)
        self.user = Region(uc, "user", USER_ADDR, 1 << 32)
        self._kdata_next = self._kdata_end = 0
        # export slots: one ret each; the hook is limited to this range
        uc.mem_map(SLOTS_ADDR, NUM_SLOTS * SLOT_SIZE, PROT_RX)
        self.slot_fns: list = []
        self.slot_names: list[str] = []
        self._uch = uc._uch
        self._arg_ids = (ctypes.c_int * 6)(*ARG_REGS)
        self._arg_vals = (ctypes.c_uint64 * 6)()
        base = ctypes.addressof(self._arg_vals)
        self._arg_ptrs = (ctypes.c_void_p * 6)(*(base + 8 * i for i in range(6)))
        self._u64 = ctypes.c_uint64()
        self._u64_ref = ctypes.byref(self._u64)
        self._buf = ctypes.create_string_buffer(4096)
        self._hook_exc = None
        self._slot_cb = _HOOK_CODE_CFUNC(self._on_slot)
        handle = _binding.uc_hook_h()
        err = _lib.uc_hook_add(self._uch, ctypes.byref(handle), UC_HOOK_CODE, self._slot_cb,
                               None, ctypes.c_uint64(SLOTS_ADDR),
                               ctypes.c_uint64(SLOTS_ADDR + NUM_SLOTS * SLOT_SIZE - 1))
        if err:
            raise UcError(err)
        self.resume_addr = self.add_slot("__kemu_resume", self._on_resume)
        # thunks
        blob, shared = _thunks()
        self.thunk_addrs = dict(shared)          # add_thunk() adds this machine's own
        self.natives: dict[str, Native] = {}     # add_native()
        uc.mem_map(THUNKS_ADDR, 1 << 20, PROT_RX)
        uc.mem_write(THUNKS_ADDR, blob)
        self._thunk_next = THUNKS_ADDR + align(len(blob), 16)
        self.stop_addr = self.thunk_addrs["__kemu_stop"]
        # per-CPU area behind GS: struct fixed_percpu_data first (canary at 0x28)
        self.percpu_size = 1 << 18
        self.percpu_addr = self.direct_map.map(self.percpu_size)
        self._percpu_next = PAGE_SIZE
        self.write_u64(self.percpu_addr + STACK_CANARY_OFFSET, STACK_CANARY)
        # one kernel stack (THREAD_SIZE) with a guard page below it
        self.stack_addr = self.vmalloc.map(THREAD_SIZE, guard=PAGE_SIZE)
        self.pending: list = []        # generators waiting for a callback to return
        self.fault = None
        self.running = False
        self.on_invalid_opcode = None  # callable(rip) -> True to continue past ud2
        self.on_fault = None           # callable(access, addr, size) -> True if handled
        # callable(addr, size, value) -> True to let a write to a read-only page through
        # (a write to kernel rodata with CR0.WP clear); the machine then stores the value
        self.on_write_protect = None
        self.on_slot_error = None
        self._deadline_token = None    # the running call's watchdog token
        self._timeout_ms = 0
        uc.hook_add(UC_HOOK_MEM_INVALID, self._on_fault)
        uc.hook_add(UC_HOOK_INSN_INVALID, self._on_insn_invalid)
        uc.hook_add(UC_HOOK_INTR, self._on_intr)

    # ----------------------------------------------------------------- slots
    def add_slot(self, name: str, fn) -> int:
        """Create an export slot running ``fn()`` when called; returns its address."""
        idx = len(self.slot_fns)
        if idx >= NUM_SLOTS:
            raise MemoryError("export slot region exhausted")
        addr = SLOTS_ADDR + idx * SLOT_SIZE
        self.uc.mem_write(addr, b"\xc3" + b"\xcc" * (SLOT_SIZE - 1))
        self.slot_fns.append(fn)
        self.slot_names.append(name)
        return addr

    def slot_name(self, addr: int) -> str | None:
        """The export name of a slot address (or of a thunk), else None."""
        if SLOTS_ADDR <= addr < SLOTS_ADDR + len(self.slot_fns) * SLOT_SIZE:
            return self.slot_names[(addr - SLOTS_ADDR) // SLOT_SIZE]
        for name, where in self.thunk_addrs.items():
            if where == addr:
                return name
        for name, nat in self.natives.items():
            if nat.addr == addr:
                return name
        return None

    def native_at(self, addr: int):
        """(name, offset, size) of the native function covering ``addr``, else None."""
        for name, nat in self.natives.items():
            if nat.addr <= addr < nat.addr + nat.size:
                return name, addr - nat.addr, nat.size
        return None

    def _hook_failed(self, exc: BaseException) -> None:
        """Keep a hook's exception for call() to re-raise, and stop the emulation."""
        if self._hook_exc is None:
            self._hook_exc = exc
        _lib.uc_emu_stop(self._uch)

    def _on_slot(self, handle, address, size, user_data):
        idx = (address - SLOTS_ADDR) >> 4
        if address & (SLOT_SIZE - 1) or idx >= len(self.slot_fns):
            # a jump into a slot's int3 padding traps by itself; past the last
            # slot there is no code: the fetch faults as at an unmapped address
            if idx >= len(self.slot_fns):
                self._hook_failed(MemoryFault(address, "fetch", address))
            return
        try:
            self.slot_fns[idx]()
        except KemuError as exc:              # the kernel's answers: re-raised by call()
            self._hook_failed(exc)
        except Exception as exc:              # a model's own bug: the last line of defence
            err = ModelError(self.slot_names[idx], exc)
            err.__cause__ = exc
            self._hook_failed(err)
        except BaseException as exc:          # KeyboardInterrupt, a fuzzer's alarm
            self._hook_failed(exc)

    def watch_reads(self, addr: int, size: int, fn) -> None:
        """Call ``fn()`` before emulated code reads any byte of ``[addr, addr+size)``
        (one Unicorn hook bounded to that range: other accesses stay unhooked)."""
        def on_read(uc, access, address, size_, value, user_data):
            try:
                fn()
            except KemuError as exc:          # re-raised by call() once emulation stops
                self._hook_failed(exc)
            except Exception as exc:          # a model's bug: reported, as at a slot
                self._hook_failed(ModelError(f"read hook at {addr:#x}", exc))
            except BaseException as exc:
                self._hook_failed(exc)
        self.uc.hook_add(UC_HOOK_MEM_READ, on_read, begin=addr, end=addr + size - 1)

    def add_thunk(self, name: str, source: str) -> int:
        """Assemble a thunk (e.g. a static-call trampoline) and return its address."""
        addr = self._thunk_next
        code = assemble(source, addr)
        self.uc.mem_write(addr, code)
        self._thunk_next = align(addr + len(code), 16)
        self.thunk_addrs[name] = addr
        return addr

    def add_native(self, name: str, source: str, model: int, diverted: bool = False) -> int:
        """Assemble kernel function ``name`` to run as machine code, never leaving the
        emulator, and return its address. ``{model}`` in ``source`` is the address
        of its Python model's slot (for the paths the machine code leaves to it);
        ``diverted``: every call goes to the model from the start (the tracer is on)."""
        addr = self._thunk_next
        body = assemble(source.replace("{model}", f"{model:#x}"), addr + len(NOP5))
        if not body:
            raise ValueError(f"native {name}: the assembler produced nothing")
        nat = Native(addr, len(NOP5) + len(body), model)
        self.uc.mem_write(addr, self._native_site(nat, diverted) + body)
        self._thunk_next = align(addr + nat.size, 16)
        self.natives[name] = nat
        return addr

    @staticmethod
    def _native_site(nat: Native, diverted: bool) -> bytes:
        """A native function's first 5 bytes: its nop, or a jump to its model."""
        if not diverted:
            return NOP5
        return b"\xe9" + ((nat.model - nat.addr - 5) & 0xFFFFFFFF).to_bytes(4, "little")

    def divert_natives(self, on: bool) -> None:
        """Send every call of a native function to its Python model (``on``: the
        tracer sees them) or let the machine code run again."""
        for nat in self.natives.values():
            self.uc.mem_write(nat.addr, self._native_site(nat, on))
            self.invalidate(nat.addr, len(NOP5))

    # ------------------------------------------------------------- registers
    def reg(self, name: str) -> int:
        """Read a register by name ("rax", "rip", ...)."""
        if not self._alive:
            raise EmulationError("the emulator was released")
        _lib.uc_reg_read(self._uch, REG_IDS[name], self._u64_ref)
        return self._u64.value

    def set_reg(self, name: str, value: int) -> None:
        """Write a register by name."""
        self.uc.reg_write(REG_IDS[name], value & 0xFFFFFFFFFFFFFFFF)

    def registers(self) -> dict:
        """All general-purpose registers, rip and eflags."""
        return {name: self.uc.reg_read(rid) for name, rid in REG_IDS.items()}

    def int_args(self, n: int) -> list[int]:
        """The first ``n`` integer arguments of the call being hooked (SysV)."""
        if n <= 6:
            _lib.uc_reg_read_batch(self._uch, self._arg_ids, self._arg_ptrs, n)
            return self._arg_vals[:n]
        _lib.uc_reg_read_batch(self._uch, self._arg_ids, self._arg_ptrs, 6)
        regs = self._arg_vals[:6]
        if n > 6:
            stack = self.read(self.reg("rsp") + 8, (n - 6) * 8)
            regs += struct.unpack(f"<{n - 6}Q", stack)
        return regs

    def set_return(self, raw: int) -> None:
        """Set RAX, the value the hooked call returns (_set_reg_raw() inlined: every
        export call passes here)."""
        self._u64.value = raw & 0xFFFFFFFFFFFFFFFF
        _lib.uc_reg_write(self._uch, RAX, self._u64_ref)

    # ---------------------------------------------------------------- memory
    # Every model reads and writes module-supplied addresses through these
    # accessors: an access to an unmapped byte is the kernel's page fault at
    # that byte (MemoryFault), and a length is checked against what is mapped
    # before any host buffer is sized by it, so a hostile length costs nothing.
    LARGE = 1 << 20               # accesses above this are checked before any buffer is made

    def check_deadline(self) -> None:
        """Raise the soft lockup of the running entry once its time budget is spent.

        A loop in a model (a scheduler moving the virtual clock, a walk of a
        module's list) calls this each iteration: the watchdog stops module
        code, and this stops Python code, so no entry runs forever."""
        token = self._deadline_token
        if token is not None and WATCHDOG.fired(token):
            raise Lockup(f"watchdog: soft lockup: stuck for {self._timeout_ms / 1000:g}s "
                         f"at {self.reg('rip'):#x}")

    def first_unmapped(self, addr: int, size: int) -> int | None:
        """The first address of ``[addr, addr+size)`` that is not mapped, or None.

        ``size`` is a C length (size_t): a negative value counts as huge. A
        range running past the top of the address space faults at 2**64 - 1
        at the latest (non-canonical addresses are never mapped).
        """
        addr &= 0xFFFFFFFFFFFFFFFF
        end = min(addr + (size & 0xFFFFFFFFFFFFFFFF), 1 << 64)
        cur = addr
        for begin, last, _perms in sorted(self.uc.mem_regions()):
            if last < cur:
                continue
            if begin > cur:
                break
            cur = last + 1
            if cur >= end:
                return None
        return cur if cur < end else None

    def check_range(self, addr: int, size: int, access: str = "read") -> int:
        """Raise the page fault an access to ``[addr, addr+size)`` would take at its
        first unmapped byte; returns ``size`` (a C length, so never negative) when
        all of it is mapped. Models call this before sizing a host buffer by a
        module-supplied length."""
        size &= 0xFFFFFFFFFFFFFFFF
        bad = self.first_unmapped(addr, size) if size else None
        if bad is not None:
            raise MemoryFault(bad, access, self.reg("rip"))
        return size

    def read(self, addr: int, size: int) -> bytes:
        """Read memory; raises :class:`MemoryFault` at the first unmapped byte."""
        if self._killing or not self._alive:
            raise EmulationError("memory access by a kernel function of a killed task")
        if 0 <= size <= 4096:
            buf = self._buf
        else:
            if not 0 <= size <= self.LARGE:     # a hostile length: what is mapped decides
                size = self.check_range(addr, size, "read")
            buf = ctypes.create_string_buffer(size)
        if _lib.uc_mem_read(self._uch, addr & 0xFFFFFFFFFFFFFFFF, buf, size):
            self.check_range(addr, size, "read")
            raise MemoryFault(addr, "read", self.reg("rip"))
        return ctypes.string_at(buf, size)

    def write(self, addr: int, data: bytes) -> None:
        """Write memory; raises :class:`MemoryFault` at the first unmapped byte."""
        if self._killing or not self._alive:
            raise EmulationError("memory access by a kernel function of a killed task")
        data = bytes(data)
        if _lib.uc_mem_write(self._uch, addr & 0xFFFFFFFFFFFFFFFF, data, len(data)):
            self.check_range(addr, len(data), "write")
            raise MemoryFault(addr, "write", self.reg("rip"))

    def fill(self, addr: int, byte: int, size: int) -> None:
        """memset(): ``size`` bytes of ``byte`` from ``addr``; a range that runs into
        unmapped memory is written up to it, then faults there (as a store loop does)."""
        size &= 0xFFFFFFFFFFFFFFFF
        bad = self.first_unmapped(addr, size) if size else None
        done = (bad - (addr & 0xFFFFFFFFFFFFFFFF)) if bad is not None else size
        chunk = bytes([byte & 0xFF]) * min(done, self.LARGE)
        for off in range(0, done, self.LARGE):
            n = min(self.LARGE, done - off)
            self.write(addr + off, chunk[:n])
        if bad is not None:
            raise MemoryFault(bad, "write", self.reg("rip"))

    def read_u8(self, addr): return self.read(addr, 1)[0]
    def read_u16(self, addr): return int.from_bytes(self.read(addr, 2), "little")
    def read_u32(self, addr): return int.from_bytes(self.read(addr, 4), "little")
    def read_u64(self, addr): return int.from_bytes(self.read(addr, 8), "little")
    def read_s32(self, addr): return int.from_bytes(self.read(addr, 4), "little", signed=True)
    def write_u8(self, addr, v): self.write(addr, (v & 0xFF).to_bytes(1, "little"))
    def write_u16(self, addr, v): self.write(addr, (v & 0xFFFF).to_bytes(2, "little"))
    def write_u32(self, addr, v): self.write(addr, (v & 0xFFFFFFFF).to_bytes(4, "little"))
    def write_u64(self, addr, v): self.write(addr, (v & (2**64 - 1)).to_bytes(8, "little"))

    def read_cstr(self, addr: int, maxlen: int = 1 << 20) -> bytes:
        """Read a NUL-terminated string (without the NUL), at most ``maxlen`` bytes."""
        out = bytearray()
        while len(out) < maxlen:
            n = min(256 - (addr + len(out)) % 256, maxlen - len(out))
            chunk = self.read(addr + len(out), n)
            nul = chunk.find(0)
            if nul >= 0:
                out += chunk[:nul]
                return bytes(out)
            out += chunk
        return bytes(out)

    def alloc_kdata(self, size: int, alignment: int = 16) -> int:
        """Allocate zeroed kernel data (for data exports) in the top 2 GiB."""
        addr = align(self._kdata_next, alignment)
        if not self._kdata_end or addr + size > self._kdata_end:
            chunk = page_align(max(64 * 1024, size + alignment))
            # contiguous with the previous chunk; __va(__pa_symbol(x)) reads the same bytes
            start = self.kdata.map_aliased(chunk, image_alias)
            if start != self._kdata_end:          # first chunk, or rodata pages in between
                addr = align(start, alignment)
            self._kdata_end = start + chunk
        self._kdata_next = addr + size
        return addr

    def alloc_rodata(self, size: int, also=()) -> int:
        """Page-aligned kernel data mapped read-only (the kernel's .rodata: a write
        faults unless ``on_write_protect`` lets it through); ``also``: more
        read-only addresses of the same memory (the cpu entry area's IDT alias)."""
        return self.kdata.map_aliased(size, image_alias, prot=PROT_R, also=also)

    def set_idtr(self, base: int, limit: int) -> None:
        """Load the IDTR (what ``sidt`` stores)."""
        self.uc.reg_write(X.UC_X86_REG_IDTR, (0, base, limit, 0))

    def cr0(self) -> int:
        return self.uc.reg_read(X.UC_X86_REG_CR0)

    def set_cr0(self, value: int) -> None:
        self.uc.reg_write(X.UC_X86_REG_CR0, value)

    def alloc_percpu(self, size: int, alignment: int = 8) -> int:
        """Allocate a per-CPU variable; returns its offset from the GS base, or
        None when the per-CPU area is full."""
        offset = align(self._percpu_next, max(alignment, 1))
        if offset + size > self.percpu_size:
            return None
        self._percpu_next = offset + size
        return offset

    def invalidate(self, addr: int, size: int) -> None:
        """Flush translated code for a range that was rewritten."""
        self.uc.ctl_remove_cache(addr, addr + size)

    # ----------------------------------------------------------------- calls
    def call(self, fn_addr: int, args=(), timeout_ms: int = 10_000, max_insns: int = 0) -> int:
        """Run module code ``fn_addr(*args)`` on a fresh kernel stack; returns RAX.

        Raises :class:`MemoryFault`, :class:`KernelBug`, :class:`Lockup` or the
        typed error a hook raised.
        """
        if self.running:
            raise RuntimeError("Machine.call() from inside a hook: yield a CallRequest instead")
        uc = self.uc
        extra = list(args[6:])
        # at entry [rsp] is the return address and stack arguments follow it
        rsp = self.stack_addr + THREAD_SIZE - 64 - 8 * (len(extra) + len(extra) % 2) - 8
        self.write_u64(rsp, self.stop_addr)
        for i, value in enumerate(extra):
            self.write_u64(rsp + 8 + 8 * i, value)
        uc.reg_write(RSP, rsp)
        uc.reg_write(X.UC_X86_REG_RBP, 0)
        for reg, value in zip(ARG_REGS, args):
            uc.reg_write(reg, value & 0xFFFFFFFFFFFFFFFF)
        uc.msr_write(MSR_GS_BASE, self.percpu_addr)
        self.fault = None
        self._hook_exc = None
        self._kill_pending()
        self.running = True
        completed = False
        token = self._deadline_token = WATCHDOG.arm(self._uch, timeout_ms / 1000)
        self._timeout_ms = timeout_ms
        try:
            uc.emu_start(fn_addr, self.stop_addr, count=max_insns)
            completed = self._hook_exc is None and uc.reg_read(RIP) == self.stop_addr
        except UcError as err:
            if self._hook_exc is not None:
                raise self._hook_exc from None
            raise self._translate(err) from None
        finally:
            self.running = False
            self._deadline_token = None
            timed_out = WATCHDOG.disarm(token)
            if not completed:
                self._kill_pending()
        if self._hook_exc is not None:
            exc, self._hook_exc = self._hook_exc, None
            raise exc
        rip = uc.reg_read(RIP)
        if rip != self.stop_addr and timed_out:
            raise Lockup(f"watchdog: soft lockup: stuck for {timeout_ms / 1000:g}s at {rip:#x}")
        if rip != self.stop_addr and max_insns and self._hook_exc is None:
            raise Lockup(f"instruction budget of {max_insns} exhausted at {rip:#x}")
        if rip != self.stop_addr:
            raise EmulationError(f"emulation stopped early at {rip:#x}")
        return uc.reg_read(RAX)

    def drive(self, gen, finish, value=None) -> None:
        """Advance a generator hook; run the callback it requests, or finish.

        ``finish(result)`` sets the hooked call's return value. Called from a
        slot hook, so a requested callback runs inside the current emulation
        with the resume slot as its return address.
        """
        try:
            req = gen.send(value)
        except StopIteration as stop:
            finish(stop.value)
            return
        if not isinstance(req, CallRequest):
            raise TypeError(f"a generator hook may only yield CallRequest, not {req!r}")
        self.pending.append((gen, finish))
        rsp = self.reg("rsp") - 8
        self.write_u64(rsp, self.resume_addr)
        # the C API directly: the binding's reg_write costs more than the call itself
        vals = self._arg_vals
        for i, arg in enumerate(req.args[:6]):
            vals[i] = arg & 0xFFFFFFFFFFFFFFFF
        _lib.uc_reg_write_batch(self._uch, self._arg_ids, self._arg_ptrs, min(len(req.args), 6))
        self._set_reg_raw(RSP, rsp)
        self._set_reg_raw(RIP, req.fn_addr)          # last: a PC write restarts the block

    def _set_reg_raw(self, reg_id: int, value: int) -> None:
        self._u64.value = value & 0xFFFFFFFFFFFFFFFF
        _lib.uc_reg_write(self._uch, reg_id, self._u64_ref)

    def _kill_pending(self) -> None:
        """Discard the generators an entry left waiting (it faulted in a callback):
        like the kernel functions of a task an oops killed, they do not go on.
        They are closed now, while the emulator lives (a generator finalised by
        the garbage collector after its Uc would touch freed memory); their
        cleanup may not touch emulated memory (it raises, and is dropped)."""
        if not self.pending:
            return
        pending = list(self.pending)
        self.pending.clear()               # in place: the scheduler's task shares the list
        self._killing = True
        try:
            for gen, _finish in reversed(pending):
                try:
                    gen.close()
                except Exception:             # noqa: BLE001: the task is dead
                    pass
        finally:
            self._killing = False

    def _on_resume(self):
        if not self.pending:
            # the resume slot reached with no callback outstanding: module code
            # returned through a stale return address (a corrupted stack)
            raise KernelBug(f"kemu: return to the callback-resume address {self.resume_addr:#x} "
                            "with no callback outstanding (corrupted stack)")
        gen, finish = self.pending.pop()
        self.drive(gen, finish, self.uc.reg_read(RAX))

    # ---------------------------------------------------------------- faults
    _ACCESS = {UC_MEM_READ_UNMAPPED: "read", UC_MEM_WRITE_UNMAPPED: "write",
               UC_MEM_FETCH_UNMAPPED: "fetch", UC_MEM_READ_PROT: "read",
               UC_MEM_WRITE_PROT: "write", UC_MEM_FETCH_PROT: "fetch"}
    _PROT = {UC_MEM_READ_PROT, UC_MEM_WRITE_PROT, UC_MEM_FETCH_PROT}

    def _on_fault(self, uc, access, address, size, value, user_data):
        kind = self._ACCESS.get(access, "access")
        if access == UC_MEM_WRITE_PROT and self.on_write_protect is not None:
            try:
                value &= (1 << (8 * size)) - 1         # Unicorn passes it signed
                if self.on_write_protect(address, size, value):
                    uc.mem_write(address, value.to_bytes(size, "little"))
                    return True
            except Exception as exc:            # a model's bug must not hide the fault
                self._hook_exc = self._hook_exc or exc
        if self.on_fault is not None and access not in self._PROT:
            try:
                if self.on_fault(kind, address, size):
                    return True                 # handled (e.g. KFENCE): retry the access
            except Exception as exc:            # a model's bug must not hide the fault
                self._hook_exc = self._hook_exc or (
                    exc if isinstance(exc, KemuError) else ModelError("page fault handler", exc))
        self.fault = (kind, address, access in self._PROT, uc.reg_read(RIP))
        return False

    def _on_insn_invalid(self, uc, user_data):
        rip = uc.reg_read(RIP)
        if self.on_invalid_opcode and self.on_invalid_opcode(rip):
            return True
        self.fault = ("invalid opcode", rip, False, rip)
        return False

    def _on_intr(self, uc, intno, user_data):
        rip = uc.reg_read(RIP)
        self.fault = (f"trap {intno}", rip, False, rip)
        uc.emu_stop()
        raise KernelBug(f"int3: trap {intno} at {rip:#x}" if intno == 3 else
                        f"unexpected interrupt {intno} at {rip:#x}")

    def _translate(self, err: UcError) -> EmulationError:
        fault = self.fault
        if fault and fault[0] == "invalid opcode":
            return KernelBug(f"invalid opcode: 0000 at {fault[1]:#x}")
        if fault:
            access, addr, prot, rip = fault
            if access == "fetch" and not prot:
                rip = addr
            return MemoryFault(addr, access, rip, prot=prot)
        if err.errno in (UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED,
                         UC_ERR_READ_PROT, UC_ERR_WRITE_PROT, UC_ERR_FETCH_PROT):
            return MemoryFault(0, "access", self.uc.reg_read(RIP))
        if err.errno == UC_ERR_INSN_INVALID:
            return KernelBug(f"invalid opcode: 0000 at {self.uc.reg_read(RIP):#x}")
        return EmulationError(f"emulation failed: {err} at {self.uc.reg_read(RIP):#x}")
