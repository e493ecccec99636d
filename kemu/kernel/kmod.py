"""kernel/kmod.c: request_module(), the kernel running modprobe for a module
it needs (a crypto algorithm, an nls charset, a filesystem...).

modprobe is :mod:`kemu.module.modprobe`'s view of a module tree; a request loads the
module and its dependencies in modprobe's order from inside the requesting hook.
Left out: the usermode helper itself, kmod_concurrent_max, and modprobe's
install/remove commands.
"""
from __future__ import annotations

import os

from kemu.module import modprobe
from kemu.errors import InitError, LoadError
from kemu.module.kmodfile import read_module_file
from kemu.module.loader import parsed_image


class Kmod:
    """Where request_module() finds modules, and the requests themselves.

    ``tree`` is a :class:`~kemu.module.modprobe.ModuleTree` (None: decided on the first
    request); ``enabled`` False is a system without modprobe (every request fails).
    """

    def __init__(self, k, modules=None):
        self.k = k
        self.tree = None
        self.enabled = modules is not False       # Kernel(modules=False): no modprobe at all
        tree = modules if modules not in (None, False) else \
            (os.environ.get("KEMU_MODULES") or None if modules is None else None)
        if tree is not None:
            self.set_tree(tree)

    def set_tree(self, tree) -> None:
        """Where request_module() finds modules: a directory or a ModuleTree."""
        self.tree = tree if isinstance(tree, modprobe.ModuleTree) else modprobe.shared_tree(str(tree))

    def default_tree(self):
        """With no tree given, modprobe's own: the tree the requesting module was
        loaded from (as /lib/modules/RELEASE holds the running kernel's modules), else
        /lib/modules/RELEASE or kemu's copy of Debian's package; None if none exists."""
        k = self.k
        if not self.enabled:
            return None
        mod = k.current_module()
        root = modprobe.find_tree(os.path.dirname(mod.path)) if mod is not None and mod.path \
            else None
        candidates = [root] if root else modprobe.default_trees(k.target.release)
        if not candidates:
            return None
        self.set_tree(candidates[0])
        k.note(f"request_module(): modules come from {candidates[0]}")
        return self.tree

    def request_module(self, name: str):
        """modprobe ``name`` from inside a hook: a generator (``yield from``) that
        loads what ``modprobe -q NAME`` would and returns its exit status
        (0, or 1 if nothing matched or an insertion failed); None without a tree."""
        k = self.k
        tree = self.tree or self.default_tree()
        if tree is None:
            return None
        order = tree.modprobe_order(name)
        if not order:
            return 1
        status = 0
        for modname in order:
            if modname in k.modules:
                continue
            entry = tree.entry(modname)
            if any(d not in k.modules for d in tree.depends(modname)[:-1]):
                status = 1
                continue
            try:
                data = read_module_file(entry.path)
                image = parsed_image(data, k.loader)
                yield from k.loader.load_module_request(entry.path, data, image=image)
            except (LoadError, InitError, OSError) as exc:
                k.note(f"request_module({name}): modprobe: ERROR: could not insert "
                       f"'{modname}': {exc}")
                status = 1
        return status
