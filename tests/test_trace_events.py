"""Modules with TRACE_EVENT()s link and run; their events stay disabled."""
from kemu.testing import build_module

TRACE_H = r'''#undef TRACE_SYSTEM
#define TRACE_SYSTEM kemu_trace
#if !defined(_KEMU_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KEMU_TRACE_H
#include <linux/tracepoint.h>
TRACE_EVENT(kemu_tick,
	TP_PROTO(int n, const char *what),
	TP_ARGS(n, what),
	TP_STRUCT__entry(__field(int, n) __string(what, what)),
	TP_fast_assign(__entry->n = n; __assign_str(what, what);),
	TP_printk("n=%d what=%s", __entry->n, __get_str(what))
);
#endif
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kemu_trace
#include <trace/define_trace.h>
'''

SOURCE = r'''#include <linux/module.h>
#define CREATE_TRACE_POINTS
#include "kemu_trace.h"
static int __init traced_init(void)
{
	int i;
	for (i = 0; i < 3; i++)
		trace_kemu_tick(i, "init");
	pr_info("traced: enabled=%d\n", trace_kemu_tick_enabled());
	return 0;
}
static void __exit traced_exit(void) { trace_kemu_tick(-1, "exit"); }
module_init(traced_init);
module_exit(traced_exit);
MODULE_LICENSE("GPL");
'''


def test_a_module_with_trace_events_loads_and_its_events_are_off(kernel):
    ko = build_module({"traced.c": SOURCE, "kemu_trace.h": TRACE_H}, cflags="-I$(src)")
    mod = kernel.load(ko)
    assert "traced: enabled=0" in kernel.dmesg
    kernel.unload(mod)
    assert kernel.findings == []
