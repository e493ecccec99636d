"""Reports of the heap checks (kemu.machine.memory.Heap), in the kernel's own formats.

An access that faults on a KFENCE page is reported as mm/kfence/report.c
reports it, the page is made accessible and execution goes on, as KFENCE does.
A broken redzone or free poison found at kfree()/quarantine time is reported
as SLUB debugging reports it (mm/slub.c slab_err/check_bytes_and_report).
Double and invalid frees are reported KASAN-style, with the allocation and
free sites.
"""
from __future__ import annotations

from kemu.kernel.log import KERN_ERR
from kemu.machine.memory import KFENCE_CANARY, PAGE_SIZE, POISON_FREE, RED_ACTIVE
from kemu.machine.oops import cpu_header

_BAR = "=" * 66
_SLUB_BAR = "=" * 77
_SLUB_DASH = "-" * 77


def _site(k, addr: int, text: str = "") -> str:
    from kemu.machine.oops import frame_text
    if text:
        return text
    return frame_text(k, addr) if addr else "?"


def _cache(obj) -> str:
    from kemu.machine.memory import KMALLOC_CLASSES
    if not obj.kind.startswith("kmalloc"):
        return obj.kind
    size = next((c for c in KMALLOC_CLASSES if obj.size <= c), obj.capacity)
    return f"kmalloc-{size}"


def _time(k) -> str:
    sec, ns = divmod(k.clock_ns, 1_000_000_000)
    return f"{sec}.{ns // 1000:06d}s"


def kfence_index(k, obj) -> int:
    pages = list(k.heap.kfence_pages.values())
    return pages.index(obj) if obj in pages else -1


def kfence_fault(k, kind: str, obj, access: str, addr: int, size: int) -> list[str]:
    """Lines of a KFENCE report for a faulting access to a guarded object."""
    from kemu.machine.oops import frame_text
    from kemu.machine.unwind import unwind
    rip = k.machine.reg("rip")
    where = k.format_addr(rip)
    idx = kfence_index(k, obj)
    what = "write" if access == "write" else "read"
    lines = [_BAR]
    if kind == "kfence-oob":
        left = addr < obj.addr
        dist = obj.addr - addr if left else addr - obj.addr
        lines += [f"BUG: KFENCE: out-of-bounds {what} in {where}", "",
                  f"Out-of-bounds {what} at 0x{addr:016x} ({dist}B {'left' if left else 'right'}"
                  f" of kfence-#{idx}):"]
    else:
        lines += [f"BUG: KFENCE: use-after-free {what} in {where}", "",
                  f"Use-after-free {what} at 0x{addr:016x} (in kfence-#{idx}):"]
    lines.append(f" {frame_text(k, rip, is_return=False)}")
    regs = k.machine.registers()
    lines += [f" {frame_text(k, ret)}" for ret in unwind(k, regs)]
    lines += object_lines(k, obj, idx)
    lines += ["", *cpu_header(k), _BAR]
    return lines


def object_lines(k, obj, idx: int) -> list[str]:
    """kfence_print_object(): the object, where it was allocated and freed."""
    lines = ["", f"kfence-#{idx}: 0x{obj.addr:016x}-0x{obj.addr + obj.size - 1:016x}, "
             f"size={obj.size}, cache={_cache(obj)}", "",
             f"allocated by task 1 on cpu 0 at {_time(k)}:",
             f" {_site(k, obj.caller_addr, obj.caller_text)}"]
    if obj.freed:
        lines += ["", f"freed by task 1 on cpu 0 at {_time(k)}:",
                  f" {_site(k, obj.free_caller, obj.free_text)}"]
    return lines


def problem_report(k, p) -> tuple[str, list[str]]:
    """(finding kind, report lines) for a HeapProblem found at free time."""
    obj = p.obj
    if p.kind in ("double-free", "invalid-free"):
        where = _site(k, p.caller_addr)
        lines = [_BAR, f"BUG: KASAN: {p.kind} in {where.split(' (')[0]}", "",
                 f"Free of addr {p.addr:016x} by task insmod/1", f" {where}"]
        if obj is not None:
            lines += ["", "Allocated by task 1:", f" {_site(k, obj.caller_addr, obj.caller_text)}",
                      "", "Freed by task 1:", f" {_site(k, obj.free_caller, obj.free_text)}", "",
                      f"The buggy address belongs to the object at {obj.addr:016x}",
                      f" which belongs to the cache {_cache(obj)} of size {obj.capacity}",
                      "The buggy address is located 0 bytes inside of",
                      f" {obj.size}-byte region [{obj.addr:016x}, {obj.addr + obj.size:016x})"]
        lines.append(_BAR)
        return p.kind, lines
    if p.kind == "kfence-canary":
        where = _site(k, p.caller_addr)
        idx = kfence_index(k, obj)
        lines = [_BAR, f"BUG: KFENCE: memory corruption in {where.split(' (')[0]}", "",
                 f"Corrupted memory at 0x{p.addr:016x} [ 0x{p.byte:02x} ] (in kfence-#{idx}):",
                 f" {where}"] + object_lines(k, obj, idx) + [
                 "", *cpu_header(k), _BAR]
        return "out-of-bounds", lines
    title = "Right Redzone overwritten" if p.kind == "redzone" else "Poison overwritten"
    want = RED_ACTIVE if p.kind == "redzone" else POISON_FREE
    lines = [_SLUB_BAR, f"BUG {_cache(obj)} ({k.taint_string()}): {title}", _SLUB_DASH, "",
             f"0x{p.addr:016x}-0x{p.addr:016x} @offset={p.offset}. First byte 0x{p.byte:x} "
             f"instead of 0x{want:x}",
             f"Allocated in {_site(k, obj.caller_addr, obj.caller_text)} age=0 cpu=0 pid=1"]
    if obj.free_caller or obj.free_text:
        lines.append(f"Freed in {_site(k, obj.free_caller, obj.free_text)} age=0 cpu=0 pid=1")
    return ("out-of-bounds" if p.kind == "redzone" else "use-after-free"), lines


def on_heap_problem(k, problem) -> None:
    """Heap.on_problem: log the report, taint B, record a finding."""
    kind, lines = problem_report(k, problem)
    for line in lines:
        k.log.emit(KERN_ERR, line)
    k.add_taint("B", lockdep_unreliable=False)
    k.finding(kind, lines[1] if lines[1] else lines[0], k.current_module(), addr=problem.addr)


def on_fault(k, access: str, addr: int, size: int) -> bool:
    """Machine fault hook: a KFENCE-guarded page reports, then lets the access through."""
    hit = k.heap.describe_fault(addr)
    if hit is None:
        return False
    kind, obj = hit
    lines = kfence_fault(k, kind, obj, access, addr, size)
    for line in lines:
        k.log.emit(KERN_ERR, line)
    k.add_taint("B", lockdep_unreliable=False)
    k.finding("out-of-bounds" if kind == "kfence-oob" else "use-after-free", lines[1],
              k.current_module(), addr=addr, access=access)
    page = addr & ~(PAGE_SIZE - 1)
    k.machine.uc.mem_map(page, PAGE_SIZE)          # as KFENCE does: let the access go on
    k.machine.write(page, bytes([KFENCE_CANARY]) * PAGE_SIZE)
    return True
