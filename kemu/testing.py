"""Building modules for tests: Kbuild against the installed headers, cached by content."""
from __future__ import annotations

import glob
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

from kemu.errors import KemuError
from kemu.paths import cache_root
from kemu.target import installed_headers


class BuildError(KemuError):
    """Kbuild failed; the message ends with the compiler's last lines."""


def headers_dir(kdir: str | None = None) -> pathlib.Path:
    """The kernel build directory to build against: ``kdir``, else ``$KDIR`` or
    ``$KEMU_KDIR``, else the one installed headers tree; with several installed,
    the running kernel's, else an error that asks to choose."""
    kdir = kdir or os.environ.get("KDIR") or os.environ.get("KEMU_KDIR")
    if kdir:
        path = pathlib.Path(kdir)
        if not (path / "Makefile").is_file():
            raise BuildError(f"{path}: not a kernel headers directory (no Makefile)")
        return path
    installed = installed_headers()
    if not installed:
        raise BuildError("no kernel headers: apt-get install linux-headers-amd64 "
                         "(or set KDIR)")
    if len(installed) == 1:
        return next(iter(installed.values()))
    running = installed.get(os.uname().release)
    if running is not None:
        return running
    raise BuildError(f"headers of {len(installed)} kernels are installed "
                     f"({', '.join(installed)}): set KDIR to the one to build against")


def cache_dir() -> pathlib.Path:
    """Where built modules are kept: ``$KEMU_CACHE/build`` or ~/.cache/kemu/build."""
    return cache_root() / "build"


def build_module(sources, name: str | None = None, kdir: str | None = None,
                 cflags: str = "", base: str | os.PathLike | None = None) -> pathlib.Path:
    """Build a module from C sources and return the path of its ``.ko``.

    ``sources`` are file paths (relative ones to ``base``) or a dict of file
    name to text; headers (``.h``) are copied along but not compiled. The
    result is cached by the content of every file, the flags and the kernel
    release, so building the same sources again costs nothing.
    """
    files: dict[str, bytes] = {}
    if isinstance(sources, dict):
        files = {n: (t.encode() if isinstance(t, str) else t) for n, t in sources.items()}
    else:
        for src in ([sources] if isinstance(sources, (str, os.PathLike)) else sources):
            path = pathlib.Path(base or ".") / src
            try:
                files[path.name] = path.read_bytes()
            except OSError as exc:
                raise BuildError(f"cannot read {path}: {exc.strerror}") from None
    c_files = sorted(n for n in files if n.endswith(".c"))
    if not c_files:
        raise BuildError("no .c source to build")
    name = name or pathlib.Path(c_files[0]).stem
    kdir_path = headers_dir(kdir)
    key = hashlib.sha256()
    for part in (name, str(kdir_path.resolve()), cflags):
        key.update(part.encode() + b"\0")
    for fname in sorted(files):
        key.update(fname.encode() + b"\0" + files[fname] + b"\0")
    out_dir = cache_dir() / key.hexdigest()[:24]
    ko = out_dir / f"{name}.ko"
    if ko.exists():
        return ko
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_dir.parent))
    try:
        for fname, text in files.items():
            (work / fname).write_bytes(text)
        objs = [pathlib.Path(c).stem + ".o" for c in c_files]
        kbuild = f"obj-m := {name}.o\n"
        if objs != [f"{name}.o"]:
            kbuild += f"{name}-y := {' '.join(objs)}\n"
        if cflags:
            kbuild += f"ccflags-y := {cflags}\n"
        (work / "Kbuild").write_text(kbuild)
        # KBUILD_MODPOST_WARN: a distribution kernel does not export KUnit (CONFIG_KUNIT
        # unset), so a module with KUnit suites has undefined symbols kemu provides
        proc = subprocess.run(["make", "-C", str(kdir_path), f"M={work}", "KBUILD_MODPOST_WARN=1",
                               "modules"],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not (work / f"{name}.ko").exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise BuildError(f"building {name}.ko failed:\n{tail}")
        try:
            os.replace(work, out_dir)
        except OSError:                      # another process built it meanwhile
            shutil.rmtree(work, ignore_errors=True)
        return ko
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
