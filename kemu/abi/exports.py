"""Declaring kernel exports, once, by their C prototype.

::

    @export("void *__kmalloc(size_t size, gfp_t flags)")
    def __kmalloc(k, size, flags):
        return k.heap.alloc(size)

The prototype alone decides how arguments are read (System V x86_64: RDI, RSI,
RDX, RCX, R8, R9, then the stack) and how the return value is truncated into
RAX. A function returning a small struct by value (System V: at most 16 bytes,
all INTEGER class, in RAX then RDX; the types are listed in
``kemu.abi.cproto._RETURNED_STRUCTS``, e.g. ``struct timespec64
current_time(struct inode *inode)``) returns the struct's bytes, or a tuple of
its eightbytes. A variadic function receives a :class:`VarArgs` as its last argument.
A handler that must call module code is a generator yielding
``k.call_request(fn_addr, *args)``; the value of each yield is the callback's
RAX.

A function that can fail in Linux says how, once, next to its prototype
(``fails="NULL"``, ``fails="-EBUSY"``, ``fails="ERR_PTR(-ENOMEM)"``, or the
name of a parameter whose value is returned, ``fails="n"`` for
``_copy_from_user``): fault injection (:mod:`kemu.kernel.faultinject`) makes such a
call return that instead of running the model.

Data exports (``jiffies``, ``param_ops_int``) and per-CPU variables
(``current_task``) are declared with :func:`data` and :func:`percpu`; their
initialiser runs the first time a module links against them.

Kernel lines (5.10, 6.1, 6.12: :mod:`kemu.target.lines`): a declaration holds
on every line unless it says ``since="6.4"`` (from that version on) or
``until="6.4"`` (before it). One model serves every line whose behaviour is
the same; where Linux renamed an export or changed its prototype, the model
carries one declaration per form::

    @export("void *kmem_cache_alloc_trace(struct kmem_cache *s, gfp_t flags, size_t size)",
            until="6.1")
    @export("void *kmalloc_trace(struct kmem_cache *s, gfp_t flags, size_t size)",
            since="6.1", until="6.10")
    def kmalloc_trace(k, s, flags, size): ...

A kernel links a module only against the declarations of its own line
(:func:`lookup`); 6.10's allocation profiling, which renamed every allocator
``X`` to ``X_noprof``, is one rule there instead of forty declarations.
"""
from __future__ import annotations

import errno
import sys
import types
from dataclasses import dataclass

from kemu.abi.cproto import CType, Prototype, parse_prototype, parse_type
from kemu.target.lines import version_tuple


class Failure:
    """How a fallible export fails in Linux: what a failed call returns."""

    text = ""

    def value(self, args) -> int:
        raise NotImplementedError


class ReturnsNull(Failure):
    """Allocators and constructors: NULL."""
    text = "NULL"

    def value(self, args) -> int:
        return 0


class ReturnsErrno(Failure):
    """Registrations and the like: a negative errno."""

    def __init__(self, name: str):
        self.err, self.text = getattr(errno, name), f"-{name}"

    def value(self, args) -> int:
        return -self.err


class ReturnsErrPtr(Failure):
    """Constructors returning ``ERR_PTR(-E...)`` (kthread_create_on_node, class_create)."""

    def __init__(self, name: str):
        self.err, self.text = getattr(errno, name), f"ERR_PTR(-{name})"

    def value(self, args) -> int:
        return (-self.err) & 0xFFFFFFFFFFFFFFFF


class ReturnsArgument(Failure):
    """Copies returning how much was not copied: the whole length (an argument)."""

    def __init__(self, index: int, name: str):
        self.index, self.text = index, name

    def value(self, args) -> int:
        return args[self.index]


def parse_failure(spec: str, prototype: str) -> Failure:
    """A ``fails=`` declaration: ``NULL``, ``-EXXX``, ``ERR_PTR(-EXXX)`` or a parameter name."""
    spec = spec.strip()
    if spec == "NULL":
        return ReturnsNull()
    if spec.startswith("-E") and hasattr(errno, spec[1:]):
        return ReturnsErrno(spec[1:])
    if spec.startswith("ERR_PTR(-E") and spec.endswith(")") and hasattr(errno, spec[9:-1]):
        return ReturnsErrPtr(spec[9:-1])
    params = [p.strip() for p in prototype.split("(", 1)[1].rsplit(")", 1)[0].split(",")]
    names = [p.replace("*", " ").split()[-1] if p else "" for p in params]
    if spec in names:
        return ReturnsArgument(names.index(spec), spec)
    raise ValueError(f"{prototype_name(prototype)}: fails={spec!r} is not NULL, -EXXX, "
                     "ERR_PTR(-EXXX) or a parameter name")


@dataclass
class ExportDef:
    """One modelled kernel export.

    A function's prototype is kept as text and parsed the first time ``proto``
    is read (linking, tracing): importing thousands of models stays cheap.
    """
    name: str
    kind: str                      # "func", "data", "percpu"
    fn: object
    _proto: Prototype | None = None
    ctype: CType | None = None     # data/percpu: the declared type
    type_name: str = ""
    size: int | None = None
    align: int = 8
    convention: str | None = None  # a non-SysV register convention (see conventions)
    origin: str = ""               # "module.py:line" of the declaration
    prototype: str = ""            # the C prototype, parsed lazily into ``proto``
    fails: Failure | None = None   # how a call fails in Linux (fault injection), or None
    internal: bool = False         # a vmlinux symbol Linux does not export: reached by
                                   # address only (kallsyms, kprobes), never linked against
    since: str | None = None       # first kernel version with this form ("6.4")
    until: str | None = None       # first kernel version without it
    within: tuple[str, str | None] | None = None  # percpu: (container, "struct.member")
    native: str = ""               # x86_64 assembly that runs the function inside the
                                   # emulator ("{model}": the Python model, for rare paths)

    def on(self, version: tuple[int, int]) -> bool:
        """True when this declaration holds on kernel (MAJOR, PATCHLEVEL)."""
        return (self.since is None or version >= version_tuple(self.since)) and \
            (self.until is None or version < version_tuple(self.until))

    @property
    def proto(self) -> Prototype | None:
        """The parsed prototype (functions), or None."""
        if self._proto is None and self.prototype:
            self._proto = parse_prototype(self.prototype)
            if self._proto.name != self.name:
                raise ValueError(f"prototype {self.prototype!r} does not declare {self.name}")
        return self._proto


def prototype_name(prototype: str) -> str:
    """The function a C prototype declares (the identifier before its parameter list)."""
    head = prototype.split("(", 1)[0].split()
    if not head:
        raise ValueError(f"not a prototype: {prototype!r}")
    return head[-1].lstrip("*")


REGISTRY: dict[str, ExportDef] = {}
#: name -> the other declarations of that name, for other kernel lines
LINE_VARIANTS: dict[str, list[ExportDef]] = {}
STATIC_CALLS: dict[str, str] = {}      # static call key name -> default target export
OVERRIDES: list[tuple[str, str, str]] = []


def _origin(fn) -> str:
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__module__", "?")
    return f"{code.co_filename}:{code.co_firstlineno}"


_USER_STUBS = [False]          # True while third-party stub files are imported


def register(defn: ExportDef, override: bool = False) -> ExportDef:
    """Add an export definition; a second one of the same name must say ``override``
    (third-party stubs loaded with load_user_stubs() may override, with a warning)."""
    old = REGISTRY.get(defn.name)
    if old is not None and old.origin == defn.origin and old.fn.__module__ != defn.fn.__module__:
        # the same declaration imported under two module names (a test loads a model's
        # file on its own): the package's import serves, its relative imports work
        if "." not in defn.fn.__module__:
            return old
        REGISTRY[defn.name] = defn
        return defn
    if old is not None and _disjoint(old, defn):
        LINE_VARIANTS.setdefault(defn.name, []).append(defn)
        return defn
    if old is not None and old.origin != defn.origin:
        if not (override or _USER_STUBS[0]):
            raise ValueError(f"export {defn.name} is declared twice: {old.origin} and {defn.origin}")
        OVERRIDES.append((defn.name, old.origin, defn.origin))
    REGISTRY[defn.name] = defn
    return defn


def _disjoint(a: ExportDef, b: ExportDef) -> bool:
    """True when two declarations of one name hold on no common kernel line."""
    def span(d):
        return (version_tuple(d.since) if d.since else (0, 0),
                version_tuple(d.until) if d.until else (999, 0))
    (a0, a1), (b0, b1) = span(a), span(b)
    return (a.since or a.until or b.since or b.until) is not None and (a1 <= b0 or b1 <= a0)


def lookup(name: str, version: tuple[int, int]) -> ExportDef | None:
    """The declaration of ``name`` on kernel (MAJOR, PATCHLEVEL), or None:
    an export a line does not have is an unknown symbol there, as in Linux."""
    for defn in (REGISTRY.get(name), *LINE_VARIANTS.get(name, ())):
        if defn is not None and defn.on(version):
            return defn
    # 6.10 (memory allocation profiling): the allocators are exported as X_noprof
    if name.endswith("_noprof") and version >= (6, 10):
        defn = REGISTRY.get(name[:-len("_noprof")])
        if defn is not None and defn.on(version):
            return defn
    return None


def export(prototype: str, *, convention: str | None = None, override: bool = False,
           fails: str | None = None, since: str | None = None, until: str | None = None,
           native: str = ""):
    """Decorator: declare a function export by its C prototype.

    ``fails`` says how the call fails in Linux (see :func:`parse_failure`);
    only exports that declare it are failed by fault injection.

    ``convention`` names a non-System-V register convention from
    :data:`CONVENTIONS`: ``"put_user"`` calls ``fn(k, value, user_ptr) -> err``,
    ``"get_user"`` calls ``fn(k, user_ptr) -> (err, value)``. ``since`` and
    ``until`` limit the declaration to the kernel lines from ``since`` on and
    before ``until`` (versions as "6.4"); several declarations, one per form,
    may decorate one model.

    ``native`` is the function in x86_64 assembly (Intel syntax), for a pure
    function (string and memory functions) that should run as machine code and
    never leave the emulator; the Python model stays its definition: the tracer
    and the paths the assembly leaves to it (``jmp {model}``) run it.
    """
    name = prototype_name(prototype)
    if convention is not None and convention not in CONVENTIONS:
        raise ValueError(f"unknown calling convention {convention!r}")
    failure = parse_failure(fails, prototype) if fails is not None else None

    def deco(fn):
        register(ExportDef(name, "func", fn, convention=convention, origin=_origin(fn),
                           prototype=prototype, fails=failure, since=since,
                           until=until, native=native), override)
        return fn
    return deco


def kernel_function(prototype: str):
    """Decorator: model a vmlinux function that Linux does not export
    (``kallsyms_lookup_name``): modules reach it only by its address, which
    kallsyms and kprobes hand out; a module importing it gets ``Unknown symbol``."""
    name = prototype_name(prototype)

    def deco(fn):
        register(ExportDef(name, "func", fn, origin=_origin(fn), prototype=prototype,
                           internal=True))
        return fn
    return deco


def unreachable(prototype: str, result=0, why: str = "", origin: str = "",
                before=None) -> ExportDef:
    """Declare an export kemu never reaches (a path it does not drive, such as
    a tracepoint probe's, which runs only while the event is enabled): a module
    links against it; a call is a ``not-modelled`` finding naming it and ``why``,
    and returns ``result`` (the failure Linux would give, or a harmless value;
    a callable ``result(k, *args)`` computes it). ``before(k, *args)`` runs first
    (to fill out-parameters as Linux would). ``origin`` ("file:line") defaults to
    the caller's.
    """
    name = prototype_name(prototype)
    reason = why or "kemu does not model this path"

    def fn(k, *args):
        k.finding("not-modelled", f"{name}() was called, but {reason}",
                  k.current_module())
        if before is not None:
            before(k, *args)
        return result(k, *args) if callable(result) else result
    fn.__name__ = name
    fn.__qualname__ = f"unreachable.{name}"
    fn.__doc__ = f"{name}(): unreachable in kemu ({reason})."
    if not origin:
        frame = sys._getframe(1)
        origin = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    return register(ExportDef(name, "func", fn, origin=f"{origin} ({prototype})",
                              prototype=prototype))


LINK_ONLY = "kemu models it only for linking: "


def not_modelled(k, name: str, why: str) -> None:
    """Report a call of a path kemu models only for linking, inside a modelled export."""
    k.finding("not-modelled", f"{name}() was called, but {LINK_ONLY}{why}", k.current_module())


def link_only(prototype: str, result, why: str, before=None, origin: str = "") -> ExportDef:
    """:func:`unreachable` for an export a module links against but kemu's runs
    never reach (a mounted filesystem's operations, a device that never exists):
    a call is a ``not-modelled`` finding saying why, and returns ``result``."""
    if not origin:
        frame = sys._getframe(1)
        origin = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    return unreachable(prototype, result, LINK_ONLY + why, origin=origin, before=before)


def link_only_table(table, why: str) -> None:
    """:func:`link_only` for each ``(prototype, result)`` of ``table``."""
    frame = sys._getframe(1)
    for prototype, result in table:
        link_only(prototype, result, why, origin=f"{frame.f_code.co_filename}:{frame.f_lineno}")


def _parse_decl(decl: str):
    if "(" in decl:
        raise ValueError(f"data {decl!r}: declare a function pointer as 'void *NAME'")
    words = decl.replace("*", " * ").split()
    name = words[-1]
    type_text = " ".join(words[:-1])
    array = None
    if "[" in name:
        name, _, rest = name.partition("[")
        array = 1
        for dim in rest.rstrip("]").split("]["):
            array *= int(dim, 0) if dim else 0
    struct = None
    bare = [w for w in type_text.split() if w not in ("const", "volatile")]
    if bare and bare[0] in ("struct", "union") and "*" not in bare:
        struct = bare[1]
        ctype = None
    else:
        ctype = parse_type(type_text)
    return name, type_text, ctype, struct, array


def data(decl: str, *, size: int | None = None, align: int = 8, override: bool = False):
    """Decorator: declare a data export, e.g. ``@data("unsigned long volatile jiffies")``.

    The decorated ``init(k, addr)`` fills the object the first time a module
    links against it. The size is the type's, ``sizeof(struct X)`` of the
    target kernel for a struct, times the array length if the name has one,
    or ``size=``.
    """
    name, type_text, ctype, struct, array = _parse_decl(decl)

    def deco(fn):
        register(ExportDef(name, "data", fn, ctype=ctype, type_name=struct or type_text,
                           size=size if size is not None else _static_size(ctype, array),
                           align=align, origin=_origin(fn)), override)
        return fn
    return deco


def percpu(decl: str, *, size: int | None = None, align: int = 8, override: bool = False,
           since: str | None = None, until: str | None = None,
           within: tuple[str, str | None] | None = None):
    """Decorator: declare a per-CPU variable; ``init(k, offset)`` gets its %gs offset.

    ``within=(container, "struct.member")`` places it inside another per-CPU
    export (6.2 gathered current_task and its neighbours into ``pcpu_hot``):
    its offset is the container's plus the member's, and ``init`` does not run.
    """
    name, type_text, ctype, struct, array = _parse_decl(decl)

    def deco(fn):
        register(ExportDef(name, "percpu", fn, ctype=ctype, type_name=struct or type_text,
                           size=size if size is not None else _static_size(ctype, array),
                           align=align, origin=_origin(fn), since=since, until=until,
                           within=within), override)
        return fn
    return deco


MEMBERS: dict[str, list[str]] = {}


def members(struct: str, *names: str) -> None:
    """Declare the members of ``struct NAME`` a model reads through
    ``k.target.offset("NAME.member")``, next to the model.

    ``kemu/target/gen.py`` collects these declarations from stubs/ (a static
    scan: arguments must be string literals) and adds them to its STRUCTS when it
    describes a kernel; names follow STRUCTS' syntax ("a.b" walks into a member,
    "x|y" takes the first that exists).
    """
    MEMBERS.setdefault(struct.removeprefix("struct "), []).extend(names)


API: dict = {}
MODULE_NOTIFIERS: list = []
ENTRY_CHECKS: list = []


def entry_check(fn):
    """Decorator: ``fn(k, entry, module)`` runs after every entry into module code
    returns normally (locks still held, say)."""
    ENTRY_CHECKS.append(fn)
    return fn


def notify_module_state(k, mod) -> None:
    """blocking_notifier_call_chain(&module_notify_list, state, mod): the models'
    notifiers, then the kernel's ``state_listeners``."""
    for notifier in MODULE_NOTIFIERS:
        notifier(k, mod)
    for listener in k.state_listeners:
        listener(mod)


def module_notifier(fn):
    """Decorator: ``fn(k, mod)`` runs at every module state change (COMING,
    LIVE, GOING), as a notifier on the kernel's module_notify_list does."""
    MODULE_NOTIFIERS.append(fn)
    return fn


def kernel_api(name: str):
    """Decorator: ``fn(k, ...)`` serves the user-side call ``name`` that
    :class:`kemu.kernel.api.UserAPI` declares (``k.proc_read``, ``k.open``, ``k.packet``).

    The method is declared in kemu/kernel/api.py, explicitly; the model that implements
    it registers here, so that kemu never imports its models.
    """
    def deco(fn):
        API[name] = fn
        return fn
    return deco


def static_call(key: str, target: str) -> None:
    """Declare static call ``key``: ``__SCT__<key>`` is a trampoline jumping to ``target``."""
    STATIC_CALLS[key] = target


def _static_size(ctype, array):
    if ctype is None:
        return None
    return ctype.size * (array or 1) if array is not None else ctype.size


class VarArgs:
    """The integer arguments after the fixed ones of a variadic call."""

    def __init__(self, machine, first_index: int):
        self.machine, self.index = machine, first_index
        self._regs = None

    def next_int(self) -> int:
        """The next argument as a raw unsigned 64-bit value."""
        i = self.index
        self.index += 1
        if i < 6:
            if self._regs is None:
                self._regs = self.machine.int_args(6)
            return self._regs[i]
        rsp = self.machine.reg("rsp")
        return self.machine.read_u64(rsp + 8 + 8 * (i - 6))


class VaList:
    """A ``va_list`` (x86_64: gp_offset, fp_offset, overflow_arg_area, reg_save_area)."""

    def __init__(self, machine, addr: int):
        self.machine, self.addr = machine, addr
        self.gp_offset = machine.read_u32(addr)
        self.overflow = machine.read_u64(addr + 8)
        self.reg_save = machine.read_u64(addr + 16)

    def next_int(self) -> int:
        """The next integer argument, advancing the va_list as va_arg does."""
        m = self.machine
        if self.gp_offset < 48:
            value = m.read_u64(self.reg_save + self.gp_offset)
            self.gp_offset += 8
            m.write_u32(self.addr, self.gp_offset)
        else:
            value = m.read_u64(self.overflow)
            self.overflow += 8
            m.write_u64(self.addr + 8, self.overflow)
        return value


def _regs(machine, *names):
    return [machine.reg(n) for n in names]


def _call_put_user(binding):
    """do_put_user_call: value in RAX, user pointer in RCX; the error back in ECX."""
    m = binding._machine
    value, ptr = _regs(m, "rax", "rcx")
    proto = binding.defn.proto
    value = proto.params[0].ctype.from_raw(value)
    err = binding._fn(binding.kernel, value, ptr)
    m.set_reg("rcx", int(err or 0))


def _call_get_user(binding):
    """do_get_user_call: user pointer in RAX; the error in EAX, the value in RDX."""
    m = binding._machine
    ptr = m.reg("rax")
    err, value = binding._fn(binding.kernel, ptr)
    m.set_reg("rax", int(err or 0))
    m.set_reg("rdx", int(value or 0))


# Exports whose callers do not use the System V convention (arch/x86/include/asm/uaccess.h).
CONVENTIONS = {"put_user": _call_put_user, "get_user": _call_get_user}


class SlotBinding:
    """What the machine runs when module code calls an export slot.

    Built once per export per kernel; the conversions the prototype needs are
    worked out here so that a call does only what its types demand.
    """
    __slots__ = ("defn", "kernel", "calls", "tracer", "_machine", "_fn", "_n", "_convs",
                 "_variadic", "_to_raw", "_traced", "_pair", "_fails")

    def __init__(self, defn: ExportDef, kernel, tracer=None):
        self.defn, self.kernel, self.tracer, self.calls = defn, kernel, tracer, 0
        proto = defn.proto
        self._machine = kernel.machine
        self._fn = defn.fn
        self._n = len(proto.params)
        # pointers and u64 arrive as they are; narrower and signed types are converted
        self._convs = [(i, p.ctype.from_raw) for i, p in enumerate(proto.params)
                       if not (p.ctype.pointer or (p.ctype.size == 8 and not p.ctype.signed))]
        self._variadic = proto.variadic
        self._to_raw = None if proto.ret.is_void else proto.ret.to_raw
        self._pair = proto.ret.aggregate           # returned in RAX:RDX
        self._traced = []                 # args of calls in flight, for the tracer
        self._fails = defn.fails

    def __call__(self):
        m = self._machine
        if self.defn.convention:
            self.calls += 1
            CONVENTIONS[self.defn.convention](self)
            return
        args = m.int_args(self._n) if self._n else []
        for i, conv in self._convs:
            args[i] = conv(args[i])
        if self._variadic:
            args.append(VarArgs(m, self._n))
        self.calls += 1
        if self._fails is not None and self.kernel.fault_injection is not None and \
                self.kernel.fault_injection.should_fail(self.defn):
            result = self._fails.value(args)
            if self.tracer is not None:
                self._traced.append((list(args[:self._n]), m.read_u64(m.reg("rsp"))))
                self.finish(result)
            else:
                self._set_return(self._to_raw(result))
            return
        if self.tracer is not None:
            self._traced.append((list(args[:self._n]), m.read_u64(m.reg("rsp"))))
        result = self._fn(self.kernel, *args)
        if result.__class__ is types.GeneratorType:
            m.drive(result, self.finish)
        elif self.tracer is not None:
            self.finish(result)
        elif self._to_raw is not None:
            self._set_return(self._to_raw(result))

    def finish(self, result) -> None:
        """Set the return value of the hooked call (nothing for void)."""
        if self.tracer is not None and self._traced:
            args, caller = self._traced.pop()
            self.tracer(self.defn, args, result, caller)
        if self._to_raw is not None:
            self._set_return(self._to_raw(result))

    def _set_return(self, raw: int) -> None:
        self._machine.set_return(raw)
        if self._pair:
            self._machine.set_reg("rdx", (raw >> 64) & 0xFFFFFFFFFFFFFFFF)


def load_user_stubs(paths=(), entry_point_group: str = "kemu.stubs") -> list[str]:
    """Import third-party models: every ``*.py`` in each directory of ``paths``
    and each module of the ``kemu.stubs`` entry-point group.

    Their exports add to kemu's or replace them; returns one warning line per
    replaced export.
    """
    import importlib
    import importlib.metadata
    import importlib.util
    import pathlib
    before = len(OVERRIDES)
    _USER_STUBS[0] = True
    try:
        for ep in importlib.metadata.entry_points(group=entry_point_group):
            importlib.import_module(ep.value.split(":")[0])
        for directory in paths:
            root = pathlib.Path(directory)
            if not root.is_dir():
                raise FileNotFoundError(f"--stubs {directory}: not a directory")
            for path in sorted(root.glob("*.py")):
                name = f"kemu_user_stubs.{root.name}.{path.stem}"
                if name in __import__("sys").modules:
                    continue
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                __import__("sys").modules[name] = module
                spec.loader.exec_module(module)
    finally:
        _USER_STUBS[0] = False
    return [f"export {name} from {old} is overridden by {new}"
            for name, old, new in OVERRIDES[before:]]
