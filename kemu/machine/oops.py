"""Kernel-style reports for faults in emulated code (arch/x86/mm/fault.c, kernel/traps.c).

The shape is the kernel's: the BUG line, #PF details, Oops header, CPU line,
RIP as ``func+off/len [module]``, 64 code bytes around RIP, registers, a call
trace unwound through module frames with ORC, the module list and CR2. kemu
adds what a developer would otherwise get from scripts/decodecode and
decode_stacktrace.sh: the code disassembled and ``file.c:line`` per frame.
"""
from __future__ import annotations

from kemu.errors import DivideError, Lockup, MemoryFault
from kemu.kernel.log import KERN_WARNING
from kemu.machine.memory import PAGE_SIZE
from kemu.kernel.taint import TAINT_FLAGS, module_flags_taint
from kemu.machine.unwind import unwind

X86_PF_PROT, X86_PF_WRITE, X86_PF_INSTR = 1 << 0, 1 << 1, 1 << 4
_ENTRY_CALLERS = {      # what the kernel runs above each kind of entry
    "init": ("do_one_initcall", "do_init_module", "load_module", "__do_sys_finit_module"),
    "exit": ("__do_sys_delete_module",),
}


def frame_text(k, addr: int, is_return: bool = True) -> str:
    """`` func+0x12/0x40 [mod] (file.c:12)`` for a return address (or the faulting RIP)."""
    from kemu.machine.debuginfo import source_line
    text = k.format_addr(addr)
    where = source_line(k, addr - 1 if is_return else addr)
    return f"{text} ({where})" if where else text


def code_bytes(k, rip: int) -> str:
    """The kernel's ``Code:`` line: 43 bytes before RIP, <RIP byte>, 20 after."""
    try:
        code = k.machine.read(rip - 43, 64)
    except Exception:
        return f"Code: Unable to access opcode bytes at {rip - 43:#x}."
    return "Code: " + " ".join(f"<{b:02x}>" if i == 43 else f"{b:02x}" for i, b in enumerate(code))


def disassembly(k, rip: int, before: int = 3, after: int = 3) -> list[str]:
    """A few instructions around RIP (AT&T syntax), the trapping one marked."""
    try:
        import capstone
    except ImportError:
        return []
    mod = k.module_containing(rip)
    hit = k.symbolize(rip)
    start = rip - hit[1] if hit else rip
    if mod is None or not hit:
        start = rip
    try:
        code = k.machine.read(start, (rip - start) + 64)
    except Exception:
        return []
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.syntax = capstone.CS_OPT_SYNTAX_ATT
    insns = list(md.disasm(code, start))
    idx = next((i for i, ins in enumerate(insns) if ins.address == rip), None)
    if idx is None:
        return []
    lines = []
    for ins in insns[max(0, idx - before):idx + after + 1]:
        mark = "*" if ins.address == rip else " "
        tail = "\t\t<-- trapping instruction" if ins.address == rip else ""
        lines.append(f"  {ins.address - start:4x}:{mark}\t{ins.bytes.hex(' '):<24}\t"
                     f"{ins.mnemonic} {ins.op_str}{tail}".rstrip())
    return lines


def non_canonical(addr: int) -> bool:
    """True for an address whose bits 63..47 differ (4-level paging): an access
    raises #GP, not a page fault."""
    top = (addr & 0xFFFFFFFFFFFFFFFF) >> 47
    return top not in (0, 0x1FFFF)


def fault_header(k, exc) -> tuple[list[str], int]:
    """The lines before the CPU line, and the fault's RIP."""
    regs = k.machine.registers()
    if isinstance(exc, MemoryFault) and non_canonical(exc.addr) and exc.access != "fetch":
        # exc_general_protection(): no page fault, the address never reaches CR2
        return [f"general protection fault, probably for non-canonical address "
                f"{exc.addr:#x}: 0000 [#{k.bug.oops_count}] PREEMPT SMP NOPTI"], exc.rip
    if isinstance(exc, MemoryFault):
        addr, rip = exc.addr, exc.rip
        lines = [f"BUG: kernel NULL pointer dereference, address: {addr:016x}" if addr < PAGE_SIZE
                 else f"BUG: unable to handle page fault for address: {addr:016x}"]
        kind = {"read": "read access", "write": "write access",
                "fetch": "instruction fetch"}.get(exc.access, "read access")
        code = (X86_PF_WRITE if exc.access == "write" else 0) | \
            (X86_PF_INSTR if exc.access == "fetch" else 0) | \
            (X86_PF_PROT if exc.prot else 0)
        lines.append(f"#PF: supervisor {kind} in kernel mode")
        lines.append(f"#PF: error_code(0x{code:04x}) - "
                     f"{'permissions violation' if code & X86_PF_PROT else 'not-present page'}")
        if addr < 1 << 47:
            lines.append("PGD 0 P4D 0 ")
        gone = k.symbols.unloaded_symbol(addr) or k.symbols.unloaded_symbol(rip)
        if gone:
            lines.append(f"kemu: {addr:#x} is in unloaded module {gone[0]} ({gone[1]}): "
                         "code or data used after its module was unloaded")
        lines.append(f"Oops: {code:04x} [#{k.bug.oops_count}] PREEMPT SMP NOPTI")
        return lines, rip
    if isinstance(exc, Lockup):
        rip = regs["rip"]
        if "instruction budget" in str(exc):
            return [f"kemu: instruction budget of {k.max_insns} exhausted [insmod:1]"], rip
        return [f"watchdog: BUG: soft lockup - CPU#0 stuck for {k.timeout_ms / 1000:g}s! "
                f"[insmod:1]"], rip
    rip = getattr(exc, "rip", None) or regs["rip"]
    if isinstance(exc, DivideError):                   # do_error_trap(): die("divide error")
        return [f"divide error: 0000 [#{k.bug.oops_count}] PREEMPT SMP NOPTI"], rip
    if "invalid opcode" in str(exc) or k.bug.pending:
        return [f"invalid opcode: 0000 [#{k.bug.oops_count}] PREEMPT SMP NOPTI"], rip
    return [str(exc)], rip


def oops_report(k, exc, entry: str) -> list[str]:
    """Every line of the report for ``exc`` raised while running ``entry``."""
    regs = k.machine.registers()
    k.bug.oops_count += 1
    lines, rip = fault_header(k, exc)
    lockup = isinstance(exc, Lockup)
    if lockup:
        lines.append("Modules linked in:" + modules_linked_in(k))
    lines += cpu_lines(k)
    cr2 = exc.addr if isinstance(exc, MemoryFault) and not non_canonical(exc.addr) else 0
    lines += register_lines(k, rip, regs, cr2)
    where = frame_text(k, rip, is_return=False)
    head = [f" kemu: fault at {where}"] if where != k.format_addr(rip) else []
    lines += call_trace(k, {**regs, "rip": rip}, head)
    if not lockup:
        lines.append("Modules linked in:" + modules_linked_in(k))
        if isinstance(exc, MemoryFault) and cr2:
            lines.append(f"CR2: {cr2:016x}")
        lines.append("---[ end trace 0000000000000000 ]---")
        lines += register_lines(k, rip, regs, cr2)          # oops_end(): executive summary
    asm = disassembly(k, rip)
    if asm:
        lines.append("kemu: code around RIP:")
        lines.extend(asm)
    return lines


def warn_report(k, rip: int, file: str, line: int, flags: int) -> list[tuple[int, str]]:
    """__warn() after report_bug(): (level, line) pairs of a WARN's report."""
    regs = k.machine.registers()
    out = []
    if not flags & k.target.const("BUGFLAG_NO_CUT_HERE"):
        out.append((KERN_WARNING, "------------[ cut here ]------------"))
    out.append((KERN_WARNING, f"WARNING: CPU: 0 PID: {k.process[1]} at {file}:{line} {k.format_addr(rip)}"))
    out.append((KERN_WARNING, "Modules linked in:" + modules_linked_in(k)))
    out += [(KERN_WARNING, text) for text in cpu_lines(k)]
    out += [(KERN_WARNING, text) for text in register_lines(k, rip, regs, cr2=0)]
    out += [(KERN_WARNING, text) for text in call_trace(k, {**regs, "rip": rip})]
    out.append((KERN_WARNING, "---[ end trace 0000000000000000 ]---"))
    return out


def call_trace(k, regs: dict, head=()) -> list[str]:
    """The Call Trace block: module frames unwound with ORC from ``regs``, then the
    kernel functions above the running entry (do_init_module, ...)."""
    try:
        frames = unwind(k, regs)
    except Exception:              # an unreadable stack ends the trace, as in the kernel
        frames = []
    return ["Call Trace:", " <TASK>", *head, *(f" {frame_text(k, ret)}" for ret in frames),
            *(f" {caller}" for caller in _entry_callers(k)), " </TASK>"]


def _entry_callers(k):
    entry = k.current_entry.name if k.current_entry else ""
    return _ENTRY_CALLERS.get(entry.rsplit(" ", 1)[-1], ())


def cpu_header(k) -> list[str]:
    """dump_stack_print_info()'s CPU line, for the process module code runs for;
    6.12 adds the UID and, when tainted, a line naming each taint
    (print_tainted_verbose(); Line.dump_stack_taint_names)."""
    comm, pid = k.process
    if not k.target.line.dump_stack_taint_names:
        return [f"CPU: 0 PID: {pid} Comm: {comm} {k.taint_string()} {k.target.release} #1"]
    lines = [f"CPU: 0 UID: 0 PID: {pid} Comm: {comm} {k.taint_string()} "
             f"{k.target.release} #1"]
    if k.taints:
        lines.append("Tainted: " + ", ".join(f"[{f.c_true}]={f.name.removeprefix('TAINT_')}"
                                             for f in TAINT_FLAGS if f.c_true in k.taints))
    return lines


def cpu_lines(k) -> list[str]:
    """dump_stack_print_info(): the CPU and hardware lines."""
    return [*cpu_header(k), "Hardware name: kemu emulated x86_64 machine"]


def register_lines(k, rip: int, regs: dict, cr2: int) -> list[str]:
    """__show_regs(): RIP, Code, RSP and the general and control registers.

    As on a real kernel, an unreadable code prologue leaves its address in CR2
    (show_opcodes' copy_from_kernel_nofault faulted on it).
    """
    code = code_bytes(k, rip)
    if code.startswith("Code: Unable"):
        cr2 = rip - 43
    out = [f"RIP: 0010:{k.format_addr(rip)}", code,
           f"RSP: 0018:{regs['rsp']:016x} EFLAGS: {regs['eflags']:08x}"]
    for a, b, c in (("rax", "rbx", "rcx"), ("rdx", "rsi", "rdi"), ("rbp", "r8", "r9"),
                    ("r10", "r11", "r12"), ("r13", "r14", "r15")):
        out.append(" ".join(f"{_reg_name(n)}: {regs[n]:016x}" for n in (a, b, c)))
    out.append(f"FS:  0000000000000000(0000) GS:{k.machine.percpu_addr:016x}(0000) "
               "knlGS:0000000000000000")
    out.append("CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033")
    out.append(f"CR2: {cr2:016x} CR3: 0000000001e0a000 CR4: 00000000000006f0")
    return out


def _reg_name(n: str) -> str:
    return "R0" + n[1:] if len(n) == 2 else n.upper()


def modules_linked_in(k) -> str:
    """print_modules(): each module with its taint flags, + while loading, - while going."""
    from kemu.module.module import ModuleState
    out = []
    for mod in reversed(list(k.modules.values())):
        if mod.state == ModuleState.UNFORMED:
            continue
        flags = module_flags_taint(mod)
        if mod.state == ModuleState.COMING:
            flags += "+"
        elif mod.state == ModuleState.GOING:
            flags += "-"
        out.append(f"{mod.name}({flags})" if flags else mod.name)
    if k.last_unloaded:
        flags = k.last_unloaded_taints
        out.append(f"[last unloaded: {k.last_unloaded}{flags}]")
    return "".join(" " + item for item in out)
