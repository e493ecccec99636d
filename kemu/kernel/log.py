"""The kernel log ring (dmesg), as printk's record layer keeps it."""
from __future__ import annotations

from dataclasses import dataclass

LEVEL_NAMES = ("emerg", "alert", "crit", "err", "warn", "notice", "info", "debug")
# The log levels of include/linux/kern_levels.h, once: what KERN_<LEVEL> prefixes carry
KERN_EMERG = 0        # system is unusable
KERN_ALERT = 1        # action must be taken immediately
KERN_CRIT = 2         # critical conditions
KERN_ERR = 3          # error conditions
KERN_WARNING = 4      # warning conditions
KERN_NOTICE = 5       # normal but significant condition
KERN_INFO = 6         # informational
KERN_DEBUG = 7        # debug-level messages
DEFAULT_MESSAGE_LOGLEVEL = KERN_WARNING   # CONFIG_MESSAGE_LOGLEVEL_DEFAULT
KERN_SOH = 0x01
# include/linux/kern_levels.h: the levels by name
KERN_EMERG, KERN_ALERT, KERN_CRIT, KERN_ERR, KERN_WARNING, KERN_NOTICE, KERN_INFO, KERN_DEBUG = range(8)
# PRINTKRB_RECORD_MAX (1024) - 32: vscnprintf() into printk's buffer keeps at most
# 991 bytes of text *including* the KERN_<LEVEL> prefix; the rest, newline too, is lost.
PRINTK_TEXT_MAX = 991


@dataclass
class Record:
    """One printk record."""
    seq: int
    ts_ns: int
    level: int
    text: str
    final: bool = False       # ended with a newline (LOG_NEWLINE) or was closed
    facility: int = 0         # 0 = kernel, 1 = user (kemu's own notes)
    caller: str = ""

    def format(self, time: bool = True) -> str:
        """The line as ``dmesg`` prints it: ``[    1.234567] text``."""
        if not time:
            return self.text
        sec, ns = divmod(self.ts_ns, 1_000_000_000)
        return f"[{sec:5d}.{ns // 1000:06d}] {self.text}"


def split_level(raw: bytes) -> tuple[int | None, bool, bytes]:
    """Strip KERN_SOH prefixes: returns (level or None, is KERN_CONT, text)."""
    level, cont = None, False
    while len(raw) >= 2 and raw[0] == KERN_SOH:
        ch = raw[1]
        if 0x30 <= ch <= 0x37:
            if level is None:
                level = ch - 0x30
        elif ch == ord("c"):
            cont = True
        elif ch != ord("d"):
            break
        raw = raw[2:]
    return level, cont, raw


class KernelLog:
    """The dmesg ring with printk's continuation-line rules."""

    def __init__(self, clock, text_max: int = PRINTK_TEXT_MAX):
        self.clock = clock                 # callable -> nanoseconds
        self.text_max = text_max           # the kernel line's (Line.printk_text_max)
        self.records: list[Record] = []
        self.listeners: list = []          # called with each record once it is final
        self._seq = 0

    def printk(self, raw: bytes, caller: str = "") -> int:
        """Store one printk() call's formatted bytes; returns the text length."""
        level, cont, text = split_level(raw[:self.text_max])
        newline = text.endswith(b"\n")
        if newline:
            text = text[:-1]
        decoded = text.decode("utf-8", "surrogateescape")
        last = self.records[-1] if self.records else None
        if cont and last is not None and not last.final and last.caller == caller:
            last.text += decoded
            if newline:
                self._finalize(last)
            return len(text)
        if last is not None and not last.final:
            self._finalize(last)
        if level is None:
            level = DEFAULT_MESSAGE_LOGLEVEL
        self._seq += 1
        rec = Record(self._seq, self.clock(), level, decoded, caller=caller)
        self.records.append(rec)
        if newline:
            self._finalize(rec)
        return len(text)

    def emit(self, level: int, text: str, facility: int = 0) -> None:
        """Log a whole line from kemu's own models (the loader's pr_err, say)."""
        self.printk(bytes([KERN_SOH, 0x30 + level]) + text.encode("utf-8", "surrogateescape") +
                    b"\n", caller="kernel")
        self.records[-1].facility = facility

    def restore(self, records: list) -> None:
        """Start from records kept from an earlier boot of the same session."""
        self.records[:0] = records
        if records:
            self._seq = max(self._seq, records[-1].seq)

    def flush(self) -> None:
        """Close a pending line that has no newline yet (at the end of a run)."""
        if self.records and not self.records[-1].final:
            self._finalize(self.records[-1])

    def _finalize(self, rec: Record) -> None:
        rec.final = True
        for listener in self.listeners:
            listener(rec)

    def lines(self, time: bool = False) -> list[str]:
        """Every record's text (with timestamps if ``time``)."""
        return [r.format(time) for r in self.records]
