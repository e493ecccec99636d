"""kernel/notifier.c: notifier_chain_register()/unregister() on a chain kept in
kernel memory (the head pointer and each notifier_block's ->next), the way the
blocking chains of pm_chain_head, memory_chain ... are linked.
"""
from __future__ import annotations

import errno

from ..lib.kemu_warn import warn
from kemu.abi.exports import members

members("struct notifier_block", "notifier_call", "next", "priority")


class Chain:
    """A notifier chain: ``head`` is the kernel address of its first-block pointer.

    ``warn_func`` is where Linux's duplicate-registration WARN points (from the
    real kernel: blocking chains call notifier_chain_register() out of line,
    atomic and raw ones have it inlined).
    """
    warn_func = "notifier_chain_register+0x3e/0x70"

    def __init__(self, k, name: str, kind: str):
        self.name, self.kind = name, kind
        self.head = k.machine.alloc_kdata(8, 8)

    def _next(self, k, nb):
        return nb + k.target.offset("notifier_block.next")

    def blocks(self, k) -> list[int]:
        out, nb = [], k.machine.read_u64(self.head)
        while nb:
            out.append(nb)
            nb = k.machine.read_u64(self._next(k, nb))
            k.machine.check_deadline()          # a chain a module made circular
        return out

    def register(self, k, nb) -> int:
        """notifier_chain_register(): by descending priority, after equal ones."""
        m = k.machine
        prio = m.read_s32(nb + k.target.offset("notifier_block.priority"))
        link = self.head
        while m.read_u64(link):
            cur = m.read_u64(link)
            if cur == nb:
                fn = m.read_u64(nb + k.target.offset("notifier_block.notifier_call"))
                sym = k.symbolize(fn)              # %ps: the name, and [module] for a module's
                name = (f"{sym[0]} [{sym[3]}]" if sym[3] else sym[0]) if sym else hex(fn)
                warn(k, "kernel/notifier.c:28", self.warn_func,
                     f"notifier callback {name} already registered")
                return -errno.EEXIST
            if prio > m.read_s32(cur + k.target.offset("notifier_block.priority")):
                break
            link = self._next(k, cur)
            m.check_deadline()
        m.write_u64(self._next(k, nb), m.read_u64(link))
        m.write_u64(link, nb)
        # the block's owner is the module holding it (a library module may register its
        # own block from another module's init), else whoever is running
        owner = k.module_containing(nb) or k.current_module()
        k.register(self.kind, nb, owner, f"{self.name} notifier block")
        return 0

    def unregister(self, k, nb) -> int:
        """notifier_chain_unregister(): 0, or -ENOENT for a block not on the chain."""
        m = k.machine
        link = self.head
        while m.read_u64(link):
            cur = m.read_u64(link)
            if cur == nb:
                m.write_u64(link, m.read_u64(self._next(k, nb)))
                k.unregister(self.kind, nb)
                return 0
            link = self._next(k, cur)
            m.check_deadline()
        return -errno.ENOENT
