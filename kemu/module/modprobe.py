"""A tree of modules as depmod and modprobe see it.

The index is kept in ``$KEMU_CACHE`` (``~/.cache/kemu``), keyed by every
module's path, size and modification time, as depmod's output would be.

:class:`ModuleTree` indexes the ``.ko`` files (compressed too: ``.ko.xz``...) under a directory the way
``depmod`` does: each module's name (``-`` read as ``_``), its hard
dependencies (``modules.dep`` when the tree has one, else ``.modinfo
depends=``), its aliases (``alias=``, shell patterns as in ``modules.alias``)
and its soft dependencies (``softdep=pre: a b post: c``).
:meth:`ModuleTree.modprobe_order` is what ``modprobe NAME`` would insert, in
order: for each module matching the name or an alias, its ``pre:`` soft
dependencies, its hard dependencies depth-first, itself, then its ``post:``
soft dependencies.

The kernel's ``request_module()`` runs modprobe; a :class:`~kemu.kernel.facade.Kernel`
given a tree (``Kernel(modules=DIR)``, ``kemu --modules DIR``) does the same.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field

from kemu.module import elf as E
from kemu.errors import KemuError
from kemu.module.kmodfile import is_module_file, read_module_file, strip_suffix
from kemu.paths import cache_root


_PREFIX = 4                     # literal alias characters an index bucket is keyed by


def _cache_dir() -> str:
    return str(cache_root())


def modname(filename: str) -> str:
    """The module name of a file name: ``nls_euc-jp.ko`` (or ``.ko.xz``, ...) -> ``nls_euc_jp``."""
    return strip_suffix(os.path.basename(filename)).replace("-", "_")


def read_modinfo(path: str) -> list[tuple[str, str]]:
    """Every ``key=value`` of a module's ``.modinfo``, in order."""
    data = read_module_file(path)
    body, _ = E.module_sig_check(data, lambda *a: None)
    image = E.elf_validity_check(body, lambda *a: None)
    idx = image.find_sec(".modinfo")
    return list(E.parse_modinfo(image.section_data(idx))) if idx else []


def parse_softdep(text: str) -> tuple[list[str], list[str]]:
    """``"pre: a b post: c"`` -> (["a", "b"], ["c"]) as modprobe.d's softdep reads it."""
    pre, post, into = [], [], None
    for word in text.split():
        if word == "pre:":
            into = pre
        elif word == "post:":
            into = post
        elif into is not None:
            into.append(word)
    return pre, post


@dataclass
class ModuleEntry:
    """One module of the tree."""
    name: str
    path: str
    depends: list = field(default_factory=list)
    aliases: list = field(default_factory=list)
    pre: list = field(default_factory=list)
    post: list = field(default_factory=list)


class ModuleTree:
    """The modules under ``root``, indexed lazily on first use."""

    def __init__(self, root: str, fallback: "ModuleTree | None" = None):
        self.root = os.path.abspath(root)
        self.fallback = fallback          # where modules this tree lacks are looked up
        self._entries: dict[str, ModuleEntry] | None = None
        self._aliases = None

    # ------------------------------------------------------------- indexing
    @property
    def entries(self) -> dict[str, ModuleEntry]:
        """Module name -> :class:`ModuleEntry` (built on first use)."""
        if self._entries is None:
            self._entries = self._index()
        return self._entries

    def _index(self) -> dict[str, ModuleEntry]:
        entries: dict[str, ModuleEntry] = {}
        stamp = hashlib.sha256(self.root.encode())
        for dirpath, dirs, files in os.walk(self.root):
            dirs.sort()
            for fname in sorted(files):
                if is_module_file(fname) or fname == "modules.dep":
                    path = os.path.join(dirpath, fname)
                    st = os.stat(path)
                    stamp.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
                if is_module_file(fname):
                    entries.setdefault(modname(fname), ModuleEntry(modname(fname), path))
        cache = os.path.join(_cache_dir(), f"modindex-{stamp.hexdigest()[:24]}.json")
        try:
            with open(cache) as fh:
                return {e["name"]: ModuleEntry(**e) for e in json.load(fh)}
        except (OSError, ValueError, TypeError, KeyError):
            pass
        self._index_modinfo(entries)
        try:                                    # atomically: a reader never sees half
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            tmp = f"{cache}.{os.getpid()}.tmp"
            with open(tmp, "w") as fh:
                json.dump([asdict(e) for e in entries.values()], fh)
            os.replace(tmp, cache)
        except OSError:
            pass
        return entries

    def _index_modinfo(self, entries: dict) -> None:
        depfile = self._modules_dep()
        hard = self._read_modules_dep(depfile, entries) if depfile else None
        for entry in entries.values():
            try:
                info = read_modinfo(entry.path)
            except (KemuError, OSError):
                info = []
            for key, value in info:
                if key == "alias":
                    entry.aliases.append(value)
                elif key == "softdep":
                    pre, post = parse_softdep(value)
                    entry.pre += pre
                    entry.post += post
                elif key == "depends" and hard is None:
                    entry.depends = [d.replace("-", "_") for d in value.split(",") if d]

    def _modules_dep(self) -> str | None:
        probe = self.root
        while True:
            candidate = os.path.join(probe, "modules.dep")
            if os.path.exists(candidate):
                return candidate
            parent = os.path.dirname(probe)
            if parent == probe or os.path.basename(probe) == "modules":
                return None
            probe = parent

    @staticmethod
    def _read_modules_dep(depfile: str, entries: dict) -> dict:
        base = os.path.dirname(depfile)
        hard = {}
        with open(depfile) as fh:
            for line in fh:
                mod, _, rest = line.partition(":")
                name = modname(mod.strip())
                hard[name] = [modname(d) for d in rest.split()]
                full = os.path.join(base, mod.strip())
                if name not in entries and os.path.exists(full):
                    entries[name] = ModuleEntry(name, full)
                if name in entries:
                    entries[name].depends = hard[name]
        return hard

    # ------------------------------------------------------------- queries
    def entry(self, name: str) -> ModuleEntry | None:
        """Module ``name`` of this tree, else of the fallback tree, or None."""
        found = self.entries.get(modname(name + ".ko"))
        if found is None and self.fallback is not None:
            return self.fallback.entry(name)
        return found

    def path(self, name: str) -> str | None:
        """The file of module ``name``, or None."""
        entry = self.entry(name)
        return entry.path if entry else None

    def lookup(self, name: str) -> list[str]:
        """Module names ``modprobe NAME`` means: the module itself, else every
        module with a matching alias (patterns as in modules.alias), in tree order;
        the fallback tree answers what this one cannot."""
        mod = modname(name + ".ko")
        if mod in self.entries:
            return [mod]
        exact, buckets, general = self._alias_index()
        hits = set(exact.get(name, ()))
        for pattern, owner in buckets.get(name[:_PREFIX], []) + general:
            if owner not in hits and fnmatch.fnmatchcase(name, pattern):
                hits.add(owner)
        if not hits and self.fallback is not None:
            return self.fallback.lookup(name)
        return [n for n in self.entries if n in hits]

    def build_index(self) -> None:
        """Index the modules and their aliases now (before forking survey workers)."""
        self._alias_index()

    def _alias_index(self):
        """Aliases without wildcards by value; the others bucketed by their first
        literal characters (drivers carry tens of thousands)."""
        if self._aliases is None:
            exact: dict[str, list[str]] = {}
            buckets: dict[str, list] = {}
            general: list = []
            for entry in self.entries.values():
                for pattern in entry.aliases:
                    if not any(c in pattern for c in "*?["):
                        exact.setdefault(pattern, []).append(entry.name)
                        continue
                    head = pattern[:_PREFIX]
                    if any(c in head for c in "*?[") or len(head) < _PREFIX:
                        general.append((pattern, entry.name))
                    else:
                        buckets.setdefault(head, []).append((pattern, entry.name))
            self._aliases = (exact, buckets, general)
        return self._aliases

    def depends(self, name: str) -> list[str]:
        """Hard dependencies of ``name``, depth-first, each once, ``name`` last."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(n):
            if n in seen:
                return
            seen.add(n)
            entry = self.entry(n)
            for d in entry.depends if entry else ():
                visit(d)
            order.append(n)
        visit(name)
        return order

    def modprobe_order(self, name: str, softdeps: bool = True) -> list[str]:
        """What ``modprobe NAME`` inserts, in order (empty if nothing matches)."""
        order: list[str] = []
        seen: set[str] = set()

        def add(n, depth=0):
            if n in seen or depth > 8:
                return
            seen.add(n)
            entry = self.entry(n)
            if entry and softdeps:
                for soft in entry.pre:
                    for m in self.lookup(soft):
                        add(m, depth + 1)
            for dep in self.depends(n)[:-1]:
                add(dep, depth + 1)
            order.append(n)
            if entry and softdeps:
                for soft in entry.post:
                    for m in self.lookup(soft):
                        add(m, depth + 1)
        for match in self.lookup(name):
            add(match)
        return order


_TREES: dict[tuple, ModuleTree] = {}


def shared_tree(root: str, fallback: str | None = None) -> ModuleTree:
    """One ModuleTree per directory (and fallback) per process."""
    key = (os.path.abspath(root), os.path.abspath(fallback) if fallback else None)
    if key not in _TREES:
        if fallback and os.path.abspath(fallback) != key[0]:
            _TREES[key] = ModuleTree(key[0], shared_tree(fallback))
        else:
            _TREES[key] = ModuleTree(key[0])
    return _TREES[key]


TREE_MARKERS = ("modules.dep", "modules.order", "modules.builtin")


def find_tree(path: str) -> str | None:
    """The module tree ``path`` is part of: the nearest directory above it with
    depmod's files (modules.order/.dep/.builtin), or None."""
    probe = os.path.abspath(path)
    while True:
        if any(os.path.exists(os.path.join(probe, f)) for f in TREE_MARKERS):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent


def default_trees(release: str) -> list[str]:
    """Where modules of kernel ``release`` may be found when no tree is given:
    ``$KEMU_MODULES``, ``/lib/modules/RELEASE``, and the copy of Debian's package
    that tests/fetch-debian-modules.sh keeps in kemu's cache."""
    candidates = [os.environ.get("KEMU_MODULES", ""), f"/lib/modules/{release}",
                  os.path.join(_cache_dir(), "debian", release, "lib", "modules", release)]
    def has_modules(d):
        return os.path.isdir(os.path.join(d, "kernel")) or \
            os.path.exists(os.path.join(d, "modules.dep")) or \
            any(is_module_file(f) for f in os.listdir(d))
    return [c for c in candidates if c and os.path.isdir(c) and has_modules(c)]
