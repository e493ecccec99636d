"""A persistent kernel across kemu commands: a journal of operations, replayed.

The emulator is deterministic (virtual clock, fixed stack canary, no
randomness), so a session is stored as the list of operations that reached
the kernel — loads with their parameters and unloads — plus a copy of every
module file, addressed by content. Each command replays the journal into a
fresh kernel, performs its own operation and, only if that completes, writes
the new journal atomically (temporary file, fsync, rename). A crash or kill
during a command therefore leaves the previous state intact, and the module
files can change or vanish on disk without changing the session.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import tempfile

from .errors import EmulationError, KemuError, Lockup, UsageError

FORMAT = 1
_OP_FIELDS = {           # each journalled operation and the fields it must have (and types)
    "load": {"path": str, "file": str}, "unload": {"name": str},
    "cat": {"path": str}, "open": {"path": str}, "close": {"fd": int},
    "read": {"fd": int}, "write": {"data": str}, "ioctl": {"fd": int, "cmd": int},
    "packet": {"packet": dict}, "tick": {"ms": (int, float)},
}
REPLAY_LOCKUP_MS = 100        # an operation that locked up is replayed with this limit


class SessionError(KemuError):
    """The session directory cannot be used."""


class BadFd(KemuError):
    """An operation on a file descriptor the session does not have open."""
    errno = errno.EBADF


def _files(k) -> dict:
    if not hasattr(k, "session_files"):
        k.session_files = {}
    return k.session_files


def _file(k, fd: int):
    f = _files(k).get(fd)
    if f is None:
        raise BadFd(f"{fd}: Bad file descriptor")
    return f


def _op_open(k, op):
    f = k.open(op["path"], op.get("flags"))
    files = _files(k)
    fd = max(files, default=2) + 1
    files[fd] = f
    return fd


def _op_close(k, op):
    f = _file(k, op["fd"])
    del _files(k)[op["fd"]]
    return f.close()


def _op_write(k, op):
    data = op["data"].encode("utf-8", "surrogateescape")
    if isinstance(op["target"], int):
        return _file(k, op["target"]).write(data)
    return k.proc_write(op["target"], data)


# What each journalled operation on files, packets and time does.
FILE_OPS = {
    "cat": lambda k, op: k.proc_read(op["path"]),
    "open": _op_open,
    "close": _op_close,
    "read": lambda k, op: _file(k, op["fd"]).read(op.get("size", 4096)),
    "write": _op_write,
    "ioctl": lambda k, op: _file(k, op["fd"]).ioctl(op["cmd"], op.get("arg", 0)),
    "packet": lambda k, op: k.packet(**op["packet"]),
    "tick": lambda k, op: k.advance(op["ms"]),
}


def default_dir() -> pathlib.Path:
    """``$KEMU_SESSION``, else ``$XDG_STATE_HOME/kemu/session`` (``~/.local/state``)."""
    env = os.environ.get("KEMU_SESSION")
    if env:
        return pathlib.Path(env)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                             ".local", "state")
    return pathlib.Path(state) / "kemu" / "session"


def _atomic_write(path: pathlib.Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class Session:
    """One session directory: ``journal.json``, ``modules/<sha256>.ko``, ``lock``."""

    def __init__(self, path=None, target=None):
        self.dir = pathlib.Path(path) if path else default_dir()
        self.journal_path = self.dir / "journal.json"
        self.modules_dir = self.dir / "modules"
        self.target = target
        self.ops: list[dict] = []
        self._lock_fd = None

    # ------------------------------------------------------------ storage
    def __enter__(self):
        try:
            self.modules_dir.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SessionError(f"cannot use session directory {self.dir}: {exc.strerror}") from None
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self.ops = self._read_journal()
        return self

    def __exit__(self, *exc):
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _read_journal(self) -> list[dict]:
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            return []
        try:
            doc = json.loads(raw)
            if doc.get("format") != FORMAT or not isinstance(doc.get("ops"), list):
                raise ValueError("unknown format")
            for op in doc["ops"]:
                if not isinstance(op, dict) or op.get("op") not in _OP_FIELDS or \
                        not all(isinstance(op.get(key), kind)
                                for key, kind in _OP_FIELDS[op["op"]].items()):
                    raise ValueError(f"bad operation {op!r:.60}")
            if self.target is None:
                self.target = doc.get("target")
            return doc["ops"]
        except (ValueError, AttributeError) as exc:
            raise SessionError(f"session journal {self.journal_path} is damaged ({exc}); "
                               "'kemu reset' starts a new session") from None

    def commit(self) -> None:
        """Write the journal atomically."""
        doc = {"format": FORMAT, "target": self.target, "ops": self.ops}
        _atomic_write(self.journal_path, json.dumps(doc, indent=1).encode())

    def store_module(self, data: bytes) -> str:
        """Keep a copy of a module file; returns its name inside the session."""
        name = hashlib.sha256(data).hexdigest() + ".ko"
        path = self.modules_dir / name
        if not path.exists():
            _atomic_write(path, data)
        return f"modules/{name}"

    def module_data(self, ref: str) -> bytes:
        """The bytes of a stored module copy."""
        try:
            return (self.dir / ref).read_bytes()
        except OSError:
            raise SessionError(f"session module copy {ref} is missing; 'kemu reset' starts "
                               "a new session") from None

    # ------------------------------------------------------------- replay
    def kernel(self):
        """A kernel with every journalled operation replayed (quietly)."""
        from .kernel import Kernel
        k = Kernel(target=self.target)
        for op in self.ops:
            self._apply(k, op, replay=True)
        return k

    def _apply(self, k, op: dict, replay: bool = False):
        timeout = op.get("timeout_ms", 20_000)
        if replay and op.get("result") == "lockup":
            timeout = REPLAY_LOCKUP_MS
        k.timeout_ms = timeout
        k.max_insns = op.get("max_insns", 0)
        saved_tree = k.module_tree
        if "modules" in op:                  # the tree request_module() used, recorded
            k.module_tree = None
            if op["modules"]:
                k.set_module_tree(op["modules"])
        try:
            if op["op"] == "load":
                data = self.module_data(op["file"])
                return k.load(op["path"], op.get("args", ""), data=data,
                              force=op.get("force", False),
                              allow_missing=op.get("allow_missing", False))
            if op["op"] == "unload":
                return k.unload(op["name"], force=op.get("force", False))
            handler = FILE_OPS.get(op["op"])
            if handler is None:
                raise SessionError(f"unknown journal operation {op['op']!r}")
            return handler(k, op)
        except SessionError:
            raise                    # the session itself is unusable, also on replay
        except KemuError:
            if not replay:
                raise
        finally:
            k.timeout_ms = 20_000
            k.max_insns = 0
            k.module_tree = saved_tree

    def run(self, k, op: dict):
        """Perform a new operation on ``k`` and journal it (also when it fails)."""
        if op["op"] == "load":
            op["file"] = self.store_module(op.pop("data"))
        # replays must see the same module tree whatever --modules says then
        op["modules"] = k.module_tree.root if k.module_tree is not None else None
        try:
            result = self._apply(k, op)
            op["result"] = 0
            return result
        except Lockup:
            op["result"] = "lockup"
            raise
        except EmulationError:
            op["result"] = "fault"
            raise
        except KemuError as exc:
            op["result"] = exc.errno or errno.EINVAL
            raise
        finally:
            if self.target is None and k.target_fixed:
                self.target = k.target.release       # the first module fixed the kernel
            if "result" in op:
                self.ops.append(op)
                self.commit()

    def reset(self) -> None:
        """Forget the session: remove its directory."""
        if self.dir.exists():
            if not (self.dir / "journal.json").exists() and any(
                    p.name not in ("modules", "lock") for p in self.dir.iterdir()):
                raise UsageError(f"{self.dir} does not look like a kemu session; not removing it")
            shutil.rmtree(self.dir)
