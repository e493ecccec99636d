"""Where kemu keeps what it makes: ``$KEMU_CACHE``, else ``$XDG_CACHE_HOME/kemu``
(``~/.cache/kemu``). Target descriptions, built test modules and module-tree
indexes live below it, each kind in its own directory."""
from __future__ import annotations

import os
import pathlib


def cache_root() -> pathlib.Path:
    """The cache directory of this user (not created here)."""
    base = os.environ.get("KEMU_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kemu")
    return pathlib.Path(base)
