"""arch/x86/entry/common.c: do_syscall_64(), a system call made by a process.

``k.syscall(name, *args)`` (``kemu syscall``) enters the kernel as a process
would: the user registers in a ``struct pt_regs``, then the dispatch of the
target kernel. Debian's 6.1 point releases call ``x64_sys_call()`` (a switch
on the number), so a patched ``sys_call_table`` entry never runs, as the
oracle shows; a kernel without x64_sys_call() calls ``sys_call_table[nr]``,
whatever a module wrote there. Kprobes registered on the system call's
function (``__x64_sys_kill``) run first, with the kernel pt_regs whose ``di``
is the user registers, as on Linux (6.1's kprobes on ftrace: the pre_handler
with ``regs->ip`` one byte in, then the post_handler, before the function; a
pre_handler that moves ``regs->ip`` and returns 1 replaces the function).
Then the ftrace ops on it (stubs/kernel/trace/ftrace.py), called from
x64_sys_call(): an IPMODIFY ops that moves ``regs->ip`` sends the call to the
module's hook. Then kemu's model
of the call runs (kernel/sys.c, kernel/signal.c, fs/...). Each model is also
the vmlinux function ``__x64_sys_NAME``, so a hook calling the original (its
address, or past its fentry site) reaches it, within the call being made;
``read`` and ``getdents64`` report what the buffer holds afterwards.

Left out: system calls kemu does not model (-ENOSYS with a not-modelled
finding), the ia32/x32 entries, seccomp, audit, ptrace, signal delivery to
user space (a signal to one of kemu's kernel threads is ignored, as kthreads
ignore signals), process groups (kill of pid <= 0 signals nothing and
returns 0).
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field

from kemu.abi.exports import kernel_api, kernel_function, members
from kemu.abi.toolkit import kzalloc, kfree, rd, wr
from kemu.errors import UsageError
from kemu.target import UnknownConstant

from ....fs.open import FileError
from ....fs.pathwalk import file_open, list_dir
from ....kernel.kallsyms import VmlinuxSymbols, vmlinux_addr
from ....kernel.kprobes import Kprobes
from ....kernel.pid import find_vpid, pid_task
from ....kernel.process import current_cred
from ....kernel.trace.ftrace import call_ops, ftrace_location, ops_on
from ....kernel.sched.core import sched
from ....lib.usercopy import user_alloc, user_free

members("struct pt_regs", "di", "si", "dx", "r10", "r8", "r9", "ax", "orig_ax", "ip", "sp",
        "flags")
members("struct kprobe", "pre_handler", "post_handler", "flags")
members("struct cred", "uid", "euid", "suid", "cap_effective")
members("struct uts_namespace", "name")
members("struct new_utsname", "sysname", "nodename", "release", "version", "machine",
        "domainname")

ARG_REGS = ("di", "si", "dx", "r10", "r8", "r9")     # the syscall ABI's argument registers
SIGRTMAX = 64
CAP_KILL = 5
UTS_LEN = 65


@dataclass
class SyscallResult:
    """One system call: what strace prints of it."""
    name: str
    args: list
    ret: int
    shown: str = ""                     # the call as strace shows it, result included
    data: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.name, "ret": self.ret, "shown": self.shown}


class Syscalls:
    """The descriptors of the process ``kemu syscall`` runs (closed when it exits)."""

    def __init__(self, k):
        self.k = k
        self.fds: dict[int, object] = {}


# ------------------------------------------------------------ the models
def _arg(k, regs: int, i: int) -> int:
    return rd(k, regs, f"pt_regs.{ARG_REGS[i]}")


def _sint(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


@kernel_function("long __x64_sys_getuid(const struct pt_regs *regs)")
def __x64_sys_getuid(k, regs):
    return rd(k, current_cred(k), "cred.uid", 4)


@kernel_function("long __x64_sys_geteuid(const struct pt_regs *regs)")
def __x64_sys_geteuid(k, regs):
    return rd(k, current_cred(k), "cred.euid", 4)


@kernel_function("long __x64_sys_kill(const struct pt_regs *regs)")
def __x64_sys_kill(k, regs):
    """kill(): the target by pid, check_kill_permission(), then delivery (ignored by
    kemu's tasks: kernel threads, and insmod as the global init)."""
    pid, sig = _sint(_arg(k, regs, 0)), _sint(_arg(k, regs, 1))
    if not 0 <= sig <= SIGRTMAX:
        return -errno.EINVAL
    if pid <= 0:
        return 0
    task = pid_task(k, find_vpid(k, pid), k.target.const("PIDTYPE_PID"))
    if not task:
        return -errno.ESRCH
    cred, tcred = current_cred(k), rd(k, task, "task_struct.real_cred")
    ids = [rd(k, cred, f"cred.{f}", 4) for f in ("euid", "uid")]
    tids = [rd(k, tcred, f"cred.{f}", 4) for f in ("suid", "uid")] if tcred else [0, 0]
    if not any(a == b for a in ids for b in tids) and \
            not rd(k, cred, "cred.cap_effective") >> CAP_KILL & 1:
        return -errno.EPERM
    return 0


@kernel_function("long __x64_sys_newuname(const struct pt_regs *regs)")
def __x64_sys_newuname(k, regs):
    """uname(): init_uts_ns.name as it is in memory now (copy_to_user)."""
    t, m = k.target, k.machine
    src = k.export_addr("init_uts_ns") + t.offset("uts_namespace.name")
    dst = _arg(k, regs, 0)
    try:
        m.write(dst, m.read(src, 6 * UTS_LEN))
    except Exception:                     # noqa: BLE001: an unmapped user buffer
        return -errno.EFAULT
    return 0


# ------------------------------------------------ file calls, from the process
def _cstr_user(k, addr: int) -> str:
    return k.machine.read_cstr(addr, 4096).decode("latin-1")


def _fd(k, regs) -> int:
    return _sint(_arg(k, regs, 0))


@kernel_function("long __x64_sys_openat(const struct pt_regs *regs)")
def __x64_sys_openat(k, regs):
    path = _cstr_user(k, _arg(k, regs, 1))
    flags = _arg(k, regs, 2) & 0xFFFFFFFF
    try:
        if flags & k.target.const("O_DIRECTORY"):
            list_dir(k, path)
            f = ("dir", path, 0)
        else:
            try:
                f = file_open(k, path, flags)
            except FileError as exc:
                if exc.errno != errno.EISDIR:
                    raise
                list_dir(k, path)
                f = ("dir", path, 0)
    except FileError as exc:
        return -exc.errno
    fds = k.model(Syscalls).fds
    fd = next(i for i in range(3, 1 << 20) if i not in fds)
    fds[fd] = f
    return fd


def _file(k, regs):
    return k.model(Syscalls).fds.get(_fd(k, regs))


@kernel_function("long __x64_sys_read(const struct pt_regs *regs)")
def __x64_sys_read(k, regs):
    f = _file(k, regs)
    if f is None:
        return -errno.EBADF
    if isinstance(f, tuple):
        return -errno.EISDIR
    data = f.read(_arg(k, regs, 2))
    if isinstance(data, int):
        return data
    k.machine.write(_arg(k, regs, 1), data)
    return len(data)


@kernel_function("long __x64_sys_write(const struct pt_regs *regs)")
def __x64_sys_write(k, regs):
    f = _file(k, regs)
    if f is None:
        return -errno.EBADF
    if isinstance(f, tuple):
        return -errno.EISDIR
    return f.write(k.machine.read(_arg(k, regs, 1), _arg(k, regs, 2)))


@kernel_function("long __x64_sys_close(const struct pt_regs *regs)")
def __x64_sys_close(k, regs):
    f = k.model(Syscalls).fds.pop(_fd(k, regs), None)
    if f is None:
        return -errno.EBADF
    if not isinstance(f, tuple):
        f.close()
    return 0


@kernel_function("long __x64_sys_ioctl(const struct pt_regs *regs)")
def __x64_sys_ioctl(k, regs):
    f = _file(k, regs)
    if f is None:
        return -errno.EBADF
    if isinstance(f, tuple):
        return -errno.ENOTTY
    return f.ioctl(_arg(k, regs, 1), _arg(k, regs, 2))


@kernel_function("long __x64_sys_getdents64(const struct pt_regs *regs)")
def __x64_sys_getdents64(k, regs):
    """getdents64(): struct linux_dirent64 records of the names not yet returned."""
    fds = k.model(Syscalls).fds
    f = _file(k, regs)
    if f is None:
        return -errno.EBADF
    if not isinstance(f, tuple):
        return -errno.ENOTDIR
    _, path, pos = f
    entries = [(".", stat.S_IFDIR), ("..", stat.S_IFDIR)] + \
        [(e.name, e.mode) for e in list_dir(k, path)]
    buf, count, out = _arg(k, regs, 1), _arg(k, regs, 2) & 0xFFFFFFFF, b""
    for i, (name, mode) in enumerate(entries[pos:], pos):
        raw = name.encode()
        reclen = (19 + len(raw) + 1 + 7) & ~7
        if len(out) + reclen > count:
            if not out:
                return -errno.EINVAL
            break
        dtype = (mode >> 12) & 0xF
        out += (i + 1).to_bytes(8, "little") + (i + 1).to_bytes(8, "little") + \
            reclen.to_bytes(2, "little") + bytes([dtype]) + raw.ljust(reclen - 19, b"\0")
        pos = i + 1
    fds[_fd(k, regs)] = ("dir", path, pos)
    k.machine.write(buf, out)
    return len(out)


# the calls a process makes through kemu: NAME -> (model, argument kinds)
# kinds: i an integer, s a string in user memory, b N a buffer of N bytes, d data
CALLS = {
    "getuid": (__x64_sys_getuid, ""), "geteuid": (__x64_sys_geteuid, ""),
    "kill": (__x64_sys_kill, "ii"), "uname": (__x64_sys_newuname, "u"),
    "openat": (__x64_sys_openat, "isi"), "read": (__x64_sys_read, "ib"),
    "write": (__x64_sys_write, "id"), "close": (__x64_sys_close, "i"),
    "ioctl": (__x64_sys_ioctl, "iii"), "getdents64": (__x64_sys_getdents64, "ib"),
}
ENTRY_NAMES = {"uname": "newuname"}


# -------------------------------------------------------------- dispatch
def _user_args(k, name: str, args: list, maps: list) -> list[int]:
    """The registers' values: strings and buffers placed in user memory."""
    kinds = CALLS[name][1]
    if name == "openat" and args and not str(args[0]).lstrip("-").isdigit():
        args = ["-100"] + list(args)                       # AT_FDCWD
    if name in ("read", "getdents64") and len(args) == 1:
        args = list(args) + ["4096"]
    if name == "openat" and len(args) == 2:
        args = list(args) + ["0"]
    wanted = len(kinds.replace("u", ""))
    if len(args) != wanted:
        raise UsageError(f"syscall {name}: {wanted} argument{'s' if wanted != 1 else ''} "
                         f"expected, {len(args)} given")
    out = []
    for kind, value in zip(kinds, args):
        if kind == "i":
            out.append(_flags(k, value) & (1 << 64) - 1)
        elif kind in "sd":
            raw = value.encode("utf-8", "surrogateescape") + (b"\0" if kind == "s" else b"")
            addr = user_alloc(k, len(raw))
            k.machine.write(addr, raw)
            maps.append(addr)
            out.append(addr)
            if kind == "d":
                out.append(len(raw))
        elif kind == "b":
            size = _number(value)
            if not 0 <= size <= USER_BUFFER_MAX:
                raise UsageError(f"syscall {name}: a buffer of {value} bytes: kemu gives a "
                                 f"process at most {USER_BUFFER_MAX} at a time")
            addr = user_alloc(k, size)
            maps.append(addr)
            out += [addr, size]
    if kinds == "u":
        addr = user_alloc(k, 6 * UTS_LEN)
        maps.append(addr)
        out.append(addr)
    return out


USER_BUFFER_MAX = 1 << 24


def _number(word: str) -> int:
    try:
        return int(word, 0)
    except ValueError:
        raise UsageError(f"syscall: {word!r} is not a number") from None


def _flags(k, text) -> int:
    if isinstance(text, int):
        return text
    value = 0
    for word in str(text).split("|"):
        word = word.strip()
        if word and (word[0].isdigit() or word[0] == "-"):
            value |= _number(word)
        elif word == "AT_FDCWD":
            value |= -100
        else:
            try:
                value |= k.target.const(word)
            except UnknownConstant:
                raise UsageError(f"syscall: {word!r} is neither a number nor a constant of "
                                 f"Linux {k.target.release}") from None
    return value


def _probes_on(k, addr: int) -> list[int]:
    disabled = k.target.const("KPROBE_FLAG_DISABLED")
    return [p for p, where in k.model(Kprobes).probes.items()
            if where == addr and not rd(k, p, "kprobe.flags", 4) & disabled]


def _hook_entry(k, fn: int, what: str) -> tuple[str, object]:
    mod = k.module_containing(fn)
    return (f"{mod.name} {what}" if mod else what), mod


def _ftrace_hooks(k, fn: int, uregs: int):
    """The system call's function entered from x64_sys_call(): its fentry site runs
    the kprobes on it (6.1's kprobes on ftrace) and the ftrace ops; the hook's result
    if one of them moved regs->ip, else None (the function runs)."""
    site = ftrace_location(k, fn)
    if not site or not (ops_on(k, site) or _probes_on(k, site)):
        return None
    probes = k.model(Kprobes).probes
    gen = call_ops(k, site, [uregs, 0, 0, 0, 0, 0], vmlinux_addr(k, "x64_sys_call"))
    value = None
    while True:
        try:
            req = gen.send(value)
        except StopIteration as stop:
            new_ip, regs = stop.value
            break
        what = "ftrace callback" if not req.args or req.args[0] not in probes else \
            "kprobe pre_handler" if len(req.args) == 2 else "kprobe post_handler"
        what, mod = _hook_entry(k, req.fn_addr, what)
        value = k.call(req.fn_addr, *req.args, entry=what, module=mod)
    if not new_ip:
        return None
    what, mod = _hook_entry(k, new_ip, "ftrace hook")
    return k.call(new_ip, *regs, entry=what, module=mod)


def do_syscall_64(k, name: str, args: list) -> SyscallResult:
    """One system call, made by the current process."""
    if name not in CALLS:
        raise UsageError(f"syscall {name}: kemu does not model this system call (it "
                         f"models {', '.join(sorted(CALLS))})")
    t, m = k.target, k.machine
    res = SyscallResult(name, list(args), 0)
    maps: list[int] = []
    uregs = kzalloc(k, t.sizeof("pt_regs"), "pt_regs")
    try:
        values = _user_args(k, name, args, maps)
        table = k.model(VmlinuxSymbols).get_table()
        fn_name = "__x64_sys_" + ENTRY_NAMES.get(name, name)
        entries = table.pointer_tables.get("sys_call_table", []) if table else []
        nr = entries.index(fn_name) if fn_name in entries else -1
        for reg, value in zip(ARG_REGS, values):
            wr(k, uregs, f"pt_regs.{reg}", value)
        wr(k, uregs, "pt_regs.orig_ax", nr & (1 << 64) - 1)
        wr(k, uregs, "pt_regs.ax", -errno.ENOSYS & (1 << 64) - 1)
        fn = vmlinux_addr(k, fn_name)
        ret = None
        if table is not None and not table.get("x64_sys_call") and nr >= 0:
            entry = m.read_u64(vmlinux_addr(k, "sys_call_table") + 8 * nr)
            if entry != fn and k.module_containing(entry):
                what, mod = _hook_entry(k, entry, f"sys_call_table[{nr}]")
                ret = k.call(entry, uregs, entry=what, module=mod)
        if ret is None and fn:
            ret = _ftrace_hooks(k, fn, uregs)
        if ret is None:
            ret = CALLS[name][0](k, uregs)
        ret &= (1 << 64) - 1
        ret = ret - (1 << 64) if ret >> 63 else ret
        res.ret = ret
        if name in ("read", "getdents64") and ret > 0:
            res.data = _user_data(k, name, values[1], ret)
        if name == "uname" and ret == 0:
            raw = m.read(values[0], 6 * UTS_LEN)
            res.data = [raw[i * UTS_LEN:(i + 1) * UTS_LEN].split(b"\0")[0].decode("latin-1")
                        for i in range(6)]
        res.shown = strace(res)
        return res
    finally:
        for addr in maps:
            user_free(k, addr)
        kfree(k, uregs)


def _user_data(k, name: str, buf: int, size: int) -> list:
    """What the process finds in its buffer after read() or getdents64() (a hook may
    have changed it): the bytes, or the records' names."""
    raw = k.machine.read(buf, size)
    if name == "read":
        return [raw]
    names, off = [], 0
    while off + 19 <= len(raw):
        reclen = int.from_bytes(raw[off + 16:off + 18], "little")
        if reclen < 20:
            break
        names.append(raw[off + 19:off + reclen].split(b"\0")[0].decode("utf-8", "replace"))
        off += reclen
    return names


def strace(res: SyscallResult) -> str:
    """The call as strace(1) prints it: ``kill(4242, 64) = -1 ESRCH (No such process)``."""
    args = list(res.args)
    if res.name == "uname":
        shown_args = "{" + ", ".join(f'{f}="{v}"' for f, v in zip(
            ("sysname", "nodename", "release", "version", "machine", "domainname"),
            res.data)) + "}" if res.data else "0x0"
        args = [shown_args]
    elif res.name == "openat":
        args = [a if i else f'"{a}"' for i, a in enumerate(args)]
        if args and args[0].startswith('"'):
            args = ["AT_FDCWD"] + args
    elif res.name == "read" and res.data:
        args = [args[0], repr(b"".join(res.data))[1:].replace("'", '"')] + args[1:]
    elif res.name == "getdents64" and res.data:
        args = [args[0], "[" + ", ".join(f'{{d_name="{n}"}}' for n in res.data) + "]"] + args[1:]
    elif res.name == "write":
        args = [args[0], f'"{args[1]}"'] if len(args) > 1 else args
    text = f"{res.name}({', '.join(str(a) for a in args)}) = "
    if res.ret < 0 and -res.ret < 4096:
        name = errno.errorcode.get(-res.ret, str(-res.ret))
        return text + f"-1 {name} ({os.strerror(-res.ret)})"
    return text + str(res.ret)


@kernel_api("syscall")
def syscall(k, name: str, *args, uid: int = 0, comm: str = "sh") -> SyscallResult:
    """``k.syscall("kill", 4242, 64)`` as process ``comm`` of user ``uid``."""
    with k.as_process(comm, uid):
        return do_syscall_64(k, name, [str(a) for a in args])


@kernel_api("syscalls")
def syscalls(k, calls: list, uid: int = 0, comm: str = "sh") -> list[SyscallResult]:
    """Several system calls made by one process, in order; its descriptors closed at exit."""
    out = []
    with k.as_process(comm, uid):
        try:
            for name, *args in calls:
                out.append(do_syscall_64(k, name, [str(a) for a in args]))
        finally:
            fds = k.model(Syscalls).fds
            for f in fds.values():
                if not isinstance(f, tuple):
                    f.close()
            fds.clear()
    return out
