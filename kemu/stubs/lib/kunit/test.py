"""lib/kunit/test.c, assert.c, resource.c, try-catch.c: KUnit suites of a module, run at load.

A module built with ``kunit_test_suites(...)`` keeps an array of ``struct
kunit_suite *`` in its ``.kunit_test_suites`` section; kernel/module/main.c's
find_module_sections() records it (``mod->kunit_suites``) and lib/kunit/test.c's
kunit_module_notify() runs the suites when the module is COMING, before its
init: ``kunit_run_tests()`` for each, printing KTAP as 6.1 prints it. kemu does
the same from the section. Each case runs as its own entry into module code
(the try-catch kthread of try-catch.c); an ASSERT or ``kunit_skip()`` throws
out of it (``kunit_try_catch_throw``), after which the suite's ``exit`` and
the resource cleanup run, as in ``kunit_catch_run_case()``. Assertion
failures are formatted by the formatter whose address the module passed
(``kunit_binary_assert_format``, ...), ported from assert.c.

Left out: debugfs logs (``CONFIG_KUNIT_DEBUGFS``: case and suite logs stay
NULL), the ``kunit.enable``/``stats_enabled`` parameters (enabled, stats for
more than one subtest), ``kunit_fail_current_test`` (built-in KUnit only) and
the 300 s timeout (a case whose code faults is reported as timed out at once).
"""
from __future__ import annotations

import errno
from dataclasses import dataclass, field

from kemu import export
from kemu.errors import EmulationError, KemuError
from kemu.abi.exports import kernel_api, members, module_notifier, unreachable
from kemu.module.module import ModuleState
from kemu.kernel.log import KERN_ERR, KERN_INFO

from kemu.abi.toolkit import cstr, init_list_head, rd, s32, wr
from ...kernel.printk import vformat
from ...mm.slab import kfree_addr, kmalloc

# lib/kunit (include/kunit/*.h): the KUnit core kemu runs suites with
members("struct kunit", "name", "log", "param_value", "param_index", "status", "resources",
        "status_comment", "priv", "try_catch")
members("struct kunit_suite", "name", "suite_init", "suite_exit", "init", "exit", "test_cases",
        "status_comment", "suite_init_err", "log")
members("struct kunit_case", "run_case", "name", "generate_params", "status", "log")
members("struct kunit_loc", "line", "file")
members("struct kunit_unary_assert", "condition", "expected_true")
members("struct kunit_ptr_not_err_assert", "text", "value")
members("struct kunit_binary_assert_text", "operation", "left_text", "right_text")
members("struct kunit_binary_assert", "left_value", "right_value", "text")
members("struct kunit_binary_ptr_assert", "left_value", "right_value", "text")
members("struct kunit_binary_str_assert", "left_value", "right_value", "text")
members("struct kunit_resource", "data", "free", "refcount", "node", "should_kfree", "name")

SUBTEST_INDENT = "    "              # KUNIT_SUBTEST_INDENT
SUBSUBTEST_INDENT = "        "       # KUNIT_SUBSUBTEST_INDENT
STATUS_WORDS = {0: "ok", 1: "not ok", 2: "ok"}      # kunit_status_to_ok_not_ok()


class KunitThrow(KemuError):
    """kunit_try_catch_throw(): the case's thread ends (-EFAULT), the catch runs.
    Outside a case (no try-catch to run) it ends the entry with this error."""

    def __init__(self):
        super().__init__("kunit_try_catch_throw() outside a KUnit test case", errno.EFAULT)


@dataclass
class CaseResult:
    """One test case as KTAP reported it."""
    suite: str
    name: str
    number: int
    status: str                  # "ok", "not ok", "skip"
    comment: str = ""
    params: list = field(default_factory=list)     # (description, "ok"/"not ok")
    log: list = field(default_factory=list)        # the kernel log lines of the case


@dataclass
class SuiteResult:
    """One suite of a module, in the order the suites ran."""
    module: object
    name: str
    number: int
    status: str
    cases: list = field(default_factory=list)

    @property
    def failed(self) -> list:
        return [c for c in self.cases if c.status == "not ok"]


class KUnit:
    """Per kernel: the suite counter of test.c, the running case's resources
    (kmalloc'd by kunit_kmalloc_array), and what every suite reported."""

    def __init__(self, k):
        self.k = k
        self.suite_counter = 1               # kunit_suite_counter
        self.kmalloc_resources: set = set()  # struct kunit_resource of kunit_kmalloc_array
        self.results: list[SuiteResult] = []


# ---------------------------------------------------------------- printing
def _printk(k, level: int, text: str) -> None:
    k.log.printk(bytes([1, 0x30 + level]) + text.encode("utf-8", "surrogateescape"),
                 caller="kunit")


def _status(k, addr: int, member: str) -> int:
    return rd(k, addr, member, 4)


def kunit_err(k, name: str, text: str) -> None:
    """kunit_err(test_or_suite, ...): KERN_ERR, "    # NAME: " and the text (no
    newline added); NAME is test->name, or a suite's name."""
    _printk(k, KERN_ERR, f"{SUBTEST_INDENT}# {name}: {text}")


def _test_err(k, test: int, text: str) -> None:
    kunit_err(k, cstr(k, rd(k, test, "kunit.name")), text)


def _set_failure(k, test: int) -> None:
    wr(k, test, "kunit.status", k.target.const("KUNIT_FAILURE"), 4)


# -------------------------------------------------------- assertion formats
def _lld(value: int) -> int:
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >> 63 else value


def _message(message) -> str:
    """kunit_assert_print_msg(): "\\n" and the message when there is one."""
    return f"\n{message}" if message is not None else ""


def _binary_text(k, assertion: int, kind: str):
    text = rd(k, assertion, f"{kind}.text")
    return (cstr(k, rd(k, text, "kunit_binary_assert_text.left_text")),
            cstr(k, rd(k, text, "kunit_binary_assert_text.operation")),
            cstr(k, rd(k, text, "kunit_binary_assert_text.right_text")))


class AssertFormat:
    """An assert_format_t of assert.c: the lines after the prologue."""

    def format(self, k, assertion: int, message) -> str:
        raise NotImplementedError


class FailAssert(AssertFormat):
    def format(self, k, assertion, message):
        return message or ""


class UnaryAssert(AssertFormat):
    def format(self, k, assertion, message):
        condition = cstr(k, rd(k, assertion, "kunit_unary_assert.condition"))
        if rd(k, assertion, "kunit_unary_assert.expected_true", 1):
            out = f"{SUBTEST_INDENT}Expected {condition} to be true, but is false\n"
        else:
            out = f"{SUBTEST_INDENT}Expected {condition} to be false, but is true\n"
        return out + _message(message)


class PtrNotErrAssert(AssertFormat):
    def format(self, k, assertion, message):
        text = cstr(k, rd(k, assertion, "kunit_ptr_not_err_assert.text"))
        value = rd(k, assertion, "kunit_ptr_not_err_assert.value")
        out = ""
        if not value:
            out = f"{SUBTEST_INDENT}Expected {text} is not null, but is\n"
        elif value >= (1 << 64) - 4095:                          # IS_ERR()
            out = f"{SUBTEST_INDENT}Expected {text} is not error, but is: {_lld(value)}\n"
        return out + _message(message)


class BinaryAssert(AssertFormat):
    def format(self, k, assertion, message):
        left, op, right = _binary_text(k, assertion, "kunit_binary_assert")
        lv = _lld(rd(k, assertion, "kunit_binary_assert.left_value"))
        rv = _lld(rd(k, assertion, "kunit_binary_assert.right_value"))
        out = f"{SUBTEST_INDENT}Expected {left} {op} {right}, but\n"
        if left != str(lv):                                     # is_literal()
            out += f"{SUBSUBTEST_INDENT}{left} == {lv}\n"
        if right != str(rv):
            out += f"{SUBSUBTEST_INDENT}{right} == {rv}"
        return out + _message(message)


class BinaryPtrAssert(AssertFormat):
    def format(self, k, assertion, message):
        left, op, right = _binary_text(k, assertion, "kunit_binary_ptr_assert")
        lv = rd(k, assertion, "kunit_binary_ptr_assert.left_value")
        rv = rd(k, assertion, "kunit_binary_ptr_assert.right_value")
        return (f"{SUBTEST_INDENT}Expected {left} {op} {right}, but\n"
                f"{SUBSUBTEST_INDENT}{left} == {lv:016x}\n"
                f"{SUBSUBTEST_INDENT}{right} == {rv:016x}" + _message(message))


class BinaryStrAssert(AssertFormat):
    def format(self, k, assertion, message):
        left, op, right = _binary_text(k, assertion, "kunit_binary_str_assert")
        lv = cstr(k, rd(k, assertion, "kunit_binary_str_assert.left_value"))
        rv = cstr(k, rd(k, assertion, "kunit_binary_str_assert.right_value"))

        def literal(text, value):                               # is_str_literal()
            return len(text) >= 2 and text[0] == '"' and text[-1] == '"' and \
                text[1:-1] == value[:len(text) - 2]
        out = f"{SUBTEST_INDENT}Expected {left} {op} {right}, but\n"
        if not literal(left, lv):
            out += f'{SUBSUBTEST_INDENT}{left} == "{lv}"\n'
        if not literal(right, rv):
            out += f'{SUBSUBTEST_INDENT}{right} == "{rv}"'
        return out + _message(message)


# The formatters a module passes to kunit_do_failed_assertion(), by export name.
ASSERT_FORMATS = {
    "kunit_fail_assert_format": FailAssert(),
    "kunit_unary_assert_format": UnaryAssert(),
    "kunit_ptr_not_err_assert_format": PtrNotErrAssert(),
    "kunit_binary_assert_format": BinaryAssert(),
    "kunit_binary_ptr_assert_format": BinaryPtrAssert(),
    "kunit_binary_str_assert_format": BinaryStrAssert(),
}
for _name in ASSERT_FORMATS:
    unreachable(f"void {_name}(const struct kunit_assert *assert, const struct va_format "
                "*message, struct string_stream *stream)",
                why="kemu formats assertions inside kunit_do_failed_assertion()")


def _fail(k, test: int, file: str, line: int, assert_type: int, text: str) -> None:
    """kunit_fail(): mark the test failed, print prologue and formatted assertion."""
    _set_failure(k, test)
    kind = "ASSERTION" if assert_type == k.target.const("KUNIT_ASSERTION") else "EXPECTATION"
    _test_err(k, test, f"{kind} FAILED at {file}:{line}\n{text}")


@export("void kunit_do_failed_assertion(struct kunit *test, const struct kunit_loc *loc, "
        "int type, const struct kunit_assert *assert, void *assert_format, const char *fmt, ...)")
def kunit_do_failed_assertion(k, test, loc, assert_type, assertion, assert_format, fmt, va):
    message = vformat(k, fmt, va).decode("utf-8", "surrogateescape") if fmt else None
    hit = k.symbolize(assert_format)
    formatter = ASSERT_FORMATS.get(hit[0]) if hit and hit[1] == 0 else None
    text = formatter.format(k, assertion, message) if formatter else (message or "")
    _fail(k, test, cstr(k, rd(k, loc, "kunit_loc.file")), s32(rd(k, loc, "kunit_loc.line", 4)),
          assert_type, text)
    if assert_type == k.target.const("KUNIT_ASSERTION"):
        raise KunitThrow()                                       # kunit_abort()


@export("void kunit_try_catch_throw(struct kunit_try_catch *try_catch)")
def kunit_try_catch_throw(k, try_catch):
    raise KunitThrow()


@export("void kunit_log_append(char *log, const char *fmt, ...)")
def kunit_log_append(k, log, fmt, va):
    if not log:
        return                       # no debugfs log (CONFIG_KUNIT_DEBUGFS)
    size = k.target.const("KUNIT_LOG_SIZE")
    old = k.machine.read_cstr(log, size)
    left = size - len(old) - 1
    if left > 0:
        k.machine.write(log + len(old), vformat(k, fmt, va)[:left] + b"\0")


# --------------------------------------------------------------- resources
def _list_add_tail(k, node: int, head: int) -> None:
    prev = rd(k, head, "list_head.prev")
    wr(k, node, "list_head.next", head)
    wr(k, node, "list_head.prev", prev)
    wr(k, prev, "list_head.next", node)
    wr(k, head, "list_head.prev", node)


def _list_del(k, node: int) -> None:
    nxt, prev = rd(k, node, "list_head.next"), rd(k, node, "list_head.prev")
    wr(k, prev, "list_head.next", nxt)
    wr(k, nxt, "list_head.prev", prev)


def _resources(k, test: int) -> list[int]:
    """The test's resources (struct kunit_resource), oldest first."""
    head = test + k.target.offset("kunit.resources")
    node_off = k.target.offset("kunit_resource.node")
    out, node = [], rd(k, head, "list_head.next")
    while node != head and node:
        out.append(node - node_off)
        node = rd(k, node, "list_head.next")
    return out


def _add_resource(k, test: int, res: int, free: int, data: int) -> None:
    wr(k, res, "kunit_resource.free", free)
    wr(k, res, "kunit_resource.refcount", 1, 4)                 # kref_init()
    wr(k, res, "kunit_resource.data", data)
    _list_add_tail(k, res + k.target.offset("kunit_resource.node"),
                   test + k.target.offset("kunit.resources"))


@export("int __kunit_add_resource(struct kunit *test, void *init, void *free, "
        "struct kunit_resource *res, void *data)")
def __kunit_add_resource(k, test, init, free, res, data):
    wr(k, res, "kunit_resource.free", free)
    wr(k, res, "kunit_resource.refcount", 1, 4)
    if init:
        ret = s32((yield k.call_request(init, res, data)))
        if ret:
            return ret
    else:
        wr(k, res, "kunit_resource.data", data)
    _list_add_tail(k, res + k.target.offset("kunit_resource.node"),
                   test + k.target.offset("kunit.resources"))
    return 0


def remove_resource(k, test: int, res: int):
    """kunit_remove_resource(): unlink, and (last reference) free it: a generator."""
    _list_del(k, res + k.target.offset("kunit_resource.node"))
    refs = rd(k, res, "kunit_resource.refcount", 4) - 1
    wr(k, res, "kunit_resource.refcount", refs, 4)
    if refs:
        return
    kunit = k.model(KUnit)
    if res in kunit.kmalloc_resources:                 # kunit_kmalloc_array_free()
        kunit.kmalloc_resources.discard(res)
        kfree_addr(k, rd(k, res, "kunit_resource.data"))
    elif rd(k, res, "kunit_resource.free"):
        yield k.call_request(rd(k, res, "kunit_resource.free"), res)
    if rd(k, res, "kunit_resource.should_kfree", 1):
        kfree_addr(k, res)


@export("void kunit_remove_resource(struct kunit *test, struct kunit_resource *res)")
def kunit_remove_resource(k, test, res):
    yield from remove_resource(k, test, res)


@export("int kunit_destroy_resource(struct kunit *test, void *match, void *match_data)")
def kunit_destroy_resource(k, test, match, match_data):
    for res in reversed(_resources(k, test)):                 # kunit_find_resource()
        if (yield k.call_request(match, test, res, match_data)) & 0xFF:
            yield from remove_resource(k, test, res)
            return 0
    return -errno.ENOENT


@export("void *kunit_kmalloc_array(struct kunit *test, size_t n, size_t size, gfp_t gfp)",
        fails="NULL")
def kunit_kmalloc_array(k, test, n, size, gfp):
    if size and n > (1 << 64) // size:
        return 0
    res = kmalloc(k, k.target.sizeof("kunit_resource"), gfp & ~k.target.const("__GFP_ZERO"))
    if not res:
        return 0
    k.machine.write(res, bytes(k.target.sizeof("kunit_resource")))
    data = kmalloc(k, n * size, gfp)
    if not data:
        kfree_addr(k, res)
        return 0
    wr(k, res, "kunit_resource.should_kfree", 1, 1)
    _add_resource(k, test, res, 0, data)
    k.model(KUnit).kmalloc_resources.add(res)
    return data


@export("void kunit_kfree(struct kunit *test, const void *ptr)")
def kunit_kfree(k, test, ptr):
    if not ptr:
        return
    kunit = k.model(KUnit)
    for res in reversed(_resources(k, test)):
        if res in kunit.kmalloc_resources and rd(k, res, "kunit_resource.data") == ptr:
            yield from remove_resource(k, test, res)
            return
    # KUNIT_FAIL(test, "kunit_kfree: %px already freed or not allocated by kunit", ptr)
    text = f"kunit_kfree: {ptr:016x} already freed or not allocated by kunit"
    _fail(k, test, "lib/kunit/test.c", 741, k.target.const("KUNIT_EXPECTATION"), text)


# ------------------------------------------------------------------ running
def _drive(k, gen, mod, entry: str):
    """Run a resource generator from the runner (outside emulation)."""
    value = None
    while True:
        try:
            req = gen.send(value)
        except StopIteration as stop:
            return stop.value
        value = k.call(req.fn_addr, *req.args, entry=entry, module=mod)


def _call(k, mod, fn: int, *args, entry: str) -> int:
    return k.call(fn, *args, entry=entry, module=mod)


def kunit_cleanup(k, mod, test: int, entry: str) -> None:
    """kunit_cleanup(): remove the resources newest first."""
    while True:
        resources = _resources(k, test)
        if not resources:
            return
        _drive(k, remove_resource(k, test, resources[-1]), mod, entry)


def _run_case_catch_errors(k, mod, suite: int, case: int, test: int, entry: str) -> None:
    """kunit_run_case_catch_errors(): init, the case, exit and cleanup, the
    case in its own try-catch "thread"."""
    t = k.target
    wr(k, test, "kunit.name", rd(k, case, "kunit_case.name"))
    wr(k, test, "kunit.log", rd(k, case, "kunit_case.log"))
    wr(k, test, "kunit.status", t.const("KUNIT_SUCCESS"), 4)
    k.machine.write_u8(test + t.offset("kunit.status_comment"), 0)
    init_list_head(k, test + t.offset("kunit.resources"))
    timed_out = False
    try:
        init = rd(k, suite, "kunit_suite.init")
        ret = s32(_call(k, mod, init, test, entry=entry)) if init else 0
        if ret:
            _test_err(k, test, f"failed to initialize: {ret}\n")
            _set_failure(k, test)
        else:
            _call(k, mod, rd(k, case, "kunit_case.run_case"), test, entry=entry)
    except KunitThrow:
        pass                                   # the catch: clean up below
    except EmulationError:                     # the thread died: Linux waits, then gives up
        timed_out = True
    if timed_out:
        _test_err(k, test, "try timed out\n")
        _set_failure(k, test)
        _test_err(k, test, "test case timed out\n")
    else:
        try:
            exit_fn = rd(k, suite, "kunit_suite.exit")
            if exit_fn:
                _call(k, mod, exit_fn, test, entry=entry)
            kunit_cleanup(k, mod, test, entry)
        except (KunitThrow, EmulationError):
            _set_failure(k, test)
    status = rd(k, test, "kunit.status", 4)
    failure, success = t.const("KUNIT_FAILURE"), t.const("KUNIT_SUCCESS")
    if status == failure:
        wr(k, case, "kunit_case.status", failure, 4)
    elif rd(k, case, "kunit_case.status", 4) != failure and status == success:
        wr(k, case, "kunit_case.status", success, 4)


def _stats_line(stats: dict) -> str:
    return (f"pass:{stats['pass']} fail:{stats['fail']} skip:{stats['skip']} "
            f"total:{stats['total']}")


def _update(stats: dict, status: int) -> None:
    stats[{0: "pass", 1: "fail", 2: "skip"}[status]] += 1
    stats["total"] += 1


def _cases(k, suite: int) -> list[int]:
    case, size, out = rd(k, suite, "kunit_suite.test_cases"), k.target.sizeof("kunit_case"), []
    while case and rd(k, case, "kunit_case.run_case"):
        out.append(case)
        case += size
    return out


def kunit_run_tests(k, mod, suite: int) -> SuiteResult:
    """kunit_run_tests() of lib/kunit/test.c, printing KTAP as it does."""
    t, m = k.target, k.machine
    kunit = k.model(KUnit)
    k.add_taint("N", lockdep_unreliable=False)          # TAINT_TEST
    name = cstr(k, suite + t.offset("kunit_suite.name"), 256)
    result = SuiteResult(mod, name, 0, "")
    entry = f"{mod.name} kunit {name}"
    m.write_u8(suite + t.offset("kunit_suite.status_comment"), 0)      # kunit_init_suite()
    wr(k, suite, "kunit_suite.suite_init_err", 0, 4)
    suite_stats = {"pass": 0, "fail": 0, "skip": 0, "total": 0}
    total_stats = dict(suite_stats)
    init_err = 0
    suite_init = rd(k, suite, "kunit_suite.suite_init")
    if suite_init:
        init_err = s32(_call(k, mod, suite_init, suite, entry=entry))
        wr(k, suite, "kunit_suite.suite_init_err", init_err, 4)
        if init_err:
            kunit_err(k, name, f"{SUBTEST_INDENT}# failed to initialize ({init_err})")
    if not init_err:
        cases = _cases(k, suite)
        _printk(k, KERN_INFO, f"{SUBTEST_INDENT}KTAP version 1\n")
        _printk(k, KERN_INFO, f"{SUBTEST_INDENT}# Subtest: {name}\n")
        _printk(k, KERN_INFO, f"{SUBTEST_INDENT}1..{len(cases)}\n")
        size = t.sizeof("kunit")
        desc_size = t.const("KUNIT_PARAM_DESC_SIZE")
        for number, case in enumerate(cases, 1):
            mark = len(k.log.records)
            test = k.heap.alloc(size, kind="kmalloc", zero=True)      # the runner's stack
            desc = k.heap.alloc(desc_size, kind="kmalloc", zero=True)
            case_name = cstr(k, rd(k, case, "kunit_case.name"))
            param_stats = {"pass": 0, "fail": 0, "skip": 0, "total": 0}
            wr(k, case, "kunit_case.status", t.const("KUNIT_SKIPPED"), 4)
            params = []
            gen = rd(k, case, "kunit_case.generate_params")
            case_entry = f"{mod.name} kunit {case_name}"
            if not gen:
                _run_case_catch_errors(k, mod, suite, case, test, case_entry)
                _update(param_stats, rd(k, test, "kunit.status", 4))
            else:
                m.write_u8(desc, 0)
                value = _call(k, mod, gen, 0, desc, entry=case_entry)
                wr(k, test, "kunit.param_value", value)
                _printk(k, KERN_INFO, f"{SUBTEST_INDENT}{SUBTEST_INDENT}KTAP version 1\n")
                _printk(k, KERN_INFO, f"{SUBTEST_INDENT}{SUBTEST_INDENT}# Subtest: {case_name}")
                while value:
                    _run_case_catch_errors(k, mod, suite, case, test, case_entry)
                    index = s32(rd(k, test, "kunit.param_index", 4))
                    text = cstr(k, desc, desc_size) or f"param-{index}"
                    status = rd(k, test, "kunit.status", 4)
                    params.append((text, STATUS_WORDS[status]))
                    _printk(k, KERN_INFO, f"{SUBTEST_INDENT}{SUBTEST_INDENT}"
                                          f"{STATUS_WORDS[status]} {index + 1} {text}")
                    m.write_u8(desc, 0)
                    value = _call(k, mod, gen, value, desc, entry=case_entry)
                    wr(k, test, "kunit.param_value", value)
                    wr(k, test, "kunit.param_index", index + 1, 4)
                    _update(param_stats, status)
            if param_stats["total"] > 1:                    # kunit_print_test_stats()
                _printk(k, KERN_INFO, f"{SUBTEST_INDENT}# {case_name}: {_stats_line(param_stats)}")
            status = rd(k, case, "kunit_case.status", 4)
            comment = cstr(k, test + t.offset("kunit.status_comment"), 256)
            skipped = status == t.const("KUNIT_SKIPPED")
            _printk(k, KERN_INFO, f"{SUBTEST_INDENT}{STATUS_WORDS[status]} {number} {case_name}"
                                  + (f" # SKIP {comment}" if skipped else ""))
            _update(suite_stats, status)
            for key in total_stats:
                total_stats[key] += param_stats[key]
            k.log.flush()
            log = [line for rec in k.log.records[mark:] for line in rec.text.split("\n")]
            result.cases.append(CaseResult(name, case_name, number,
                                           "skip" if skipped else STATUS_WORDS[status],
                                           comment if skipped else "", params, log))
            k.heap.free(desc)
            k.heap.free(test)
        suite_exit = rd(k, suite, "kunit_suite.suite_exit")
        if suite_exit:
            _call(k, mod, suite_exit, suite, entry=entry)
        if suite_stats["total"] > 1:                        # kunit_print_suite_stats()
            _printk(k, KERN_INFO, f"# {name}: {_stats_line(suite_stats)}")
        if total_stats["total"] > 1:
            _printk(k, KERN_INFO, f"# Totals: {_stats_line(total_stats)}")
    # kunit_print_suite_end(), with kunit_suite_has_succeeded()
    status = t.const("KUNIT_FAILURE") if init_err else t.const("KUNIT_SKIPPED")
    if not init_err:
        statuses = [rd(k, c, "kunit_case.status", 4) for c in _cases(k, suite)]
        if t.const("KUNIT_FAILURE") in statuses:
            status = t.const("KUNIT_FAILURE")
        elif t.const("KUNIT_SUCCESS") in statuses:
            status = t.const("KUNIT_SUCCESS")
    comment = cstr(k, suite + t.offset("kunit_suite.status_comment"), 256)
    skipped = status == t.const("KUNIT_SKIPPED")
    result.number = kunit.suite_counter
    kunit.suite_counter += 1
    _printk(k, KERN_INFO, f"{STATUS_WORDS[status]} {result.number} {name}"
                          + (f" # SKIP {comment}" if skipped else "") + "\n")
    result.status = "skip" if skipped else STATUS_WORDS[status]
    kunit.results.append(result)
    return result


def module_suites(k, mod) -> list[int]:
    """find_module_sections(): the ``struct kunit_suite *`` of ``.kunit_test_suites``."""
    addr = mod.sections.get(".kunit_test_suites") if mod.image is not None else None
    if not addr:
        return []
    size = next((s.sh_size for s in mod.image.sections if s.name == ".kunit_test_suites"), 0)
    return [k.machine.read_u64(addr + 8 * i) for i in range(size // 8)]


@module_notifier
def kunit_module_notify(k, mod):
    """kunit_module_notify(): run the suites when COMING; reset the counter when GOING."""
    if mod.state == ModuleState.COMING:
        suites = module_suites(k, mod)
        if suites and k.machine.running:
            k.note(f"{mod.name}: KUnit suites of a module loaded from inside module code "
                   "(request_module) are not run")
            return
        for suite in suites:
            kunit_run_tests(k, mod, suite)
    elif mod.state == ModuleState.GOING and module_suites(k, mod):
        k.model(KUnit).suite_counter = 1                 # __kunit_test_suites_exit()


@kernel_api("kunit_results")
def kunit_results(k, mod=None) -> list[SuiteResult]:
    """The suites KUnit ran (of module ``mod``, a Module, or all), in order."""
    return [r for r in k.model(KUnit).results if mod is None or r.module is mod]

