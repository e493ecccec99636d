"""kernel/trace/trace_seq.c: formatting a trace event's record into text, for linking.

Modules' event output functions (``TP_printk`` helpers such as SCSI's
``scsi_trace_parse_cdb``) fill a trace_seq when the trace buffer is read;
kemu's trace events are not read through ftrace's output path, so these are
link-only (``not-modelled`` finding, nothing written).
"""
from __future__ import annotations

from kemu.abi.exports import link_only_table

link_only_table((
    ("void trace_seq_printf(struct trace_seq *s, const char *fmt, ...)", None),
    ("void trace_seq_puts(struct trace_seq *s, const char *str)", None),
    ("void trace_seq_putc(struct trace_seq *s, unsigned char c)", None),
    ("void trace_seq_vprintf(struct trace_seq *s, const char *fmt, va_list args)", None),
    ("void trace_seq_bitmask(struct trace_seq *s, const unsigned long *maskp, "
     "int nmaskbits)", None),
    ("int trace_seq_path(struct trace_seq *s, const struct path *path)", 0),
), "trace events are not formatted through ftrace's output path")
