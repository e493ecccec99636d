"""The ``kemu`` command line."""
from __future__ import annotations

import argparse
import os
import sys

from .errors import EmulationError, InitError, KemuError, LoadError, UsageError, kmod_strerror

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

    def record(self, rec) -> None:
        """Print one finished log record, each of its lines with the timestamp."""
        from rich.text import Text
        stamp = rec.format(time=True)[:15]
        for line in rec.text.split("\n"):
            line = line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            self.out.print(Text(f"{stamp}{line}", style=LEVEL_STYLES.get(rec.level, "")))

    def info(self, text: str) -> None:
        from rich.text import Text
        self.out.print(Text(text, style="cyan"))

    def error(self, text: str) -> None:
        from rich.text import Text
        self.err.print(Text(text, style="bold red"))


def _read_module(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise UsageError(f"could not load module {path}: No such file or directory") from None
    except IsADirectoryError:
        raise UsageError(f"could not load module {path}: Is a directory") from None
    except OSError as exc:
        raise UsageError(f"could not load module {path}: {exc.strerror}") from None


def cmd_run(args, console: Console) -> int:
    from .kernel import Kernel
    path = sample_path() if args.sample else args.module
    if path is None:
        raise UsageError("kemu run needs a module (MOD.ko) or --sample")
    params = args.params if not args.sample or args.module is None else [args.module] + args.params
    if args.sample and args.module is not None:
        params = [args.module] + args.params
    data = _read_module(path)
    k = Kernel(target=args.target, allow_missing=args.allow_missing,
               timeout_ms=int(args.timeout * 1000))
    k.log.listeners.append(console.record)
    name = os.path.basename(path)
    try:
        mod = k.load(path, " ".join(params), data=data)
    except (LoadError, InitError) as exc:
        k.log.flush()
        _print_notes(k, console)
        console.error(f"kemu: ERROR: could not insert module {name}: {kmod_strerror(exc.errno)}")
        return 1
    except EmulationError as exc:
        k.log.flush()
        _print_notes(k, console)
        console.error(f"kemu: ERROR: could not insert module {name}: {exc} "
                      f"(module code faulted; taint D)")
        return 1
    k.log.flush()
    console.info(f"kemu: {mod.name}: init returned {mod.init_ret}, state {mod.state.name}, "
                 f"taint {k.module_taint_letters(mod) or '-'}")
    status = 0
    if args.unload:
        from .unload import delete_module
        try:
            delete_module(k, mod.name, force=args.force)
            k.log.flush()
            console.info(f"kemu: {mod.name}: exit ran, module unloaded")
        except KemuError as exc:
            k.log.flush()
            console.error(f"kemu: ERROR: {exc}")
            status = 1
    _print_notes(k, console)
    return status


def _print_notes(k, console: Console) -> None:
    for note in k.notes:
        console.err.print(f"kemu: note: {note}", style="dim", highlight=False)


def cmd_modinfo(args, console: Console) -> int:
    from . import elf as E
    path = sample_path() if args.module == "@sample" else args.module
    data = _read_module(path)
    errors = []
    body, _signed = E.module_sig_check(data, lambda lvl, text: errors.append(text))
    image = E.elf_validity_check(body, lambda lvl, text: errors.append(text))
    idx = image.find_any_sec(".modinfo")
    info = E.parse_modinfo(image.section_data(idx)) if idx else []
    out = console.out
    out.print(f"{'filename:':<16}{os.path.abspath(path)}", highlight=False, markup=False)
    parms, ptypes, order = {}, {}, []
    for key, value in info:
        if key == "parm":
            pname, _, desc = value.partition(":")
            parms[pname] = desc
            order.append(pname) if pname not in order else None
            continue
        if key == "parmtype":
            pname, _, ptype = value.partition(":")
            ptypes[pname] = ptype
            order.append(pname) if pname not in order else None
            continue
        out.print(f"{key + ':':<16}{value}", highlight=False, markup=False)
    for pname in order:
        line = f"{'parm:':<16}{pname}:{parms.get(pname, '')}"
        if pname in ptypes:
            line += f" ({ptypes[pname]})"
        out.print(line, highlight=False, markup=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    p = argparse.ArgumentParser(prog="kemu", description="Run real Linux kernel modules "
                                "under emulation.")
    p.add_argument("--version", action="version", version=f"kemu {__version__}")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the kernel log by level")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="load a module, run its init, print the kernel log")
    run.add_argument("module", nargs="?", metavar="MOD.ko")
    run.add_argument("params", nargs="*", metavar="name=value",
                     help="module parameters, as insmod takes them")
    run.add_argument("--sample", action="store_true",
                     help="run the sample module shipped with kemu (hello.ko)")
    run.add_argument("--unload", action="store_true", help="run the module's exit at the end")
    run.add_argument("--force", action="store_true", help="with --unload: force it (taints R)")
    run.add_argument("--allow-missing", action="store_true",
                     help="stub imports that kemu does not provide (they return 0)")
    run.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                     help="wall-clock limit for each entry into module code (default 10)")
    run.add_argument("--target", metavar="RELEASE|FILE",
                     help="target kernel description (default: the shipped Debian 6.1)")
    run.set_defaults(func=cmd_run)
    info = sub.add_parser("modinfo", help="show a module's .modinfo as kmod's modinfo does")
    info.add_argument("module", metavar="MOD.ko")
    info.set_defaults(func=cmd_modinfo)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    console = Console({"auto": None, "always": True, "never": False}[args.color])
    try:
        return args.func(args, console)
    except UsageError as exc:
        console.error(f"kemu: {exc}")
        return 2
    except KemuError as exc:
        console.error(f"kemu: ERROR: {exc}")
        return 1
    except KeyboardInterrupt:
        console.error("kemu: interrupted")
        return 130
    except Exception as exc:      # never a traceback for a user; KEMU_DEBUG=1 shows it
        if os.environ.get("KEMU_DEBUG"):
            raise
        console.error(f"kemu: internal error: {type(exc).__name__}: {exc} "
                      "(set KEMU_DEBUG=1 for a traceback)")
        return 70


if __name__ == "__main__":
    sys.exit(main())
