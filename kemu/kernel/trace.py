"""kemu's export-call trace (``kemu run --trace``), in the spirit of ftrace's
function tracer with argument decoding (kernel/trace/).

Once started, every call from module code into a modelled export is recorded
with its decoded arguments, its caller (%pS) and its return value. Left out:
ftrace's ring buffer, filters and per-CPU buffers; calls between module
functions are not traced.
"""
from __future__ import annotations

from kemu.errors import EmulationError
from kemu.abi.exports import SlotBinding


class Tracer:
    """The trace of export calls: ``k.trace`` is None until :meth:`start`."""

    def __init__(self, k):
        self.k = k
        self.hook = None            # what SlotBinding calls after an export returns

    def start(self) -> None:
        """Record every export call from now on in ``k.trace`` (decoded)."""
        self.k.trace = []
        self.hook = self.record
        self.k.machine.divert_natives(True)       # machine-code exports go by their models
        for fn in self.k.machine.slot_fns:
            if isinstance(fn, SlotBinding):
                fn.tracer = self.record

    def stop(self) -> None:
        """Stop recording export calls (``k.trace`` becomes None)."""
        self.k.trace = None
        self.hook = None
        self.k.machine.divert_natives(False)
        for fn in self.k.machine.slot_fns:
            if isinstance(fn, SlotBinding):
                fn.tracer = None

    def record(self, defn, args, result, caller) -> None:
        """One traced call: name, decoded arguments, caller and return value."""
        k = self.k
        decoded = {}
        for param, value in zip(defn.proto.params, args):
            ctype = param.ctype
            if ctype.pointer and "char" in ctype.spelling and value:
                try:
                    text = k.machine.read_cstr(value, 128)
                    decoded[param.name] = text.decode("utf-8", "backslashreplace")
                    continue
                except EmulationError:
                    pass
            decoded[param.name] = f"{value:#x}" if ctype.pointer else value
        entry = {"fn": defn.name, "args": decoded, "caller": k.format_addr(caller)}
        if not defn.proto.ret.is_void:
            entry["ret"] = f"{result & (2**64 - 1):#x}" if defn.proto.ret.pointer and \
                isinstance(result, int) else result
        k.trace.append(entry)
