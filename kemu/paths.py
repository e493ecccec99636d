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


def default_session() -> str:
    """The default session directory: ``$KEMU_SESSION``, else
    ``$XDG_STATE_HOME/kemu/session`` (``~/.local/state/kemu/session``). Only ``os``:
    the thin client asks for it before every command."""
    env = os.environ.get("KEMU_SESSION")
    if env:
        return env
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                             ".local", "state")
    return os.path.join(state, "kemu", "session")
