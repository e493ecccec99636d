"""What kemu finds wrong with a module, beyond what Linux itself prints:
mm/kmemleak.c's report of unreferenced objects, and registrations a module
left behind after its exit (the kernel would keep calling into freed code).

``k.findings`` is the list of findings (dicts with kind, module, message and
details); ``k.registrations`` what modules registered with kemu's subsystem
models. Left out: kmemleak's scanning of memory for references (an object the
module did not free is a leak once its exit has run) and its debugfs file.
"""
from __future__ import annotations

from kemu.errors import EmulationError
from kemu.kernel.log import KERN_ERR


class Registration:
    """Something a module registered with a kernel subsystem."""
    __slots__ = ("kind", "key", "owner", "what", "obj")

    def __init__(self, kind, key, owner, what, obj=None):
        self.kind, self.key, self.owner, self.what, self.obj = kind, key, owner, what, obj


class Registrations(dict):
    """(kind, key) -> :class:`Registration`, oldest first."""

    def add(self, kind: str, key, owner, what: str, obj=None) -> None:
        """Record that ``owner`` (a Module or None) registered something.

        ``kind`` groups registrations ("proc entry", "netfilter hook", ...),
        ``key`` identifies one, ``what`` is how a report names it. Whatever a
        module still has registered once its exit has run is reported.
        """
        self[(kind, key)] = Registration(kind, key, owner, what, obj)

    def of_kind(self, kind: str) -> list:
        """The live registrations of one kind, oldest first."""
        return [r for r in self.values() if r.kind == kind]


class Findings(list):
    """The findings so far (a list of dicts), and the checks that add to it."""

    LEAK_KINDS = ("kmalloc", "kmalloc_large", "vmalloc")

    def __init__(self, k):
        super().__init__()
        self.k = k

    def add(self, kind: str, message: str, module=None, **details) -> None:
        """Report a problem kemu found (leaked registration, leak, bad unlock...)."""
        name = module.name if hasattr(module, "name") else module
        self.append({"kind": kind, "module": name, "message": message, **details})
        self.k.note(f"{kind}: {message}")

    def check_leaks(self, mod) -> None:
        """After exit: heap objects the module allocated and never freed (kmemleak-style)."""
        from kemu.machine.oops import frame_text
        k = self.k
        for obj in list(k.heap.live.values()):
            if obj.owner != mod.name or obj.reported or not (
                    obj.kind in self.LEAK_KINDS or obj.kind.startswith("kmem_cache:")):
                continue
            obj.reported = True
            try:
                dump = k.machine.read(obj.addr, min(obj.size, 32))
            except EmulationError:
                dump = b""
            where = obj.caller_text or (frame_text(k, obj.caller_addr)
                                        if obj.caller_addr else "?")
            lines = [f"unreferenced object 0x{obj.addr:016x} (size {obj.size}):",
                     f'  comm "insmod", pid 1, jiffies {k.jiffies()}',
                     f"  hex dump (first {len(dump)} bytes):"]
            for i in range(0, len(dump), 16):
                chunk = dump[i:i + 16]
                lines.append("    " + " ".join(f"{b:02x}" for b in chunk).ljust(48) + " " +
                             "".join(chr(b) if 32 <= b < 127 else "." for b in chunk))
            lines += ["  backtrace:", f"    [<{obj.caller_addr:016x}>] {where}"]
            for line in lines:
                k.log.emit(KERN_ERR, line)
            self.add("leak", f"{mod.name} leaked {obj.size} bytes ({obj.kind}) "
                     f"allocated at {where}", mod, addr=obj.addr, size=obj.size, caller=where)

    def check_left_behind(self, mod) -> None:
        """After exit: report leaks and what the module left registered, and drop it."""
        k = self.k
        k.heap.check_quarantine()
        self.check_leaks(mod)
        for reg in [r for r in k.registrations.values() if r.owner is mod]:
            self.add("left-registered", f"{mod.name} left {reg.what} registered "
                     "after its exit", mod, registration=reg.kind)
            k.registrations.pop((reg.kind, reg.key), None)
