"""The ``kemu`` command line."""
from __future__ import annotations

import argparse
import functools
import errno
import os
import signal
import sys

from kemu.errors import (EmulationError, InitError, KemuError, LoadError, Lockup, UsageError,
                     kmod_strerror)
from kemu.kernel.taint import module_flags_taint, taint_letters, taint_mask
from kemu.module.kmodfile import DecompressError, is_module_file, read_module_file, strip_suffix
from kemu.module.modprobe import modname
from kemu.target import TargetError

GDB_TIMEOUT_MS = 7 * 24 * 3600 * 1000   # --gdb: a week, not the soft-lockup 20 s
LEVEL_STYLES = {0: "bold red", 1: "bold red", 2: "bold red", 3: "red", 4: "yellow",
                5: "bold", 6: "", 7: "dim"}


def sample_path(name: str = "hello") -> str:
    """Path of a module shipped inside the package (built from testmods/)."""
    from importlib import resources
    return str(resources.files("kemu.samples").joinpath(f"{name}.ko"))


class Console:
    """Where kernel log lines and kemu's summary go (rich, coloured by level)."""

    def __init__(self, color: bool | None = None):
        from rich.console import Console as RichConsole
        force = None if color is None else color
        self.out = RichConsole(highlight=False, soft_wrap=True, force_terminal=force,
                               no_color=(color is False))
        self.err = RichConsole(stderr=True, highlight=False, soft_wrap=True,
                               force_terminal=force, no_color=(color is False))
        self.json = False         # --json: nothing human-readable on stdout
        self.errors: list = []    # the error lines, for the --json document
        self.sessions: list = []  # the sessions the command used (for its findings)

    def record_stderr(self, rec) -> None:
        """As record(), on stderr: for commands whose stdout is data (open, read, cat)."""
        self.record(rec, self.err)

    def record(self, rec, where=None) -> None:
        """Print one finished log record, each of its lines with the timestamp."""
        if self.json:
            return
        from rich.text import Text
        stamp = rec.format(time=True)[:15]
        for line in rec.text.split("\n"):
            line = line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            (where or self.out).print(Text(f"{stamp}{line}", style=LEVEL_STYLES.get(rec.level, "")))

    def info(self, text: str) -> None:
        if self.json:
            return
        from rich.text import Text
        self.out.print(Text(text, style="cyan"))

    def error(self, text: str) -> None:
        self.errors.append(text)
        if self.json:
            return
        from rich.text import Text
        self.err.print(Text(text, style="bold red"))


def _read_module(path: str) -> bytes:
    """The file's bytes, decompressed as kmod does (kemu/module/kmodfile.py); an
    unreadable file fails as kmod's insmod reports it (exit 1)."""
    try:
        return read_module_file(path)
    except OSError as exc:
        err = exc.errno or errno.EIO
        raise KemuError(f"could not load module {path}: {os.strerror(err)}", err) from None


FINDINGS_EXIT = 3             # the command worked, but kemu found a bug (README)
BENIGN_FINDINGS = ("not-modelled",)      # kemu's own limits, not the module's bugs


def stub_dirs(args) -> list:
    """--stubs DIR..., then $KEMU_STUBS."""
    dirs = list(getattr(args, "stubs", []) or [])
    return dirs + [d for d in os.environ.get("KEMU_STUBS", "").split(":") if d]


def _session(args, console=None):
    """The session this command works on: the server's live one, else a new one."""
    host = getattr(args, "host", None)
    if host is not None:
        session = host.session(args)
    else:
        from kemu.session import Session
        session = Session(args.session, target=getattr(args, "target", None),
                          stubs=stub_dirs(args))
    if console is not None:
        console.sessions = console.sessions + [session]
    return session


def _new_findings(console) -> list:
    """What kemu found during this command, on every session it used."""
    found = []
    for session in console.sessions:
        found += [f for f in session.new_findings()
                  if f["kind"] not in BENIGN_FINDINGS and f not in found]
    return found


def _findings_status(args, console, status: int) -> int:
    """A command that found a bug fails with FINDINGS_EXIT (unless --allow-findings)."""
    if status == 0 and _new_findings(console) and not getattr(args, "allow_findings", False):
        return FINDINGS_EXIT
    return status


# findings of a fault that ended module code: a failed command's error line names it already
ENTRY_ENDING_FINDINGS = ("oops", "soft-lockup")


def _print_findings(console, status: int) -> None:
    if console.json:
        return
    for f in _new_findings(console):
        if status != 0 and f["kind"] in ENTRY_ENDING_FINDINGS:
            continue
        console.err.print(f"kemu: finding: {f['kind']}: {f['message']}", style="bold yellow",
                          highlight=False, markup=False)


def _module_arg(args):
    path = sample_path() if getattr(args, "sample", False) else args.module
    params = list(args.params)
    if getattr(args, "sample", False) and args.module is not None:
        params.insert(0, args.module)
    if path is None:
        raise UsageError(f"kemu {args.command} needs a module (MOD.ko)" +
                         (" or --sample" if args.command == "run" else ""))
    return path, params


def _insert(args, console: Console, session, k, show_log: bool):
    """insmod into the session's kernel ``k``; returns (module or None, status)."""
    path, params = _module_arg(args)
    data = _read_module(path)
    name = path                 # insmod names the module file as it was given
    if getattr(args, "trace", False):
        k.tracer.start()
    if show_log:
        k.log.listeners.append(console.record)
    op = {"op": "load", "path": os.path.abspath(path), "data": data,
          "args": " ".join(params), "force": args.force,
          "allow_missing": args.allow_missing, "timeout_ms": int(args.timeout * 1000),
          "max_insns": args.max_insns}
    if getattr(args, "gdb", None):       # stopped in GDB is not a soft lockup
        op["timeout_ms"] = GDB_TIMEOUT_MS
    if args.fail_nth:
        op["fail_nth"] = args.fail_nth
    stub = None
    if getattr(args, "gdb", None):
        from kemu.gdbstub import GdbStub
        stub = GdbStub(k, os.path.abspath(path), args.gdb, announce=lambda text:
                       console.err.print(text, style="cyan", highlight=False, markup=False))
        stub.listen()
        stub.attach()
    try:
        mod = session.run(k, op)
    except TargetError as exc:
        _print_notes(k, console, session)
        console.error(f"kemu: ERROR: {exc}")
        return None, 2
    except (LoadError, InitError) as exc:
        k.log.flush()
        _print_injection(k, args, console)
        _print_notes(k, console, session)
        console.error(f"kemu: ERROR: could not insert module {name}: "
                      f"{kmod_strerror(exc.errno)}")
        if exc.errno == errno.EEXIST:
            console.err.print(f"kemu: hint: it is loaded in session {session.dir}; "
                              "'kemu unload' or 'kemu reset' first", style="dim")
        return None, 1
    except Lockup as exc:
        k.log.flush()
        console.error(f"kemu: ERROR: could not insert module {name}: {exc}")
        return None, 1
    except EmulationError as exc:
        k.log.flush()
        if not show_log:
            for rec in k.log.records[session.mark.log:]:
                console.record(rec)
        _print_injection(k, args, console)
        console.error(f"kemu: ERROR: could not insert module {name}: module code faulted "
                      f"({exc})")
        return None, 1
    finally:
        if stub is not None:
            stub.finish(stub.mod.init_ret if stub.mod is not None and
                        stub.mod.init_ret is not None else None)
    k.log.flush()
    _print_injection(k, args, console)
    _print_notes(k, console, session)
    return mod, 0


def _print_injection(k, args, console: Console) -> None:
    """With --fail-nth: which call was failed (or that init made fewer)."""
    if getattr(args, "fail_nth", 0):
        from kemu.kernel.faultinject import FaultInjection
        console.err.print(f"kemu: {k.model(FaultInjection).describe()}", style="magenta",
                          highlight=False, markup=False)


def _remove(args, k, session, name: str, force: bool, console: Console) -> int:
    """rmmod: kmod's checks (unless forced), then delete_module."""
    from kemu.module.unload import check_module_inuse
    if not force:
        check_module_inuse(k, name)
    session.run(k, {"op": "unload", "name": name, "force": force})
    k.log.flush()
    return 0


def json_report(args, console: Console, k, mod, status: int, mark: int = 0) -> dict:
    """The --json document: module, kernel, log, findings and (with --trace) calls."""
    k.log.flush()
    status = _findings_status(args, console, status)
    doc = {"command": args.command, "exit_status": status, "errors": console.errors,
           "kernel": {"release": k.target.release, "taints": taint_letters(k.taints),
               "tainted": taint_mask(k.taints)},
           "log": [{"time": r.ts_ns / 1e9, "level": r.level, "text": r.text}
                   for r in k.log.records[mark:]],
           "findings": k.findings, "notes": k.notes,
           "behaviour": [{key: value for key, value in e.items() if key != "seq"}
                         for e in behaviour_since(k, mark)]}
    if mod is not None:
        from kemu.module.procfs import module_size
        doc["module"] = {"name": mod.name, "path": mod.path, "state": mod.state.name,
                         "init_ret": mod.init_ret, "taints": module_flags_taint(mod),
                         "size": module_size(mod), "refcount": mod.refcount(),
                         "address": f"{mod.base:#x}",
                         "holders": [h.name for h in mod.holders],
                         "uses": [u.name for u in mod.uses]}
        verdict = module_signature(k, mod)
        doc["module"]["signature"] = verdict.as_dict() if verdict else None
    if k.trace is not None:
        doc["trace"] = k.trace
    return doc


def behaviour_since(k, mark: int = 0) -> list[dict]:
    """Tampering events recorded since log record ``mark`` (``seq``: the log position)."""
    return [e for e in k.behaviour if e["seq"] >= mark]


def print_behaviour(console: Console, events: list[dict]) -> None:
    """The human summary after the log: one line per event, then the notes once."""
    if not events:
        return
    console.info("kemu: behaviour (what the module did to the kernel):")
    notes = []
    for e in events:
        where = e["function"] or "?"
        if e["line"]:
            where += f" ({e['line']})"
        console.info(f"  [{e['module'] or '-'} {e['when'] or '-'}] {e['what']}  <- {where}")
        if e.get("note") and e["note"] not in notes:
            notes.append(e["note"])
    for note in notes:
        console.info(f"  note: {note}")


def module_signature(k, mod):
    """The module file's signature verdict against the target kernel's own keys."""
    from kemu.kernel.kallsyms import KallsymsError, load_kallsyms
    from kemu.module.modsig import signature_verdict
    try:
        certificates = load_kallsyms(k.target.release).certificates
    except (KallsymsError, OSError):
        certificates = []
    try:
        return signature_verdict(read_module_file(mod.path), certificates)
    except (OSError, KemuError):
        return None


def _emit_json(doc: dict) -> None:
    import json
    sys.stdout.write(json.dumps(doc, indent=1, default=str) + "\n")


def _module_name(path: str) -> str | None:
    """The name a module file will load as (.modinfo name=), or None."""
    from kemu.module import elf as E
    try:
        image = E.elf_validity_check(E.module_sig_check(_read_module(path), lambda *a: None)[0],
                                     lambda *a: None)
    except KemuError:
        return None
    idx = image.find_any_sec(".modinfo")
    return dict(E.parse_modinfo(image.section_data(idx))).get("name") if idx else None


def _unload_previous_run(args, console: Console, session, k) -> int:
    """kemu run re-runs a module: an instance already in the session is unloaded first."""
    from kemu.module.unload import find_module
    path, _params = _module_arg(args)
    name = _module_name(path)
    if not name or find_module(k, name) is None:
        return 0
    console.err.print(f"kemu: note: {name} is loaded in this session; unloading it "
                      "first ('kemu load' keeps insmod's File exists)", style="dim",
                      highlight=False)
    k.log.listeners.append(console.record)
    try:
        _remove(args, k, session, name, False, console)
    except KemuError as exc:
        console.error(f"kemu: ERROR: {exc}")
        return 1
    finally:
        k.log.listeners.remove(console.record)
    return 0


def _check_fail_nth(args) -> None:
    if args.fail_nth < 0:
        raise UsageError(f"--fail-nth {args.fail_nth}: must be at least 1")


def _check_coverage(args) -> None:
    if args.coverage:
        where = os.path.dirname(os.path.abspath(args.coverage))
        if not os.path.isdir(where):
            raise UsageError(f"--coverage {args.coverage}: {where} is not a directory")


def _write_coverage(args, console: Console, data) -> int:
    """Write the lcov tracefile of --coverage; 1 if it cannot be written."""
    try:
        data.write_lcov(args.coverage)
    except OSError as exc:
        console.error(f"kemu: ERROR: could not write {args.coverage}: {exc.strerror}")
        return 1
    console.info(f"kemu: coverage: {data.summary()}, written to {args.coverage}")
    return 0


def _kunit_status(k, mod, console: Console) -> int:
    """1 when a KUnit suite the module carried failed (its KTAP is in the log)."""
    suites = k.kunit_results(mod)
    if not suites:
        return 0
    cases = [c for suite in suites for c in suite.cases]
    failed = [f"{c.suite}.{c.name}" for c in cases if c.status == "not ok"]
    broken = [s.name for s in suites if s.status == "not ok" and not s.cases]
    if not failed and not broken:
        console.info(f"kemu: {mod.name}: KUnit: {len(cases)} test cases, none failed")
        return 0
    parts = [f"{len(failed)} of {len(cases)} test cases failed" +
             (f": {', '.join(failed)}" if failed else "")]
    parts += [f"suite {name} failed to initialize" for name in broken]
    console.error(f"kemu: {mod.name}: KUnit: " + "; ".join(parts))
    return 1


def cmd_run(args, console: Console) -> int:
    _module_arg(args)
    _check_fail_nth(args)
    _check_coverage(args)
    with _session(args, console) as session:
        k = session.kernel()
        if _unload_previous_run(args, console, session, k):
            return 1
        mark = len(k.log.records)
        coverage = None
        if args.coverage:
            from kemu.coverage import LineCoverage
            coverage = k.model(LineCoverage).arm([os.path.abspath(_module_arg(args)[0])])
        mod, status = _insert(args, console, session, k, show_log=True)
        if mod is not None:
            console.info(f"kemu: {mod.name}: init returned {mod.init_ret}, state "
                         f"{mod.state.name}, taint {module_flags_taint(mod) or '-'}")
            status = _kunit_status(k, mod, console) or status
        if not args.json:
            verdict = module_signature(k, mod) if mod is not None else None
            if verdict is not None:
                console.info(f"kemu: {mod.name}: {verdict.text(k.target.release)}")
            print_behaviour(console, behaviour_since(k, mark))
        if mod is not None and args.unload:
            unload_mark = len(k.log.records)
            try:
                _remove(args, k, session, mod.name, False, console)
                console.info(f"kemu: {mod.name}: exit ran, module unloaded")
                if not args.json:
                    print_behaviour(console, behaviour_since(k, unload_mark))
            except KemuError as exc:
                console.error(f"kemu: ERROR: {exc}")
                status = 1
        if coverage is not None:
            status = _write_coverage(args, console, coverage.collect()) or status
        if args.json:
            _emit_json(json_report(args, console, k, mod, status, mark))
    return status


def cmd_load(args, console: Console) -> int:
    _module_arg(args)
    _check_fail_nth(args)
    _check_coverage(args)
    with _session(args, console) as session:
        k = session.kernel()
        mark = len(k.log.records)
        coverage = None
        if args.coverage:
            from kemu.coverage import LineCoverage
            coverage = k.model(LineCoverage).arm([os.path.abspath(_module_arg(args)[0])])
        mod, status = _insert(args, console, session, k, show_log=False)
        if mod is not None:
            status = _kunit_status(k, mod, console) or status
        if coverage is not None:
            status = _write_coverage(args, console, coverage.collect()) or status
        if args.json:
            _emit_json(json_report(args, console, k, mod, status, mark))
    return status


def cmd_unload(args, console: Console) -> int:
    from kemu.module.procfs import _newest_first
    with _session(args, console) as session:
        k = session.kernel()
        name = args.name
        if name is None:
            loaded = _newest_first(k)
            if not loaded:
                raise UsageError("no module is loaded in this session")
            name = loaded[0].name
        elif is_module_file(name):
            name = strip_suffix(os.path.basename(name))
        k.log.listeners.append(console.record)
        mark = len(k.log.records)
        if args.json:
            status = 0
            try:
                _remove(args, k, session, name, args.force, console)
            except KemuError as exc:
                console.error(f"kemu: ERROR: {exc}")
                status = 1
            _emit_json(json_report(args, console, k, None, status, mark))
            return status
        return _remove(args, k, session, name, args.force, console)


def cmd_lsmod(args, console: Console) -> int:
    from kemu.module.procfs import lsmod, proc_modules
    with _session(args, console) as session:
        k = session.kernel()
    if args.json:
        doc = json_report(args, console, k, None, 0, len(k.log.records))
        doc["modules"] = [json_report(args, console, k, m, 0, len(k.log.records))["module"]
                          for m in reversed(list(k.modules.values()))]
        _emit_json(doc)
        return 0
    sys.stdout.write(proc_modules(k) if args.proc else lsmod(k, show_hidden=args.all))
    if k.taints and not args.proc:
        # lsmod's table has no taint column; the kernel's taint goes to stderr
        console.err.print(f"kemu: kernel {k.taint_string().strip()} "
                          f"(per module: kemu lsmod --proc)", highlight=False)
    return 0


def cmd_dmesg(args, console: Console) -> int:
    with _session(args, console) as session:
        k = session.kernel()
    k.log.flush()
    if args.json:
        _emit_json(json_report(args, console, k, None, 0, 0))
        return 0
    for rec in k.log.records:
        console.record(rec)
    return 0


KEMU_VIEWS = ("/proc/modules", "/proc/sys/kernel/tainted")


def _session_op(args, console: Console, op: dict, show_log: bool = True):
    """Run one journalled operation on the session's kernel; (kernel, result)."""
    with _session(args, console) as session:
        k = session.kernel()
        if show_log:
            k.log.listeners.append(console.record_stderr)
        try:
            result = session.run(k, op)
        except EmulationError as exc:
            k.log.flush()
            raise KemuError(str(exc), exc.errno) from None
        k.log.flush()
        return k, result


KILLED = 128 + signal.SIGKILL    # the shell's status of a process killed by SIGKILL


def _file_op(args, console: Console, op: dict, shown: str, who: str):
    """One journalled file operation for a command; (status, result).

    A failed system call prints the errno as the shell shows it (``cat: PATH:
    Permission denied``) and is status 1; module code that oopsed kills the
    process, as on Linux (the shell says ``Killed``, status 137).
    """
    if getattr(args, "uid", 0):
        op["uid"] = args.uid
    with _session(args, console) as session:
        k = session.kernel()
        k.log.listeners.append(console.record_stderr)
        try:
            result = session.run(k, op)
            k.log.flush()
            return 0, result
        except EmulationError:
            k.log.flush()
            console.err.print("Killed", highlight=False, markup=False)
            return KILLED, None
        except UsageError:
            raise                         # the command line's fault: one line, status 2
        except KemuError as exc:
            k.log.flush()
            err = getattr(exc, "errno", None)
            if not err:
                raise
            console.err.print(f"{who}: {shown}: {os.strerror(err)}", highlight=False,
                              markup=False)
            return 1, None


def cmd_cat(args, console: Console) -> int:
    from kemu.module.procfs import proc_modules, proc_tainted
    status = 0
    for path in args.paths:
        if path in KEMU_VIEWS:
            with _session(args, console) as session:
                k = session.kernel()
            view = {"/proc/modules": proc_modules, "/proc/sys/kernel/tainted": proc_tainted}
            sys.stdout.write(view[path](k))
            sys.stdout.flush()
            continue
        st, data = _file_op(args, console, {"op": "cat", "path": path}, path, "cat")
        if data:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        if st == KILLED:                     # the oops killed cat: no further files
            return st
        status = status or st
    return status


def cmd_write(args, console: Console) -> int:
    target = int(args.where) if args.where.isdigit() else args.where
    if args.file is not None:
        if args.data is not None:
            raise UsageError("write: give DATA or --file F, not both")
        try:
            with open(args.file, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise UsageError(f"write: {args.file}: {exc.strerror}") from None
    elif args.data is None:
        raise UsageError("write: give DATA or --file F")
    else:
        raw = args.data.encode("utf-8", "surrogateescape")
        if not args.no_newline and not isinstance(target, int):
            raw += b"\n"                          # echo DATA > PATH
    data = raw.decode("utf-8", "surrogateescape")
    if isinstance(target, str) and not target.startswith("/"):
        raise UsageError(f"write: {target}: give an absolute path or a descriptor from "
                         "'kemu open'")
    status, n = _file_op(args, console, {"op": "write", "target": target, "data": data},
                         str(target), "write")
    if status == 0 and n is not None and isinstance(target, int):
        console.info(f"kemu: wrote {n} bytes")
    return status


def ls_long(e) -> str:
    """One line of ls -l for an entry of a mounted filesystem (busybox's layout)."""
    import stat
    import time
    s = e.stat
    when = time.gmtime(s.mtime[0])
    now = time.time()
    date = time.strftime("%b %e %H:%M" if 0 <= now - s.mtime[0] < 182 * 86400 else "%b %e  %Y",
                         when)
    size = f"{os.major(s.rdev)}, {os.minor(s.rdev)}" if stat.S_ISCHR(s.mode) or \
        stat.S_ISBLK(s.mode) else str(s.size)
    line = f"{stat.filemode(s.mode)} {s.nlink:4d} {s.uid:<8d} {s.gid:<8d} {size:>9} {date} {e.name}"
    return line + (f" -> {s.target}" if s.target else "")


def cmd_ls(args, console: Console) -> int:
    import stat
    status = 0
    with _session(args, console) as session:
        k = session.kernel()
        todo = [(path, False) for path in args.paths]
        first = True
        while todo:
            path, below = todo.pop(0)
            try:
                with k.as_process("ls", args.uid):
                    entries = k.list_dir(path, all_names=args.all, with_stat=args.long)
                    k.log.flush()
            except KemuError as exc:
                err = getattr(exc, "errno", None) or errno.ENOENT
                console.err.print(f"ls: cannot access '{path}': {os.strerror(err)}"
                                  if err == errno.ENOENT else
                                  f"ls: cannot open directory '{path}': {os.strerror(err)}",
                                  highlight=False, markup=False)
                status = 2 if err == errno.ENOENT else 1
                continue
            is_dir = len(entries) != 1 or entries[0].name != path.rstrip("/").rsplit("/", 1)[-1] \
                or stat.S_ISDIR(entries[0].mode)
            if len(args.paths) > 1 or args.recursive and is_dir:
                print(("" if first else "\n") + f"{path}:")
            first = False
            if args.long and entries and entries[0].stat is not None and is_dir:
                print(f"total {(sum(e.stat.blocks for e in entries) + 1) // 2}")
            for e in entries:
                if args.long and e.stat is not None:
                    print(ls_long(e))
                else:
                    print(f"{stat.filemode(e.mode)} {e.name}" if args.long else e.name)
            if args.recursive and is_dir:                # ls -R: each subdirectory after
                subs = [(path.rstrip("/") + "/" + e.name, True) for e in entries
                        if stat.S_ISDIR(e.mode) and e.name not in (".", "..")]
                todo[0:0] = subs
    return status


def cmd_stat(args, console: Console) -> int:
    """stat PATH: busybox's layout (the oracle's), for paths on a mounted filesystem."""
    import stat
    import time
    status = 0
    with _session(args, console) as session:
        k = session.kernel()
        for path in args.paths:
            try:
                with k.as_process("stat", args.uid):
                    s = k.stat(path, follow=False)
                    k.log.flush()
            except KemuError as exc:
                err = getattr(exc, "errno", None) or errno.ENOENT
                console.err.print(f"stat: cannot statx '{path}': {os.strerror(err)}",
                                  highlight=False, markup=False)
                status = 1
                continue
            kind = {stat.S_IFREG: "regular empty file" if not s.size else "regular file",
                    stat.S_IFDIR: "directory", stat.S_IFLNK: "symbolic link",
                    stat.S_IFCHR: "character special file", stat.S_IFBLK: "block special file",
                    stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket"}[stat.S_IFMT(s.mode)]

            def when(ts):
                return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts[0])) + \
                    f".{ts[1]:09d} +0000"

            def who(n):
                return "UNKNOWN"                 # the machine has no user database
            name = f"{path} -> {s.target}" if s.target else path
            print(f"  File: {name}")
            print(f"  Size: {s.size:<10d}\tBlocks: {s.blocks:<10d} IO Block: {s.blksize:<6d} "
                  f"{kind}")
            print(f"Device: {s.dev:x}h/{s.dev}d\tInode: {s.ino:<11d} Links: {s.nlink}")
            print(f"Access: ({stat.S_IMODE(s.mode):04o}/{stat.filemode(s.mode)})  "
                  f"Uid: ({s.uid:5d}/{who(s.uid):>8})   Gid: ({s.gid:5d}/{who(s.gid):>8})")
            print(f"Access: {when(s.atime)}")
            print(f"Modify: {when(s.mtime)}")
            print(f"Change: {when(s.ctime)}")
    return status


def cmd_attach(args, console: Console) -> int:
    op = {"op": "attach", "image": os.path.abspath(args.image)}
    if args.read_only:
        op["read_only"] = True
    _k, dev = _session_op(args, console, op)
    print(dev)
    return 0


def cmd_detach(args, console: Console) -> int:
    _session_op(args, console, {"op": "detach", "device": args.device})
    return 0


def cmd_mount(args, console: Console) -> int:
    """mount -t TYPE [-o OPTS] SOURCE DIR; without arguments, the mounts (/proc/mounts)."""
    if not args.source:
        from kemu.stubs.fs.namespace import proc_mounts
        with _session(args, console) as session:
            sys.stdout.write(proc_mounts(session.kernel()))
        return 0
    if not args.dir or not args.type:
        raise UsageError("mount: give -t TYPE, the device or image and the directory")
    source = args.source
    if not source.startswith("/dev/"):
        if not os.path.exists(source):
            raise UsageError(f"mount: {source}: {os.strerror(errno.ENOENT)}")
        source = os.path.abspath(source)
    op = {"op": "mount", "source": source, "point": args.dir, "fstype": args.type}
    if args.options:
        op["options"] = args.options
    try:
        _session_op(args, console, op)
    except KemuError as exc:
        opts = (args.options or "").split(",")
        if getattr(exc, "errno", 0) not in (errno.EACCES, errno.EROFS) or "ro" in opts:
            console.err.print(f"mount: {exc}", highlight=False, markup=False)
            return 255
        # a write-protected source: mount(8) tries again read-only
        op["options"] = ",".join([o for o in opts if o and o != "rw"] + ["ro"])
        try:
            _session_op(args, console, op)
        except KemuError as again:
            console.err.print(f"mount: {again}", highlight=False, markup=False)
            return 255
        console.err.print(f"mount: {args.dir}: WARNING: source write-protected, mounted "
                          "read-only.", highlight=False, markup=False)
    return 0


def cmd_mkdir(args, console: Console) -> int:
    status = 0
    for path in args.paths:
        st, _ = _file_op(args, console, {"op": "mkdir", "path": path},
                         f"cannot create directory '{path}'", "mkdir")
        status = status or st
    return status


def cmd_rm(args, console: Console) -> int:
    status = 0
    for path in args.paths:
        op = {"op": "rm", "path": path}
        if args.dir:
            op["dir"] = True
        st, _ = _file_op(args, console, op, f"cannot remove '{path}'", "rmdir" if args.dir
                         else "rm")
        status = status or st
    return status


def cmd_sync(args, console: Console) -> int:
    _session_op(args, console, {"op": "sync"})
    return 0


def cmd_umount(args, console: Console) -> int:
    try:
        _session_op(args, console, {"op": "umount", "point": args.dir})
    except KemuError as exc:
        console.err.print(f"umount: {exc}", highlight=False, markup=False)
        return 1
    return 0


POLL_BITS = ("EPOLLIN", "EPOLLPRI", "EPOLLOUT", "EPOLLERR", "EPOLLHUP", "EPOLLNVAL",
             "EPOLLRDNORM", "EPOLLRDBAND", "EPOLLWRNORM", "EPOLLWRBAND", "EPOLLMSG",
             "EPOLLRDHUP")


def cmd_poll(args, console: Console) -> int:
    k, mask = _session_op(args, console, {"op": "poll", "fd": args.fd})
    names = [n[1:] for n in POLL_BITS if mask & k.target.const(n)]   # POLLIN as poll(2) says
    print(f"{mask:#x} " + ("|".join(names) or "0"))
    return 0


def cmd_mmap(args, console: Console) -> int:
    op = {"op": "mmap", "fd": args.fd, "length": args.length, "offset": args.offset}
    _k, data = _session_op(args, console, op)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return 0


def cmd_lseek(args, console: Console) -> int:
    whence = {"SET": 0, "CUR": 1, "END": 2}[args.whence]
    op = {"op": "lseek", "fd": args.fd, "offset": args.offset, "whence": whence}
    _k, ret = _session_op(args, console, op)
    print(ret)
    return 0 if ret >= 0 else 1


def cmd_open(args, console: Console) -> int:
    flags = {"r": 0, "w": 1, "rw": 2}[args.mode]
    op = {"op": "open", "path": args.path, "flags": flags}
    if args.uid:
        op["uid"] = args.uid
    _k, fd = _session_op(args, console, op)
    print(fd)
    return 0


def cmd_read(args, console: Console) -> int:
    _k, data = _session_op(args, console, {"op": "read", "fd": args.fd, "size": args.size})
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return 0


def cmd_ioctl(args, console: Console) -> int:
    op = {"op": "ioctl", "fd": args.fd, "cmd": int(args.cmd, 0), "arg": int(args.arg, 0)}
    _k, ret = _session_op(args, console, op)
    print(ret)
    return 0 if ret >= 0 else 1


def cmd_close(args, console: Console) -> int:
    _session_op(args, console, {"op": "close", "fd": args.fd})
    return 0


def cmd_syscall(args, console: Console) -> int:
    """System calls made by one process, printed as strace prints them."""
    calls, call = [], []
    for word in [args.name] + args.args:
        if word == ",":
            if call:
                calls.append(call)
            call = []
        else:
            call.append(word)
    if call:
        calls.append(call)
    op = {"op": "syscall", "calls": calls}
    status, results = _file_op(args, console, op, calls[0][0], "syscall")
    if results is None:
        return status
    for res in results:
        print(res["shown"])
    return 0 if results and results[-1]["ret"] >= 0 else 1


def cmd_packet(args, console: Console) -> int:
    packet = {"proto": args.proto, "src": args.src, "dst": args.dst, "sport": args.sport,
              "dport": args.dport, "payload": args.payload, "hook": args.hook}
    _k, result = _session_op(args, console, {"op": "packet", "packet": packet})
    if args.json:
        _emit_json({"hook": result.hook, "final": result.final, "verdicts": [
            {"module": o, "priority": p, "hook": fn, "verdict": v}
            for o, p, fn, v in result.verdicts]})
        return 0
    print(f"{args.proto} {args.src}:{args.sport} -> {args.dst}:{args.dport} at "
          f"NF_INET_{result.hook}")
    if not result.verdicts:
        print("  no hooks registered: NF_ACCEPT")
    for owner, prio, fn, verdict in result.verdicts:
        print(f"  priority {prio:>6}  {fn:<40} {verdict}")
    print(f"verdict: {result.final}")
    return 0


def cmd_tick(args, console: Console) -> int:
    if args.ms < 0:
        raise UsageError("tick: MS must not be negative (the clock only goes forward)")
    _session_op(args, console, {"op": "tick", "ms": args.ms})
    return 0


def cmd_survey(args, console: Console) -> int:
    from kemu.survey import summarize, survey, to_json
    if not os.path.isdir(args.dir):
        raise UsageError(f"survey: {args.dir}: not a directory")
    if args.jobs < 1:
        raise UsageError(f"survey: --jobs {args.jobs}: must be at least 1")
    with SurveyProgress(console, verbose=args.verbose and not args.json,
                        bar=console.err.is_terminal and not args.json) as progress:
        results = survey(args.dir, allow_missing=args.allow_missing,
                         timeout_ms=int(args.timeout * 1000), progress=progress, jobs=args.jobs)
    if args.json:
        sys.stdout.write(to_json(results, args.dir) + "\n")
        return 0
    _print_survey(console, results, summarize(results, args.dir), args.verbose)
    return 0


class SurveyProgress:
    """A survey's progress on stderr: on a terminal a bar with the counts by
    outcome and the time left; with -v a line per module; else nothing."""

    def __init__(self, console: Console, verbose: bool, bar: bool):
        self.console, self.verbose, self.live = console, verbose, None
        self.counts = {"clean": 0, "ok": 0, "failed": 0}
        if bar and not verbose:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeRemainingColumn)
            self.live = Progress(TextColumn("survey"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[counts]}"), TimeRemainingColumn(),
                                 console=console.err, transient=True)
            self.task = None

    def __enter__(self):
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)

    def __call__(self, i: int, n: int, res) -> None:
        if self.verbose:
            self.console.err.print(f"[{i}/{n}] {res.module}: {res.outcome}", style="dim",
                                   highlight=False, markup=False)
        if self.live is None:
            return
        key = "failed" if res.outcome != "ok" else "ok" if res.findings else "clean"
        self.counts[key] += 1
        counts = " ".join(f"{v} {k}" for k, v in self.counts.items())
        if self.task is None:
            self.task = self.live.add_task("survey", total=n, counts=counts)
        self.live.update(self.task, completed=i, counts=counts)


def _print_survey(console: Console, results, s: dict, verbose: bool) -> None:
    """The modules that did not come out clean (all with -v), the totals, the
    table by category, the most wanted exports."""
    from rich.table import Table
    from kemu.survey import is_clean
    table = Table("module", "outcome", "first missing export", "findings", box=None)
    for r in results:
        if verbose or not is_clean(r):
            table.add_row(r.module, r.outcome, r.first_missing or "",
                          "; ".join(r.findings)[:120] or (r.detail[:120] if r.outcome != "ok" else ""))
    console.out.print(table)
    n = max(1, s["modules"])
    cats = s.get("categories", {})
    if len(cats) > 1:
        big = {c: v for c, v in cats.items() if v["modules"] >= 10 or verbose}
        rest = [v for c, v in cats.items() if c not in big]
        table = Table("category", "modules", "ok", "clean", box=None)
        for name, v in list(big.items()) + ([("other", {k: sum(x[k] for x in rest)
                                                         for k in ("modules", "ok", "clean")})]
                                             if rest else []):
            table.add_row(name, str(v["modules"]), str(v["ok"]),
                          f"{v['clean']} ({100 * v['clean'] / v['modules']:.0f}%)")
        console.out.print(table)
    ok = s["totals"].get("ok", 0)
    console.out.print(f"{s['modules']} modules: {ok} ok ({100 * ok / n:.0f}%), "
                      f"{s['clean']} of them clean ({100 * s['clean'] / n:.0f}%), "
                      + ", ".join(f"{v} {k}" for k, v in sorted(s["totals"].items()) if k != "ok"),
                      highlight=False)
    if s["most_wanted"]:
        console.out.print("most wanted exports: " + ", ".join(
            f"{name} ({count})" for name, count in s["most_wanted"][:10]), highlight=False)


def cmd_faultsweep(args, console: Console) -> int:
    from kemu.kernel.faultinject import faultsweep
    path, params = _module_arg(args)
    _read_module(path)

    def progress(i, n, result):
        if not args.json:
            console.err.print(f"[{i}/{n}] fail-nth {result.call.nth}: {result.outcome}",
                              style="dim", highlight=False, markup=False)
    report = faultsweep(path, " ".join(params), scope=args.entry, progress=progress)
    if args.json:
        _emit_json(report.to_json())
    else:
        from rich.text import Text
        for line in report.lines():
            style = "bold red" if line.startswith("[FAIL]") else \
                "red" if line.startswith("    ") else ""
            console.out.print(Text(line, style=style))
    return 0 if report.ok else 1


def cmd_reset(args, console: Console) -> int:
    _session(args).reset()
    if getattr(args, "host", None) is not None:
        args.host.stop()                    # the session's server ends with it
    return 0


def cmd_targets(args, console: Console) -> int:
    """The kernels kemu can be: shipped and cached descriptions, installed headers."""
    from kemu.target import (available_targets, cache_dir, cached_targets, generate_target,
                         installed_headers, release_key)
    if args.generate is not None:
        from kemu.target.gen import default_headers, GenError
        try:
            kdir = args.generate or default_headers()
        except GenError as exc:
            raise TargetError(str(exc)) from None
        if not os.path.isdir(kdir):
            raise UsageError(f"targets: {kdir}: not a directory")
        out = generate_target(kdir, progress=lambda text: console.err.print(
            text, style="dim", highlight=False, markup=False))
        console.out.print(f"{out}", highlight=False, markup=False)
        return 0
    shipped, cached = available_targets(), cached_targets()
    headers = installed_headers()
    for release in sorted(set(shipped) | set(cached) | set(headers),
                          key=release_key):
        where = "shipped" if release in shipped else \
            f"cached   {cache_dir() / (release + '.json')}" if release in cached else \
            f"headers  {headers[release]} (described on first use)"
        console.out.print(f"{release:<24} {where}", highlight=False, markup=False)
    return 0


def _print_notes(k, console: Console, session) -> None:
    """kemu's remarks from this command (findings are printed on their own)."""
    found = {f"{f['kind']}: {f['message']}" for f in k.findings[session.mark.findings:]
             if f["kind"] not in BENIGN_FINDINGS}
    for note in k.notes[session.mark.notes:]:
        if note not in found:
            console.err.print(f"kemu: note: {note}", style="dim", highlight=False)


def cmd_modinfo(args, console: Console) -> int:
    from kemu.module import elf as E
    from kemu.module.modsig import signature_info
    path = args.module
    try:
        data = _read_module(path)
    except DecompressError as exc:        # kmod's modinfo_do(): kmod_module_get_info() failed
        raise KemuError(f"could not get modinfo from '{modname(path)}': "
                        f"{os.strerror(errno.EINVAL)} ({exc.reason})", errno.EINVAL) from None
    errors = []
    body, _signed = E.module_sig_check(data, lambda lvl, text: errors.append(text))
    image = E.elf_validity_check(body, lambda lvl, text: errors.append(text))
    idx = image.find_any_sec(".modinfo")
    info = E.parse_modinfo(image.section_data(idx)) if idx else []
    sig = signature_info(data)
    if sig is not None:                    # kmod_module_get_info() appends these last
        info = info + sig.modinfo()
    lines = [f"{'filename:':<16}{os.path.abspath(path)}"]
    parms, ptypes, order = {}, {}, []
    for key, value in info:
        if key in ("parm", "parmtype"):
            pname, _, rest = value.partition(":")
            (parms if key == "parm" else ptypes)[pname] = rest
            if pname not in order:
                order.append(pname)
            continue
        # printf("%s:%-*s%s", key, 15 - keylen, "", value): a negative width pads too
        lines.append(f"{key}:{' ' * abs(15 - len(key))}{value}")
    for pname in reversed(order):          # kmod prepends each new parameter to its list
        if pname not in parms:
            lines.append(f"{'parm:':<16}{pname}:{ptypes[pname]}")
        elif pname in ptypes:
            lines.append(f"{'parm:':<16}{pname}:{parms[pname]} ({ptypes[pname]})")
        else:
            lines.append(f"{'parm:':<16}{pname}:{parms[pname]}")
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from kemu import __version__
    p = argparse.ArgumentParser(prog="kemu", description="Run real Linux kernel modules "
                                "under emulation, in a persistent emulated kernel.")
    p.add_argument("--version", action="version", version=f"kemu {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--session", metavar="DIR",
                        help="session directory (default: $KEMU_SESSION or "
                             "~/.local/state/kemu/session)")
    common.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the kernel log by level")
    common.add_argument("--stubs", action="append", default=[], metavar="DIR",
                        help="also load kernel models from the *.py files in DIR (they may "
                             "override kemu's; also $KEMU_STUBS, ':'-separated)")
    common.add_argument("--modules", metavar="DIR",
                        help="module tree that request_module() loads from, as modprobe "
                             "would (also $KEMU_MODULES)")
    common.add_argument("--allow-findings", action="store_true",
                        help=f"exit 0 even when kemu found a bug (a leak, something left "
                             f"registered, a WARN, a lock held); else exit {FINDINGS_EXIT}")
    common.add_argument("--json", action="store_true",
                        help="print a machine-readable report instead (module, kernel, log, "
                             "findings)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def loader_opts(sp, run: bool):
        sp.add_argument("module", nargs="?", metavar="MOD.ko")
        sp.add_argument("params", nargs="*", metavar="name=value",
                        help="module parameters, as insmod takes them")
        sp.add_argument("--force", "-f", action="store_true",
                        help="as insmod -f: skip vermagic and modversions checks (taints F)")
        sp.add_argument("--allow-missing", action="store_true",
                        help="stub imports that kemu does not provide (they return 0)")
        sp.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS",
                        help="wall-clock limit for each entry into module code (default 20, the "
                             "kernel's soft-lockup threshold)")
        sp.add_argument("--max-insns", type=int, default=0, metavar="N",
                        help="instruction budget for each entry into module code "
                             "(default: none; counting slows emulation)")
        sp.add_argument("--target", metavar="RELEASE|FILE",
                        help="kernel of a new session (default: the release the first "
                             "module was built for, from its vermagic)")
        sp.add_argument("--trace", action="store_true",
                        help="with --json: every export call with its arguments and result")
        sp.add_argument("--fail-nth", type=int, default=0, metavar="N",
                        help="fault injection: the N-th fallible kernel call of init (an "
                             "allocation, a registration...) fails as it can in Linux")
        sp.add_argument("--coverage", metavar="FILE",
                        help="write the line coverage of the module's own sources (init, "
                             "and exit with --unload) to FILE as an lcov tracefile")
        if run:
            sp.add_argument("--gdb", metavar="HOST:PORT",
                            help="wait for GDB (target remote HOST:PORT) before init; GDB "
                                 "finds the module's symbols itself")
            sp.add_argument("--sample", action="store_true",
                            help="run the sample module shipped with kemu (hello.ko)")
            sp.add_argument("--unload", action="store_true",
                            help="unload the module again at the end (its exit runs)")

    run = sub.add_parser("run", parents=[common],
                         help="load a module into the session, print what its init logged")
    loader_opts(run, True)
    run.set_defaults(func=cmd_run)
    for name in ("load", "insmod"):
        sp = sub.add_parser(name, parents=[common], help="load a module (as insmod)")
        loader_opts(sp, False)
        sp.set_defaults(func=cmd_load)
    for name in ("unload", "rmmod"):
        sp = sub.add_parser(name, parents=[common], help="unload a module (as rmmod)")
        sp.add_argument("name", nargs="?", metavar="NAME",
                        help="module name (default: the most recently loaded)")
        sp.add_argument("--force", "-f", action="store_true",
                        help="as rmmod -f: unload even if in use or permanent (taints R)")
        sp.set_defaults(func=cmd_unload)
    ls = sub.add_parser("lsmod", parents=[common], help="list loaded modules (as lsmod)")
    ls.add_argument("--proc", action="store_true", help="/proc/modules format, with taints")
    ls.add_argument("--all", action="store_true", help="also the modules that unlinked "
                    "themselves from the module list, marked [hidden]")
    ls.set_defaults(func=cmd_lsmod)
    sub.add_parser("dmesg", parents=[common], help="print the session's kernel log"
                   ).set_defaults(func=cmd_dmesg)
    uid = argparse.ArgumentParser(add_help=False)
    uid.add_argument("--uid", type=int, default=0, metavar="N",
                     help="run as user N (gid N, no capabilities): permission bits and "
                          "capable() decide as on Linux")
    cat = sub.add_parser("cat", parents=[common, uid], help="read files as cat does: /proc, "
                         "/sys, /sys/kernel/debug, /dev (module files run the module's code)")
    cat.add_argument("paths", nargs="+", metavar="PATH")
    cat.set_defaults(func=cmd_cat)
    wr = sub.add_parser("write", parents=[common, uid], help="write DATA to a file as "
                        "'echo DATA > PATH' does, or to a descriptor from 'kemu open'")
    wr.add_argument("where", metavar="PATH|FD")
    wr.add_argument("data", nargs="?")
    wr.add_argument("--file", metavar="F", help="write the bytes of file F instead of DATA")
    wr.add_argument("-n", "--no-newline", action="store_true",
                    help="for paths: do not append a newline (echo -n)")
    wr.set_defaults(func=cmd_write)
    lsp = sub.add_parser("ls", parents=[common, uid], help="list a directory of /proc, /sys, "
                         "/sys/kernel/debug or /dev as ls does")
    lsp.add_argument("paths", nargs="+", metavar="PATH")
    lsp.add_argument("-l", dest="long", action="store_true", help="with each file's mode (on a "
                     "mounted filesystem: links, owner, size and time as ls -l shows them)")
    lsp.add_argument("-a", dest="all", action="store_true", help="with . and .. and the names "
                     "starting with a dot (mounted filesystems)")
    lsp.add_argument("-R", dest="recursive", action="store_true",
                     help="list subdirectories recursively")
    lsp.set_defaults(func=cmd_ls)
    stp = sub.add_parser("stat", parents=[common, uid], help="stat a file of a mounted "
                         "filesystem (its getattr), as stat(1) prints it")
    stp.add_argument("paths", nargs="+", metavar="PATH")
    stp.set_defaults(func=cmd_stat)
    at = sub.add_parser("attach", parents=[common], help="attach an image file as the next "
                        "block device /dev/loopN (losetup -f); prints its name")
    at.add_argument("image", metavar="IMAGE")
    at.add_argument("--read-only", "-r", action="store_true", help="a read-only device")
    at.set_defaults(func=cmd_attach)
    dt = sub.add_parser("detach", parents=[common], help="detach /dev/loopN (losetup -d)")
    dt.add_argument("device", metavar="/dev/loopN")
    dt.set_defaults(func=cmd_detach)
    mt = sub.add_parser("mount", parents=[common], help="mount a block device or an image file "
                        "with a filesystem module (its mount/get_tree and fill_super); without "
                        "arguments, list the mounts")
    mt.add_argument("-t", dest="type", metavar="TYPE", help="the filesystem type")
    mt.add_argument("-o", dest="options", metavar="OPTS", default="",
                    help="mount options (ro, noatime...; the rest go to the filesystem)")
    mt.add_argument("source", nargs="?", metavar="DEVICE|IMAGE")
    mt.add_argument("dir", nargs="?", metavar="DIR")
    mt.set_defaults(func=cmd_mount)
    mk = sub.add_parser("mkdir", parents=[common, uid], help="make directories on a mounted "
                        "filesystem (its mkdir)")
    mk.add_argument("paths", nargs="+", metavar="PATH")
    mk.set_defaults(func=cmd_mkdir)
    rm = sub.add_parser("rm", parents=[common, uid], help="remove files (-d: empty directories) "
                        "of a mounted filesystem (its unlink, rmdir)")
    rm.add_argument("paths", nargs="+", metavar="PATH")
    rm.add_argument("-d", dest="dir", action="store_true", help="remove empty directories")
    rm.set_defaults(func=cmd_rm)
    sub.add_parser("sync", parents=[common], help="write back every mounted filesystem "
                   "(dirty pages, inodes, buffers)").set_defaults(func=cmd_sync)
    um = sub.add_parser("umount", parents=[common], help="unmount (the filesystem's kill_sb)")
    um.add_argument("dir", metavar="DIR")
    um.set_defaults(func=cmd_umount)
    sk = sub.add_parser("lseek", parents=[common], help="lseek on an open descriptor")
    sk.add_argument("fd", type=int)
    sk.add_argument("offset", type=int)
    sk.add_argument("whence", nargs="?", default="SET", type=str.upper,
                    choices=("SET", "CUR", "END"))
    sk.set_defaults(func=cmd_lseek)
    pl = sub.add_parser("poll", parents=[common], help="poll an open descriptor: the events "
                        "ready now")
    pl.add_argument("fd", type=int)
    pl.set_defaults(func=cmd_poll)
    mm = sub.add_parser("mmap", parents=[common], help="map LENGTH bytes of an open device "
                        "(MAP_SHARED) and print what the mapping holds")
    mm.add_argument("fd", type=int)
    mm.add_argument("length", type=int)
    mm.add_argument("offset", type=int, nargs="?", default=0)
    mm.set_defaults(func=cmd_mmap)
    op = sub.add_parser("open", parents=[common, uid], help="open a file under /dev, /proc or "
                        "/sys and keep it open in the session; prints the descriptor")
    op.add_argument("path")
    op.add_argument("--mode", choices=("r", "w", "rw"), default="rw")
    op.set_defaults(func=cmd_open)
    rd = sub.add_parser("read", parents=[common], help="read from an open descriptor")
    rd.add_argument("fd", type=int)
    rd.add_argument("size", type=int, nargs="?", default=4096)
    rd.set_defaults(func=cmd_read)
    io = sub.add_parser("ioctl", parents=[common], help="ioctl on an open descriptor")
    io.add_argument("fd", type=int)
    io.add_argument("cmd")
    io.add_argument("arg", nargs="?", default="0")
    io.set_defaults(func=cmd_ioctl)
    cl = sub.add_parser("close", parents=[common], help="close an open descriptor")
    cl.add_argument("fd", type=int)
    cl.set_defaults(func=cmd_close)
    pk = sub.add_parser("packet", parents=[common], help="pass an IPv4 packet through the "
                        "netfilter hooks of a hook point; print each verdict")
    pk.add_argument("--proto", choices=("udp", "tcp", "icmp"), default="udp")
    pk.add_argument("--src", default="10.0.0.1")
    pk.add_argument("--dst", default="10.0.0.2")
    pk.add_argument("--sport", type=int, default=40000)
    pk.add_argument("--dport", type=int, default=53)
    pk.add_argument("--payload", default="")
    pk.add_argument("--hook", default="LOCAL_IN", type=str.upper,
                    choices=("PRE_ROUTING", "LOCAL_IN", "FORWARD", "LOCAL_OUT", "POST_ROUTING"),
                    help="the netfilter hook point (default LOCAL_IN)")
    pk.set_defaults(func=cmd_packet)
    sc = sub.add_parser("syscall", parents=[common, uid],
                        help="make system calls as a process would (kprobes on them run, "
                             "the target's dispatch decides whether sys_call_table does); "
                             "print them as strace does",
                        description="NAME [ARGS] [, NAME [ARGS]]...: getuid, geteuid, kill "
                                    "PID SIG, uname, openat PATH [FLAGS], read FD [COUNT], "
                                    "write FD DATA, close FD, ioctl FD CMD [ARG], "
                                    "getdents64 FD [COUNT]; one process makes them in order")
    sc.add_argument("name", metavar="NAME")
    sc.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    sc.set_defaults(func=cmd_syscall)
    tk = sub.add_parser("tick", parents=[common], help="advance the virtual clock; due timers, "
                        "work and tasklets run")
    tk.add_argument("ms", type=float)
    tk.set_defaults(func=cmd_tick)
    info = sub.add_parser("modinfo", parents=[common],
                          help="show a module's .modinfo as kmod's modinfo does")
    info.add_argument("module", metavar="MOD.ko")
    info.set_defaults(func=cmd_modinfo)
    sv = sub.add_parser("survey", parents=[common], help="load, init and unload every .ko "
                        "under DIR, each in a fresh kernel; report outcomes")
    sv.add_argument("dir", metavar="DIR")
    sv.add_argument("--allow-missing", action="store_true",
                    help="stub imports kemu does not provide instead of failing")
    sv.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS",
                    help="limit for each entry into module code (default 20)")
    sv.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                    help="survey N modules at a time, each in its own process")
    sv.add_argument("--verbose", "-v", action="store_true",
                    help="a line per module as it is surveyed, every module in the table "
                         "(else a progress bar on a terminal, and only the modules that "
                         "did not come out clean)")
    sv.set_defaults(func=cmd_survey)
    fs = sub.add_parser("faultsweep", parents=[common], help="run the module once per "
                        "fallible call site of its init (or exit), failing it; report leaks, "
                        "oopses, WARNs and registrations left behind")
    fs.add_argument("module", metavar="MOD.ko")
    fs.add_argument("params", nargs="*", metavar="name=value",
                    help="module parameters, as insmod takes them")
    fs.add_argument("--entry", choices=("init", "exit"), default="init",
                    help="whose fallible calls fail: init (default) or exit")
    fs.set_defaults(func=cmd_faultsweep, sample=False)
    sub.add_parser("reset", parents=[common], help="forget the session"
                   ).set_defaults(func=cmd_reset)
    tg = sub.add_parser("targets", parents=[common], help="list the kernels kemu can be "
                        "(shipped, cached, installed headers)")
    tg.add_argument("--generate", nargs="?", const="", metavar="DIR",
                    help="describe the kernel of headers DIR now (default: the newest "
                         "installed) and cache it")
    tg.set_defaults(func=cmd_targets)
    return p


@functools.lru_cache(maxsize=1)
def _parser() -> argparse.ArgumentParser:
    """The parser, built once per process: a session server answers many commands."""
    return build_parser()


def main(argv=None, host=None) -> int:
    """The command line; ``host`` is the session server's (kemu/server.py), whose
    live sessions the commands then use."""
    parser = _parser()
    parser.set_defaults(host=host)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    console = Console({"auto": None, "always": True, "never": False}[args.color])
    if os.environ.get("NO_COLOR") and args.color == "auto":
        console = Console(False)
    console.json = getattr(args, "json", False)
    if getattr(args, "modules", None):
        if not os.path.isdir(args.modules):
            console.error(f"kemu: --modules {args.modules}: not a directory")
            return 2
        os.environ["KEMU_MODULES"] = os.path.abspath(args.modules)
    try:
        from kemu.abi.exports import load_user_stubs
        from kemu.kernel.facade import import_stub_package
        import_stub_package()
        for warning in load_user_stubs(stub_dirs(args)):
            console.err.print(f"kemu: warning: {warning}", style="yellow", highlight=False)
    except FileNotFoundError as exc:
        console.error(f"kemu: {exc}")
        return 2
    except Exception as exc:                      # a broken third-party stub file
        console.error(f"kemu: could not load stubs: {type(exc).__name__}: {exc}")
        return 2
    console.sessions = []
    try:
        status = args.func(args, console)
        _print_findings(console, status)
        return _findings_status(args, console, status)
    except UsageError as exc:
        console.error(f"kemu: {exc}")
        return 2
    except TargetError as exc:
        console.error(f"kemu: ERROR: {exc}")
        return 2
    except KemuError as exc:
        console.error(f"kemu: ERROR: {exc}")
        return 1
    except KeyboardInterrupt:
        console.error("kemu: interrupted")
        return 130
    except BrokenPipeError:
        # the reader went away (kemu cat /proc/kallsyms | head): quiet, as cat is
        # when SIGPIPE ends it, and its status
        console.out.file = open(os.devnull, "w")
        if host is None:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except Exception as exc:      # never a traceback for a user; KEMU_DEBUG=1 shows it
        if os.environ.get("KEMU_DEBUG"):
            raise
        console.error(f"kemu: internal error: {type(exc).__name__}: {exc} "
                      "(set KEMU_DEBUG=1 for a traceback)")
        return 70


if __name__ == "__main__":
    sys.exit(main())
