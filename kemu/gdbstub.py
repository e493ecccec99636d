"""A GDB remote stub for module code (the GDB Remote Serial Protocol over TCP).

What kgdb (kernel/debug/gdbstub.c) offers a kernel built with ``CONFIG_KGDB``
and a serial line, for kemu's emulated CPU: ``kemu run MOD.ko --gdb
HOST:PORT`` waits for GDB before the module's init runs. GDB learns the
module's symbols by itself: the stub sends a target description for
x86-64 without an OS ABI, so GDB asks for the library list
(``qXfer:libraries:read``), which names the ``.ko`` file and the address of
each of its allocated sections, as ``add-symbol-file -s`` would give them.

Served: registers (``g``/``G``/``p``/``P``), memory (``m``/``M``), software
and hardware breakpoints (``Z0``/``Z1``: a Unicorn code hook on the address),
write/read/access watchpoints (``Z2``-``Z4``: memory hooks; the stop is
reported after the accessing instruction, as x86 debug registers trap),
single-step and continue; a page fault in module code stops in GDB
(``SIGSEGV``) before kemu reports it. When init returns, GDB is told that the
process exited with init's return value.

The stop before init is a view: GDB sees the CPU at the return address init
will return to, with the stack as the call left it, so that ``break
my_init`` then ``continue`` stops at its first instruction. Left out:
threads (one CPU, one thread), the floating-point registers (read as 0),
``vCont``, and entries after init (exit, callbacks) of the same command.
"""
from __future__ import annotations

import os
import socket
import struct
import tempfile

from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE

from kemu.module import elf as E
from kemu.errors import EmulationError, KemuError, UsageError

SIGTRAP, SIGSEGV = 5, 11
# The 'g' packet of GDB's default amd64 description (amd64.c, i386-64bit core + sse).
GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
SEGMENTS = ("cs", "ss", "ds", "es", "fs", "gs")
FP_BYTES = 8 * 10 + 8 * 4                  # st0-st7, then fctrl ... fop
SSE_BYTES = 16 * 16 + 4                    # xmm0-xmm15, mxcsr
TARGET_XML = ('<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">'
              "<target><architecture>i386:x86-64</architecture><osabi>none</osabi></target>")


def empty_executable() -> str:
    """An x86-64 ELF executable with nothing in it, written once to kemu's cache.

    GDB reads the library list at connection only when it has an executable
    (post_create_inferior()); offered with ``qXfer:exec-file:read``, this one
    gives it none of its own symbols, so the module's are the only ones.
    """
    from kemu.paths import cache_root
    path = cache_root() / "gdb-empty.elf"
    if not path.exists():
        header = (b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) +
                  struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, 0, 0, 64, 56, 0, 64, 0, 0))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gdb-empty.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(header)
        os.replace(tmp, path)
    return str(path)


def parse_address(text: str):
    """``HOST:PORT`` -> (host, port); a UsageError otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--gdb {text}: expected HOST:PORT (e.g. 127.0.0.1:1234)")
    return host or "127.0.0.1", int(port)


def _checksum(data: bytes) -> bytes:
    return b"%02x" % (sum(data) & 0xFF)


class GdbStub:
    """One GDB connection serving one kernel's module (k.model-free: it is
    made by the command, for the module it was asked for)."""

    def __init__(self, k, path: str, address: str, announce=None):
        self.k, self.m = k, k.machine
        self.path = path
        self.host, self.port = parse_address(address)
        self.announce = announce
        self.conn = None
        self.listener = None
        self.mod = None
        self.breakpoints: dict = {}      # (kind, addr) -> hook handle
        self.watchpoints: dict = {}      # (kind, addr, len) -> hook handle
        self.trace_hook = None           # a code hook on every address (steps, watchpoints)
        self.stepping = None             # (pc being stepped or None,) while stepping
        self.pending_watch = None
        self.just_stopped_at = None
        self.view = None                 # register overrides of the stop before init
        self.detached = False
        self.no_ack = False
        self._cb = []                    # Python callbacks kept alive

    # ----------------------------------------------------------- connection
    def listen(self) -> None:
        """Bind now (a bad address fails before anything runs)."""
        try:
            self.listener = socket.create_server((self.host, self.port))
        except OSError as exc:
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            raise KemuError(f"--gdb {self.host}:{self.port}: {why}") from None
        self.port = self.listener.getsockname()[1]

    def attach(self) -> None:
        """Hook the kernel: stop before the module's init, stop on faults."""
        self.k.state_listeners.append(self._on_state)
        self.k.fault_handlers.append(self._on_fault)

    def _on_state(self, mod) -> None:
        from kemu.module.module import ModuleState
        if mod.state == ModuleState.COMING and mod.path == self.path and self.mod is None:
            self.mod = mod
            if self.announce:
                self.announce(f"kemu: waiting for GDB on {self.host}:{self.port} "
                              f"(target remote {self.host}:{self.port})")
            self.conn, _peer = self.listener.accept()
            self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # the view before init: at the return address, the stack as the call left it
            top = self.m.stack_addr + 16384 - 64 - 8
            self.view = {"rip": self.m.stop_addr, "rsp": top + 8}
            self.serve(SIGTRAP, "library:;")       # GDB reads the library list now
            self.view = None

    def finish(self, status: int | None) -> None:
        """Init has returned (``status``) or faulted (None): tell GDB, close."""
        if self.conn is None or self.detached:
            self.close()
            return
        try:
            self._send(b"W%02x" % ((status or 0) & 0xFF) if status is not None else b"X0b")
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        """Unhook the kernel (a live session's kernel outlives the command) and close."""
        if self._on_state in self.k.state_listeners:
            self.k.state_listeners.remove(self._on_state)
        if self._on_fault in self.k.fault_handlers:
            self.k.fault_handlers.remove(self._on_fault)
        uc = self.m.uc
        for handle in [*self.breakpoints.values(), *self.watchpoints.values()] + \
                ([self.trace_hook] if self.trace_hook is not None else []):
            try:
                uc.hook_del(handle)
            except Exception:         # already gone with its hook list
                pass
        self.breakpoints, self.watchpoints, self.trace_hook = {}, {}, None
        for sock in (self.conn, self.listener):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        self.conn = self.listener = None

    # ------------------------------------------------------------ protocol
    def _recv_packet(self) -> bytes | None:
        buf = b""
        while True:
            ch = self.conn.recv(1)
            if not ch:
                return None
            if ch == b"\x03":                     # ^C: we are already stopped
                continue
            if ch != b"$":
                continue
            while True:
                ch = self.conn.recv(1)
                if not ch:
                    return None
                if ch == b"#":
                    break
                buf += ch
            self.conn.recv(2)                     # checksum (TCP is reliable)
            if not self.no_ack:
                self.conn.sendall(b"+")
            return self._unescape(buf)

    @staticmethod
    def _unescape(data: bytes) -> bytes:
        out, i = bytearray(), 0
        while i < len(data):
            if data[i] == 0x7D:
                out.append(data[i + 1] ^ 0x20)
                i += 2
            else:
                out.append(data[i])
                i += 1
        return bytes(out)

    def _send(self, payload: bytes) -> None:
        self.conn.sendall(b"$" + payload + b"#" + _checksum(payload))
        if not self.no_ack:
            self.conn.recv(1)                     # '+'

    # -------------------------------------------------------------- state
    def _reg(self, name: str) -> int:
        if self.view and name in self.view:
            return self.view[name]
        return self.m.reg(name)

    def _g_packet(self) -> bytes:
        out = b"".join(self._reg(r).to_bytes(8, "little") for r in GPRS)
        out += self._reg("rip").to_bytes(8, "little")
        out += (self._reg("eflags") & 0xFFFFFFFF).to_bytes(4, "little")
        out += bytes(4 * len(SEGMENTS)) + bytes(FP_BYTES) + bytes(SSE_BYTES)
        return out.hex().encode()

    def _register_bytes(self, n: int) -> bytes:
        if n < 16:
            return self._reg(GPRS[n]).to_bytes(8, "little")
        if n == 16:
            return self._reg("rip").to_bytes(8, "little")
        if n == 17:
            return (self._reg("eflags") & 0xFFFFFFFF).to_bytes(4, "little")
        if n < 24:
            return bytes(4)
        if n < 32:
            return bytes(10)
        if n < 40:
            return bytes(4)
        if n < 56:
            return bytes(16)
        return bytes(4)

    def _set_register(self, n: int, value: bytes) -> None:
        v = int.from_bytes(value, "little")
        if n < 16 and not (self.view and GPRS[n] in self.view):
            self.m.set_reg(GPRS[n], v)
        elif n == 16 and not self.view:
            self.m.set_reg("rip", v)
        elif n == 17:
            self.m.set_reg("eflags", v)

    def _library_list(self) -> bytes:
        mod = self.mod
        sections = []
        for sec in mod.image.sections:
            if sec.sh_flags & E.SHF_ALLOC and sec.sh_type != E.SHT_NULL:
                addr = mod.section_spans.get(sec.index, (0, 0))[0]
                sections.append(f'<section address="{addr:#x}"/>')
        return (f'<library-list><library name="{self.path}">{"".join(sections)}</library>'
                "</library-list>").encode()

    @staticmethod
    def _xfer(doc: bytes, offset: int, length: int) -> bytes:
        part = doc[offset:offset + length]
        return (b"l" if offset + length >= len(doc) else b"m") + part

    # -------------------------------------------------------------- stops
    def _on_break(self, reason: str):
        def hook(uc, address, size, user_data):
            if self.detached or self.conn is None or self.stepping is not None:
                return                          # a step in progress stops here itself
            if self.just_stopped_at == address:
                self.just_stopped_at = None     # the tracer already stopped here
                return
            self._stop(SIGTRAP, reason, address)
        return hook

    def _trace(self, uc, address, size, user_data):
        """Every instruction while stepping or watching: where those stops happen."""
        if self.detached or self.conn is None:
            return
        if self.pending_watch is not None:
            what, where = self.pending_watch
            self.pending_watch = None
            self.stepping = None
            self._stop(SIGTRAP, f"{what}:{where:x};", address)
        elif self.stepping is not None:
            if address == self.stepping[0]:
                return                          # the instruction being stepped (an
                #                                 instruction jumping to itself is not stepped)
            self.stepping = None
            self._stop(SIGTRAP, "", address)
        if self.stepping is None and not self.watchpoints and self.trace_hook is not None:
            uc.hook_del(self.trace_hook)
            self.trace_hook = None

    def _ensure_trace(self, pc) -> None:
        """Start tracing every instruction; re-translate so that the hook runs."""
        if self.trace_hook is None:
            self.trace_hook = self.m.uc.hook_add(UC_HOOK_CODE, self._trace, begin=1, end=0)
            self.m.uc.ctl_flush_tb()
            if pc is not None and self.m.running:
                self.m.set_reg("rip", pc)       # leave the current block, rebuilt hooked

    def _stop(self, signal: int, reason: str = "", pc=None) -> None:
        self.just_stopped_at = pc
        try:
            self.serve(signal, reason, pc)
        except OSError:
            self.detached = True

    def _on_watch(self, kind: str):
        def hook(uc, access, address, size, value, user_data):
            if not self.detached and self.conn is not None and self.pending_watch is None:
                self.pending_watch = (kind, address)     # stop after this instruction
        return hook

    def _on_fault(self, access, addr, size) -> bool:
        if self.conn is not None and not self.detached and self.m.running:
            self.stepping = None
            self._stop(SIGSEGV)
        return False                 # never handled: kemu reports it

    # -------------------------------------------------------------- serve
    def serve(self, signal: int, reason: str = "", pc=None) -> None:
        """Report a stop and answer GDB until it resumes or detaches."""
        self._send(f"T{signal:02x}{reason}thread:1;".encode())
        while True:
            pkt = self._recv_packet()
            if pkt is None:
                self.detached = True
                return
            reply = self._answer(pkt)
            if reply is None:                    # resume
                if self.stepping is not None or self.watchpoints:
                    self._ensure_trace(pc)
                return
            self._send(reply)
            if self.detached:
                return

    def _answer(self, pkt: bytes):
        m = self.m
        text = pkt.decode("latin-1")
        head = text[:1]
        if text.startswith("qSupported"):
            return (b"PacketSize=4000;qXfer:features:read+;qXfer:libraries:read+;qXfer:exec-file:read+;"
                    b"swbreak+;hwbreak+")
        if text.startswith("qXfer:features:read:target.xml:"):
            off, length = (int(x, 16) for x in text.rsplit(":", 1)[1].split(","))
            return self._xfer(TARGET_XML.encode(), off, length)
        if text.startswith("qXfer:exec-file:read:"):
            off, length = (int(x, 16) for x in text.rsplit(":", 1)[1].split(","))
            return self._xfer(empty_executable().encode(), off, length)
        if text.startswith("qXfer:libraries:read::"):
            off, length = (int(x, 16) for x in text.rsplit(":", 1)[1].split(","))
            return self._xfer(self._library_list(), off, length)
        if text == "?":
            return f"T{SIGTRAP:02x}library:;thread:1;".encode()
        if text in ("qC",):
            return b"QC1"
        if text == "qfThreadInfo":
            return b"m1"
        if text == "qsThreadInfo":
            return b"l"
        if text == "qAttached":
            return b"1"
        if text.startswith(("Hg", "Hc", "qSymbol")) or text.startswith("T"):
            return b"OK"
        if head == "g":
            return self._g_packet()
        if head == "G":
            raw = bytes.fromhex(text[1:])
            for n in range(16):
                self._set_register(n, raw[8 * n:8 * n + 8])
            return b"OK"
        if head == "p":
            return self._register_bytes(int(text[1:], 16)).hex().encode()
        if head == "P":
            n, value = text[1:].split("=")
            self._set_register(int(n, 16), bytes.fromhex(value))
            return b"OK"
        if head == "m":
            addr, length = (int(x, 16) for x in text[1:].split(","))
            try:
                return m.read(addr, length).hex().encode()
            except EmulationError:
                return b"E14"
        if head == "M":
            where, data = text[1:].split(":")
            addr, _length = (int(x, 16) for x in where.split(","))
            try:
                m.write(addr, bytes.fromhex(data))
                m.uc.ctl_remove_cache(addr, addr + max(1, len(data) // 2))
            except EmulationError:
                return b"E14"
            return b"OK"
        if head in "Zz" and len(text) > 1 and text[1] in "01234":
            return self._breakpoint(text)
        if head in "cC":                          # a signal to deliver is dropped
            return None
        if head in "sS":
            self.stepping = (None if self.view else m.reg("rip"),)
            return None
        if head == "D":
            self.detached = True
            self.stepping = None
            return b"OK"
        if head == "k":
            self.detached = True
            return None
        return b""                                  # unsupported

    def _breakpoint(self, text: str) -> bytes:
        kind, addr, length = text[1], *(int(x, 16) for x in text[3:].split(",")[:2])
        uc = self.m.uc
        if kind in "01":
            key = (kind, addr)
            if text[0] == "Z" and key not in self.breakpoints:
                cb = self._on_break("swbreak:;" if kind == "0" else "hwbreak:;")
                self._cb.append(cb)
                self.breakpoints[key] = uc.hook_add(UC_HOOK_CODE, cb, begin=addr, end=addr)
                uc.ctl_remove_cache(addr, addr + 1)
            elif text[0] == "z" and key in self.breakpoints:
                uc.hook_del(self.breakpoints.pop(key))
            return b"OK"
        what = {"2": "watch", "3": "rwatch", "4": "awatch"}[kind]
        key = (kind, addr, length)
        if text[0] == "Z" and key not in self.watchpoints:
            types = {"2": UC_HOOK_MEM_WRITE, "3": UC_HOOK_MEM_READ,
                     "4": UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE}[kind]
            cb = self._on_watch(what)
            self._cb.append(cb)
            self.watchpoints[key] = uc.hook_add(types, cb, begin=addr, end=addr + length - 1)
            uc.ctl_flush_tb()            # memory hooks apply to code translated from now on
        elif text[0] == "z" and key in self.watchpoints:
            uc.hook_del(self.watchpoints.pop(key))
        return b"OK"
