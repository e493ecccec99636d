"""Notifier chains, stop_machine(), add_uevent_var() and the CMOS, on built modules."""
import pathlib

import pytest

from kemu.testing import build_module

HERE = pathlib.Path(__file__).parent

CHAINS = r'''#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/reboot.h>
#include <linux/panic_notifier.h>
#include <linux/stop_machine.h>
#include <linux/mc146818rtc.h>
static ATOMIC_NOTIFIER_HEAD(chain);
static BLOCKING_NOTIFIER_HEAD(bchain);
static char order[8];
static int pos;
static int note(struct notifier_block *nb, unsigned long val, void *v)
{
	order[pos++] = '0' + nb->priority;
	return nb->priority == 1 && val == 42 ? NOTIFY_STOP : NOTIFY_OK;
}
static struct notifier_block a = { .notifier_call = note, .priority = 1 };
static struct notifier_block b = { .notifier_call = note, .priority = 5 };
static struct notifier_block c = { .notifier_call = note, .priority = 3 };
static struct notifier_block d = { .notifier_call = note, .priority = 0 };
static struct notifier_block r = { .notifier_call = note };
static struct notifier_block p = { .notifier_call = note };
static int stopped(void *data) { return *(int *)data + 1; }
static char *leave = "none";
module_param(leave, charp, 0444);
static int __init chains_init(void)
{
	int ret, x = 6, unreg, again;
	atomic_notifier_chain_register(&chain, &a);
	atomic_notifier_chain_register(&chain, &b);
	atomic_notifier_chain_register(&chain, &c);
	atomic_notifier_chain_register(&chain, &d);
	ret = atomic_notifier_call_chain(&chain, 42, NULL);
	pr_info("chains: order=%s ret=%#x dup=%d\n", order, ret,
		atomic_notifier_chain_register(&chain, &a));
	blocking_notifier_chain_register(&bchain, &d);
	pos = 0; memset(order, 0, sizeof(order));
	ret = blocking_notifier_call_chain(&bchain, 1, NULL);
	unreg = blocking_notifier_chain_unregister(&bchain, &d);
	again = blocking_notifier_chain_unregister(&bchain, &d);
	pr_info("chains: blocking=%s ret=%#x unreg=%d again=%d\n", order, ret, unreg, again);
	register_reboot_notifier(&r);
	atomic_notifier_chain_register(&panic_notifier_list, &p);
	pr_info("chains: stop_machine=%d rtc_b=%#x rtc_d=%#x\n", stop_machine(stopped, &x, NULL),
		CMOS_READ(RTC_CONTROL), CMOS_READ(RTC_VALID));
	return 0;
}
static void __exit chains_exit(void)
{
	atomic_notifier_chain_unregister(&chain, &a);
	atomic_notifier_chain_unregister(&chain, &b);
	atomic_notifier_chain_unregister(&chain, &c);
	atomic_notifier_chain_unregister(&chain, &d);
	if (strcmp(leave, "reboot"))
		unregister_reboot_notifier(&r);
	atomic_notifier_chain_unregister(&panic_notifier_list, &p);
}
module_init(chains_init);
module_exit(chains_exit);
MODULE_LICENSE("GPL");
'''


@pytest.mark.kemu_findings
def test_notifier_chains_stop_machine_and_cmos(kernel):
    ko = build_module({"chains.c": CHAINS})
    kernel.unload(kernel.load(ko))
    log = kernel.dmesg
    # registering a block twice: notifier_chain_register()'s WARN and -EEXIST
    assert "notifier callback note [chains] already registered" in log
    assert "WARNING: CPU: 0 PID: 1 at kernel/notifier.c:28 atomic_notifier_chain_register" \
           "+0x52/0x80" in log                  # where the real kernel's WARN points
    assert [f["kind"] for f in kernel.findings] == ["warning"]
    # descending priority; the priority-1 block says NOTIFY_STOP (0x8001) for 42
    assert "chains: order=531 ret=0x8001 dup=-17" in log
    assert "chains: blocking=0 ret=0x1 unreg=0 again=-2" in log
    assert "chains: stop_machine=7 rtc_b=0x2 rtc_d=0x80" in log
    assert kernel.registrations == {}


@pytest.mark.kemu_findings
def test_a_notifier_block_left_on_a_kernel_chain_is_reported(kernel):
    ko = build_module({"chains.c": CHAINS})
    kernel.unload(kernel.load(ko, leave="reboot"))
    assert [f["kind"] for f in kernel.findings] == ["warning", "left-registered"]
    assert "reboot notifier block" in kernel.findings[1]["message"]


@pytest.mark.kemu_findings
def test_add_uevent_var_limits_as_the_real_kernel(kernel):
    # tests/expected/kernel_misc/uev.oracle.dmesg: the same module in Debian's kernel
    ko = build_module([HERE / "expected/kernel_misc/uev.c"])
    kernel.unload(kernel.load(ko))
    real = (HERE / "expected/kernel_misc/uev.oracle.dmesg").read_text().splitlines()
    want = [line.split("] ", 1)[1] for line in real
            if "uev:" in line or "add_uevent_var" in line and "WARNING" not in line]
    want = [w for w in want if "loading out-of-tree" not in w and "verification" not in w
            and not w.startswith(" ")]
    got = [line for line in kernel.dmesg if line in want]
    assert got == want
    warnings = [line for line in kernel.dmesg if line.startswith("WARNING:")]
    assert [w.split(" at ", 1)[1] for w in warnings] == [
        "lib/kobject_uevent.c:675 add_uevent_var+0x103/0x130",
        "lib/kobject_uevent.c:686 add_uevent_var+0x118/0x130"]
    assert [f["kind"] for f in kernel.findings] == ["warning", "warning"]


def test_interval_tree_matches_a_brute_force_search(kernel):
    import random
    from kemu.stubs.lib.interval_tree import (interval_tree_insert, interval_tree_iter_first,
                                         interval_tree_iter_next, interval_tree_remove)
    k, t, m = kernel, kernel.target, kernel.machine
    rng = random.Random(7)
    root = k.heap.alloc(t.sizeof("rb_root_cached"), zero=True)
    size = t.sizeof("interval_tree_node")
    nodes = {}
    for _ in range(120):
        node = k.heap.alloc(size, zero=True)
        start = rng.randrange(0, 1000)
        last = start + rng.randrange(0, 60)
        m.write_u64(node + t.offset("interval_tree_node.start"), start)
        m.write_u64(node + t.offset("interval_tree_node.last"), last)
        interval_tree_insert(k, node, root)
        nodes[node] = (start, last)
    for victim in list(nodes)[::3]:
        interval_tree_remove(k, victim, root)
        del nodes[victim]

    def query(a, b):
        found, node = [], interval_tree_iter_first(k, root, a, b)
        while node:
            found.append(node)
            node = interval_tree_iter_next(k, node, a, b)
        return found
    for _ in range(60):
        a = rng.randrange(0, 1100)
        b = a + rng.randrange(0, 80)
        got = query(a, b)
        want = {n for n, (s, l) in nodes.items() if s <= b and a <= l}
        assert set(got) == want and len(got) == len(want)
        assert [nodes[n][0] for n in got] == sorted(nodes[n][0] for n in got)   # in order


def test_request_firmware_without_firmware_logs_as_debian(kernel):
    # tests/expected/kernel_misc/fwtest.oracle.dmesg: the same module in Debian's kernel
    ko = build_module([HERE / "expected/kernel_misc/fwtest.c"])
    kernel.unload(kernel.load(ko))
    real = []
    for line in (HERE / "expected/kernel_misc/fwtest.oracle.dmesg").read_text().splitlines():
        level, text = line[1], line.split("] ", 1)[1]
        if "out-of-tree" not in text and "verification failed" not in text:
            real.append(f"<{level}>{text}")
    kernel.log.flush()
    got = [f"<{r.level}>{r.text}" for r in kernel.log.records
           if "firmware" in r.text or "fwtest:" in r.text and "taints" not in r.text
           and "verification" not in r.text]
    assert got == real


def _result(gen):
    """The value of a model generator that finishes without calling module code."""
    with pytest.raises(StopIteration) as stop:
        next(gen)
    return stop.value.value


def test_wait_on_bit_lock_takes_a_clear_bit_and_timeouts_expire(kernel):
    from kemu.stubs.kernel.sched.wait import bit_wait_timeout, out_of_line_wait_on_bit_lock
    k, m = kernel, kernel.machine
    m.set_reg("rsp", m.stack_addr + 0x3000)              # as if called from module code
    word = k.heap.alloc(8, zero=True)
    m.write_u64(word, 0b0001)
    assert _result(out_of_line_wait_on_bit_lock(k, word, 3, k.export_addr("bit_wait"), 2)) == 0
    assert m.read_u64(word) == 0b1001                     # test_and_set_bit() took bit 3
    key = k.heap.alloc(k.target.sizeof("wait_bit_key"), zero=True)
    m.write_u64(key + k.target.offset("wait_bit_key.timeout"), k.jiffies() - 1)
    assert _result(bit_wait_timeout(k, key, 2)) == -11    # -EAGAIN: the deadline passed
