"""kernel/trace/trace_events.c, trace_output.c, trace_event_perf.c, bpf_trace.c.

A module with ``TRACE_EVENT()``s links against the tracing core: its event
classes point at ``trace_event_raw_init`` and ``trace_event_reg``, and its
probes call the ring-buffer, perf and BPF entry points. Every one of those
runs only once an event is enabled (through tracefs, perf or a BPF program),
and nothing in kemu enables one: the tracepoints' static keys stay off, so
``trace_foo()`` in module code is a not-taken branch, exactly as on a kernel
where nobody traces. The exports exist so such modules link; should one be
called anyway, it is a ``not-modelled`` finding, and it returns what makes
the probe give up (no buffer, a soft-disabled event).
"""
from kemu.abi.exports import unreachable

WHY = "kemu never enables trace events (no tracefs, perf or BPF)"

# enum print_line_t: TRACE_TYPE_PARTIAL_LINE = 0, TRACE_TYPE_HANDLED = 1
for _proto, _result in (
        ("int trace_event_raw_init(struct trace_event_call *call)", 0),
        ("int trace_event_reg(struct trace_event_call *event, enum trace_reg type, void *data)",
         -22),
        ("void *trace_event_buffer_reserve(struct trace_event_buffer *fbuffer, "
         "struct trace_event_file *trace_file, unsigned long len)", 0),
        ("void trace_event_buffer_commit(struct trace_event_buffer *fbuffer)", None),
        ("bool trace_event_ignore_this_pid(struct trace_event_file *trace_file)", 1),
        ("bool __trace_trigger_soft_disabled(struct trace_event_file *file)", 1),
        # 5.10's trace_trigger_soft_disabled() calls it in trigger mode only
        ("enum event_trigger_type event_triggers_call(struct trace_event_file *file, void *rec, "
         "struct ring_buffer_event *event)", 0),
        ("int trace_raw_output_prep(struct trace_iterator *iter, struct trace_event *event)", 0),
        ("void trace_event_printf(struct trace_iterator *iter, const char *fmt, ...)", None),
        ("enum print_line_t trace_handle_return(struct trace_seq *s)", 0),
        ("const char *trace_print_flags_seq(struct trace_seq *p, const char *delim, "
         "unsigned long flags, const struct trace_print_flags *flag_array)", 0),
        ("const char *trace_print_symbols_seq(struct trace_seq *p, unsigned long val, "
         "const struct trace_print_flags *symbol_array)", 0),
        ("const char *trace_print_bitmask_seq(struct trace_seq *p, void *bitmask_ptr, "
         "unsigned int bitmask_size)", 0),
        ("const char *trace_print_hex_seq(struct trace_seq *p, const unsigned char *buf, "
         "int len, bool concatenate)", 0),
        ("const char *trace_print_array_seq(struct trace_seq *p, const void *buf, int count, "
         "size_t el_size)", 0),
        ("const char *trace_print_hex_dump_seq(struct trace_seq *p, const char *prefix_str, "
         "int prefix_type, int rowsize, int groupsize, const void *buf, size_t len, "
         "bool ascii)", 0),
        ("void *perf_trace_buf_alloc(int size, struct pt_regs **regs, int *rctxp)", 0),
        ("void perf_trace_run_bpf_submit(void *raw_data, int size, int rctx, "
         "struct trace_event_call *call, u64 count, struct pt_regs *regs, "
         "struct hlist_head *head, struct task_struct *task)", None),
        *((f"void bpf_trace_run{n}(struct bpf_prog *prog, "
           + ", ".join(f"u64 arg{i}" for i in range(1, n + 1)) + ")", None)
          for n in range(1, 13)),
):
    unreachable(_proto, _result, WHY)
