"""What a module did to the kernel, for analysts: the behaviour report.

Each tampering event (a kprobe planted, sys_call_table or CR0.WP written, the
module list unlinked, credentials replaced, ...) is recorded by the model that
saw it, with the module, function and source line that did it and the entry
it happened in (init, exit, a hook). Linux keeps no such record; this is kemu's.
"""
from __future__ import annotations

from kemu.machine.debuginfo import source_line


class Behaviour(list):
    """The events of one kernel, in order: a list of dicts (``--json``'s
    ``behaviour`` section), with :meth:`record` to add one."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def record(self, kind: str, what: str, site: int = 0, **details) -> dict:
        """Record an event: who did it (the running entry's module, the function and
        source line at ``site``, a code address) and when."""
        k = self.k
        entry, mod = k.current_entry or ("", None)
        if mod is None and site:
            mod = k.module_containing(site)
        hit = k.symbolize(site) if site else None
        event = {"seq": len(k.log.records), "kind": kind, "what": what,
                 "module": mod.name if mod else None,
                 "function": hit[0] if hit else None,
                 "line": source_line(k, site) if site else None,
                 "when": entry.split(" ", 1)[1] if mod and entry.startswith(mod.name + " ")
                 else entry, **details}
        self.append(event)
        return event
