"""Descriptions of target kernels: struct layouts, constants, vermagic, exports.

A target description is a JSON file generated from a kernel headers tree by
``python3 -m kemu.target.gen`` (see :mod:`kemu.target.gen`).  The Debian 6.1
amd64 one is shipped in this package and is the default::

    from kemu.target import load_target

    t = load_target()
    t.release                 # '6.1.0-56-amd64'
    t.vermagic                # '6.1.0-56-amd64 SMP preempt mod_unload ...'
    t.offset("module.init")   # offsetof(struct module, init)
    t.sizeof("module")        # sizeof(struct module)
    t.const("GFP_KERNEL")
    t.get_export("_printk")   # ExportInfo(crc=..., gpl=False, ...)

Offsets are named "struct.member" (nested: "module.core_layout.base"),
sizes by the struct or typedef name ("module", "spinlock_t").  A leading
"struct " is accepted and ignored.

Everything is loaded lazily: the JSON is parsed on first use and the export
index is built on the first export lookup.

Which description serves a module is decided by the module itself: its
``vermagic`` names the release it was built for, and :func:`find_target`
returns the description of that release: the one shipped in this package,
else one cached in ``$KEMU_CACHE/targets`` (``~/.cache/kemu/targets``), else
one generated from that release's headers (``/usr/src/linux-headers-RELEASE``
or ``/lib/modules/RELEASE/build``) and cached. Headers of several releases
side by side are fine: the release picks, never "the newest".
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import sys
import tempfile
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Iterator, Mapping, NamedTuple

import errno as _errno

from kemu.errors import LoadError
from kemu.paths import cache_root
from kemu.target.lines import Line, line_of

__all__ = [
    "DEFAULT_TARGET", "Export", "ExportInfo", "Target", "TargetError", "TargetKeyError",
    "UnknownConstant", "UnknownMember", "UnknownType", "available_targets",
    "cached_targets", "find_target", "generate_target", "headers_for", "load_target",
    "release_of_vermagic",
]

#: Release of the target used when load_target() gets no argument.
DEFAULT_TARGET = "6.1.0-56-amd64"

SUPPORTED_FORMATS = (1,)


class TargetError(LoadError):
    """No usable description of a kernel: none for the release a module wants
    and no headers to make one, a damaged cached one, a failed generation.
    The message is one line that names the file or release and the fix."""
    errno = _errno.ENOEXEC


class TargetKeyError(KeyError):
    """A name that the target description does not contain."""

    def __init__(self, message: str, name: str):
        super().__init__(message)
        self.name = name
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # a survey worker's error crosses to the parent by pickle, which would
        # call __init__ with the message alone
        return (type(self), (self.message, self.name))


class UnknownMember(TargetKeyError):
    """No offset recorded for this "struct.member"."""


class UnknownType(TargetKeyError):
    """No size recorded for this struct / typedef."""


class UnknownConstant(TargetKeyError):
    """No value recorded for this constant."""


class ExportInfo(NamedTuple):
    """What Module.symvers says about one exported symbol."""

    crc: int
    gpl: bool
    exporter: str
    namespace: str


class Export(NamedTuple):
    """One exported symbol, with its name."""

    name: str
    crc: int
    gpl: bool
    exporter: str
    namespace: str


def _strip_struct(name: str) -> str:
    name = name.strip()
    return name[len("struct "):].lstrip() if name.startswith("struct ") \
        else name


class Target:
    """One target kernel, backed by a generated JSON description.

    Construct through :func:`load_target`.  The JSON is read on first use.
    """

    def __init__(self, source, label: str):
        """Wrap a description; ``source`` is a Path or a Traversable."""
        self._source = source
        self._label = label
        self._data: dict | None = None
        self._exports: dict[str, tuple] | None = None
        self._offset_cache: dict[str, int] = {}
        self._line = None

    def __repr__(self) -> str:
        return f"<kemu Target {self._label}>"

    # -- loading -----------------------------------------------------------

    @property
    def data(self) -> dict:
        """The raw parsed JSON (loaded on first access)."""
        if self._data is None:
            raw = self._source.read_text(encoding="utf-8")
            data = json.loads(raw)
            fmt = data.get("format")
            if fmt not in SUPPORTED_FORMATS:
                raise ValueError(f"{self._label}: unsupported target format "
                                 f"{fmt!r} (supported: {SUPPORTED_FORMATS})")
            self._data = data
        return self._data

    # -- facts -------------------------------------------------------------

    @property
    def release(self) -> str:
        """The kernel release (UTS_RELEASE, as ``uname -r`` prints it)."""
        return self.data["release"]

    @property
    def kernel_version(self) -> str | None:
        """The upstream version, e.g. '6.1.192' (None if unknown)."""
        return self.data.get("kernel_version")

    @property
    def line(self) -> Line:
        """The kernel line (:class:`kemu.target.lines.Line`) and its facts."""
        if self._line is None:
            self._line = line_of(self.kernel_version or self.release)
        return self._line

    @property
    def arch(self) -> str:
        """The architecture, e.g. 'x86_64'."""
        return self.data["arch"]

    @property
    def vermagic(self) -> str:
        """The vermagic string exactly as modules carry it in .modinfo."""
        return self.data["vermagic"]

    @property
    def module_layout_crc(self) -> int | None:
        """The CRC of the ``module_layout`` symbol (modversions check)."""
        return self.data.get("module_layout_crc")

    @property
    def config(self) -> Mapping[str, str]:
        """Selected CONFIG_* options of the kernel (read-only mapping)."""
        return MappingProxyType(self.data["config"])

    @property
    def offsets(self) -> Mapping[str, int]:
        """All recorded "struct.member" offsets (read-only mapping)."""
        return MappingProxyType(self.data["offsets"])

    @property
    def sizes(self) -> Mapping[str, int]:
        """All recorded struct / typedef sizes (read-only mapping)."""
        return MappingProxyType(self.data["sizes"])

    @property
    def consts(self) -> Mapping[str, int]:
        """All recorded constants (read-only mapping)."""
        return MappingProxyType(self.data["consts"])

    @property
    def missing(self) -> tuple[str, ...]:
        """Requested names that these headers did not have."""
        return tuple(self.data.get("missing", ()))

    def config_enabled(self, option: str) -> bool:
        """Whether a recorded CONFIG_ option is y (or m)."""
        if not option.startswith("CONFIG_"):
            option = "CONFIG_" + option
        return self.data["config"].get(option) in ("y", "m")

    # -- layouts -----------------------------------------------------------

    def offset(self, name: str) -> int:
        """Byte offset of a member, e.g. ``offset("module.init")``.

        Nested members use dots ("module.core_layout.base"); members of
        anonymous structs/unions are named directly ("kernel_param.arg").
        Raises :class:`UnknownMember` (a KeyError) naming the member.
        """
        try:
            return self._offset_cache[name]
        except KeyError:
            pass
        key = _strip_struct(name)
        try:
            value = self.data["offsets"][key]
            self._offset_cache[name] = value
            return value
        except KeyError:
            pass
        struct, _, member = key.partition(".")
        if not member:
            msg = (f"{name!r} is not a 'struct.member' name (use sizeof() "
                   f"for the size of struct {struct})")
        elif struct not in self.data["sizes"]:
            msg = (f"struct {struct} is not described by target "
                   f"{self.release} (wanted member {member!r})")
        elif key in self.data.get("bitfields", {}):
            bit, bits = self.data["bitfields"][key]
            msg = (f"struct {struct} member {member!r} is a bitfield "
                   f"(bit {bit}, {bits} bits) in target {self.release}")
        elif key in self.missing:
            msg = (f"struct {struct} has no member {member!r} in target "
                   f"{self.release}")
        else:
            msg = (f"offset of struct {struct} member {member!r} was not "
                   f"recorded for target {self.release}")
        raise UnknownMember(msg, key)

    def has_offset(self, name: str) -> bool:
        """Whether an offset is recorded for "struct.member"."""
        return _strip_struct(name) in self.data["offsets"]

    def sizeof(self, name: str) -> int:
        """Size in bytes of a struct or typedef, e.g. ``sizeof("module")``.

        Raises :class:`UnknownType` (a KeyError) naming the type.
        """
        key = _strip_struct(name)
        try:
            return self.data["sizes"][key]
        except KeyError:
            raise UnknownType(f"no size of {name!r} in target "
                              f"{self.release}", key) from None

    def bitfield(self, name: str) -> tuple[int, int]:
        """(bit offset, bit size) of a bitfield member "struct.member"."""
        key = _strip_struct(name)
        try:
            bit, bits = self.data.get("bitfields", {})[key]
        except KeyError:
            raise UnknownMember(f"no bitfield {name!r} in target "
                                f"{self.release}", key) from None
        return bit, bits

    def paravirt_ops(self) -> dict[int, str]:
        """pv_ops slot number -> op name ("irq.save_fl"), as used by the
        type byte of .parainstructions entries (offset / 8)."""
        prefix = "paravirt_patch_template."
        out: dict[int, str] = {}
        groups = {k for k in self.data["offsets"]
                  if k.startswith(prefix) and k.count(".") == 1}
        for key, off in sorted(self.data["offsets"].items()):
            if key.startswith(prefix) and key not in groups:
                out[off // 8] = key[len(prefix):]
        return dict(sorted(out.items()))

    # -- constants ---------------------------------------------------------

    def const(self, name: str) -> int:
        """Value of a constant, e.g. ``const("GFP_KERNEL")``.

        Raises :class:`UnknownConstant` (a KeyError) naming the constant.
        """
        try:
            return self.data["consts"][name]
        except KeyError:
            why = "is not defined by the headers of" if name in self.missing \
                else "was not recorded for"
            raise UnknownConstant(f"constant {name!r} {why} target "
                                  f"{self.release}", name) from None

    # -- exports -----------------------------------------------------------

    def _export_index(self) -> dict[str, tuple]:
        if self._exports is None:
            index: dict[str, tuple] = {}
            for row in self.data["symbols"]:
                # Sorted by (name, exporter); keep vmlinux's if duplicated.
                if row[0] not in index or row[3] == "vmlinux":
                    index[row[0]] = row
            self._exports = index
        return self._exports

    def get_export(self, name: str) -> ExportInfo | None:
        """(crc, gpl, exporter, namespace) of an exported symbol, or None.

        ``exporter`` is "vmlinux" or the exporting module's path (e.g.
        "net/netfilter/x_tables"); ``namespace`` is "" when there is none.
        """
        row = self._export_index().get(name)
        if row is None:
            return None
        return ExportInfo(row[1], bool(row[2]), row[3], row[4])

    def iter_exports(self) -> Iterator[Export]:
        """Iterate over every export, sorted by name."""
        for name, crc, gpl, exporter, ns in self.data["symbols"]:
            yield Export(name, crc, bool(gpl), exporter, ns)

    def num_exports(self) -> int:
        """Number of exported symbols."""
        return len(self.data["symbols"])


def _package_files():
    return resources.files(__name__)


def available_targets() -> list[str]:
    """Releases of the target descriptions shipped in this package."""
    names = [p.name[:-5] for p in _package_files().iterdir()
             if p.name.endswith(".json") and not p.name.startswith(".")]
    return sorted(names, key=release_key)


@functools.lru_cache(maxsize=None)
def _load(kind: str, key: str) -> Target:
    if kind == "path":
        return Target(Path(key), key)
    return Target(_package_files() / f"{key}.json", key)


def load_target(name_or_path: str | os.PathLike | None = None) -> Target:
    """Load a target description.

    * None: the shipped default (:data:`DEFAULT_TARGET`, the Debian 6.1 amd64
      kernel; if that file is absent, the newest shipped "-amd64" one).
    * a release name such as "6.1.0-56-amd64": the shipped description.
    * a path to a JSON file (anything ending in .json or naming an existing
      file).

    Raises FileNotFoundError if there is no such description.  Results are
    cached, so repeated calls return the same Target.
    """
    if name_or_path is None:
        shipped = available_targets()
        if DEFAULT_TARGET in shipped:
            return _load("resource", DEFAULT_TARGET)
        amd64 = [n for n in shipped if n.endswith("-amd64")]
        if not amd64:
            raise FileNotFoundError("no target description is shipped in "
                                    "kemu.target; run python3 -m "
                                    "kemu.target.gen")
        return _load("resource", amd64[-1])
    text = os.fspath(name_or_path)
    if isinstance(name_or_path, os.PathLike) or text.endswith(".json") \
            or os.sep in text or os.path.isfile(text):
        path = Path(text).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no target description at {path}")
        return _load("path", str(path))
    if text not in available_targets():
        raise FileNotFoundError(
            f"no shipped target {text!r} (shipped: "
            f"{', '.join(available_targets()) or 'none'})")
    return _load("resource", text)


# -- finding the description of a release -------------------------------------

def release_of_vermagic(vermagic: str | None) -> str | None:
    """The release a module was built for: the first word of its vermagic."""
    words = (vermagic or "").split()
    return words[0] if words else None


def cache_dir() -> Path:
    """Where generated descriptions are kept: ``$KEMU_CACHE/targets/DIGEST``, the
    digest of the generator that made them (kemu versions that describe kernels
    differently never overwrite each other's descriptions)."""
    return cache_root() / "targets" / generator_digest()


def cached_targets() -> list[str]:
    """Releases with a description in the cache."""
    try:
        names = [p.name[:-5] for p in cache_dir().iterdir()
                 if p.name.endswith(".json") and not p.name.startswith(".")]
    except OSError:
        return []
    return sorted(names, key=release_key)


def release_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def headers_dirs(release: str) -> list[Path]:
    """Where the headers (kernel build directory) of ``release`` may be, as Kbuild
    and DKMS look: ``/usr/src/linux-headers-RELEASE``, ``/lib/modules/RELEASE/build``."""
    return [Path("/usr/src") / f"linux-headers-{release}",
            Path("/lib/modules") / release / "build"]


def headers_for(release: str) -> Path | None:
    """The installed build directory of ``release`` (one with Module.symvers), or None."""
    for path in headers_dirs(release):
        if (path / "Module.symvers").is_file():
            return path
    return None


def installed_headers() -> dict[str, Path]:
    """Release -> build directory of every installed headers tree."""
    from kemu.target.gen import GenError, read_release
    found: dict[str, Path] = {}
    for pattern in ("/usr/src/linux-headers-*", "/lib/modules/*/build"):
        for d in sorted(Path("/").glob(pattern.lstrip("/"))):
            if not (d / "Module.symvers").is_file():
                continue
            try:
                found.setdefault(read_release(d), d)
            except GenError:
                continue
    return dict(sorted(found.items(), key=lambda kv: release_key(kv[0])))


def _checked(target: Target, path: Path, release: str | None) -> Target:
    """Parse a cached description now, so damage is reported with its file."""
    fix = f"remove it ('rm {path}') and kemu makes it again"
    try:
        data = target.data
        if release is not None and data.get("release") != release:
            raise ValueError(f"it describes {data.get('release')!r}, not {release!r}")
        for key in ("vermagic", "offsets", "sizes", "consts", "symbols"):
            if key not in data:
                raise ValueError(f"no {key!r}")
    except (ValueError, OSError, AttributeError, TypeError) as exc:
        _load.cache_clear()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TargetError(f"kernel description {path} is damaged ({reason}); {fix}") from None
    return target


def no_target_message(release: str, wanted_by: str = "") -> str:
    """The one-line error for a release kemu has no description or headers of."""
    shipped = available_targets()
    have = shipped + [r for r in cached_targets() if r not in shipped]
    who = f"{wanted_by} was built for Linux {release}" if wanted_by else \
        f"no description of Linux {release}"
    return (f"{who}; kemu has {', '.join(have) or 'no kernel description'} and finds no "
            f"headers of {release} ({' or '.join(map(str, headers_dirs(release)))}): "
            f"'apt-get install linux-headers-{release}' lets kemu describe it, "
            "or pass --target RELEASE|FILE")


def find_target(release: str, *, generate: bool = True, progress=None,
                wanted_by: str = "") -> Target:
    """The description of ``release``: shipped, cached, or generated from its headers.

    Generation (a Kbuild probe build, a few seconds) happens once per release and
    user; ``progress(text)`` hears about it (default: a line on stderr). Raises
    :class:`TargetError` when there is no way to describe ``release``.
    """
    if release in available_targets():
        return _load("resource", release)
    cached = cache_dir() / f"{release}.json"
    if cached.is_file():
        return _checked(_load("path", str(cached.resolve())), cached, release)
    kdir = headers_for(release)
    if kdir is None or not generate:
        raise TargetError(no_target_message(release, wanted_by))
    generate_target(kdir, cached, release=release, progress=progress)
    return _checked(_load("path", str(cached.resolve())), cached, release)


@functools.lru_cache(maxsize=None)
@functools.lru_cache(maxsize=1)
def generator_digest() -> str:
    """What a generated description depends on besides the headers: the
    generator's tables and probe (a new model's members make a new digest).
    Worked out once per process: the code it describes is the code loaded."""
    import hashlib
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in ("gen.py", "probe.c"):
        h.update((here / name).read_bytes())
    # the members models declare next to themselves (gen.declared_members())
    call = re.compile(r"^members\([^)]*\)", re.M)
    for path in sorted((here.parent / "stubs").rglob("*.py")):
        text = path.read_text()
        if "members(" in text:
            h.update("".join(call.findall(text)).encode())
    return h.hexdigest()[:16]


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def generate_target(kdir: Path, out: Path | None = None, *, release: str | None = None,
                    progress=None) -> Path:
    """Describe the kernel of build directory ``kdir`` into ``out`` (default: the
    cache), atomically and once: concurrent callers wait for the first one."""
    from kemu.target.gen import GenError, dumps, generate, read_release, write_atomic
    kdir = Path(kdir)
    try:
        release = release or read_release(kdir)
    except GenError as exc:
        raise TargetError(f"{kdir}: not a kernel headers directory ({exc})") from None
    out = Path(out) if out is not None else cache_dir() / f"{release}.json"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(out.parent / f".{out.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise TargetError(f"cannot write kernel descriptions to {out.parent}: "
                          f"{exc.strerror}; set KEMU_CACHE to a writable directory "
                          "or pass --target FILE") from None
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        if out.is_file() and out.parent == cache_dir():
            return out                       # another process made it meanwhile
        (progress or _say)(f"kemu: describing Linux {release} from {kdir} "
                           f"(once; kept in {out.parent})")
        try:                                 # the generator's own chatter is not the user's
            with tempfile.TemporaryFile("w+") as noise, contextlib.redirect_stderr(noise), \
                    contextlib.redirect_stdout(noise):
                data = generate(kdir)
        except GenError as exc:
            raise TargetError(f"cannot describe Linux {release} from {kdir}: {exc}; "
                              f"'python3 -m kemu.target.gen --headers {kdir} -v' shows "
                              "the build") from None
        except OSError as exc:
            raise TargetError(f"cannot describe Linux {release} from {kdir}: "
                              f"{exc.strerror or exc}") from None
        try:
            write_atomic(out, dumps(data))
        except OSError as exc:
            raise TargetError(f"cannot write {out}: {exc.strerror}; set KEMU_CACHE to a "
                              "writable directory or pass --target FILE") from None
        return out
    finally:
        os.close(lock_fd)


def resolve_target(spec, *, progress=None) -> Target:
    """A Target from what a user gives: a Target, a description file, or a release
    (found as :func:`find_target` finds it). Raises :class:`TargetError`."""
    if hasattr(spec, "offset"):
        return spec
    text = os.fspath(spec)
    if isinstance(spec, os.PathLike) or text.endswith(".json") or os.sep in text:
        path = Path(text)
        if not path.is_file():
            raise TargetError(f"no kernel description at {path}: 'kemu targets' lists "
                              "what kemu has")
        return _checked(_load("path", str(path.resolve())), path, None)
    return find_target(text, progress=progress)
