"""A persistent kernel across kemu commands: a live kernel, and a journal.

Linux keeps one kernel running between the shell's commands; a kemu session
does the same in its server (kemu/server.py), whose :class:`Session` keeps
its kernel alive. The durable record is the journal (``journal.jsonl``): a
header line (format, kemu's version, the user stub set, the target and, after
a compaction, the state that must survive: clock, taints, log) and one line
per operation that reached the kernel, with its outcome. Each operation is
appended and fsync'ed before its answer is printed; a torn last line (a crash
mid-append) was never acknowledged and is dropped.

When no live kernel matches the journal (no server, the server was killed,
kemu was upgraded), the kernel is rebuilt by replaying the journal into a
fresh kernel (the emulator is deterministic: virtual clock, fixed canary, no
randomness) and every replayed outcome is checked against the recorded one: a
divergence is an error naming the operation. When nothing is loaded and
nothing is open, the journal is compacted to its header.

After every operation the machine idles as Linux does after a syscall returns
to the shell: runnable tasks, softirqs and pending work run until nothing is
runnable (``Kernel.idle``); timers and delayed work wait for ``kemu tick``.

Left out: the state a compaction keeps is the clock, the taints, the log and
the one-time signature warning; other once-per-boot state of the models
(pid numbers, heap layout) restarts, as after a reboot that kept dmesg.
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
import time
from dataclasses import dataclass

from kemu.errors import EmulationError, KemuError, Lockup, UsageError
from kemu.module.modprobe import shared_tree
from kemu.paths import default_session

FORMAT = 2
JOURNAL = "journal.jsonl"
OLD_JOURNAL = "journal.json"            # format 1: one JSON document, rewritten per command
_OP_FIELDS = {           # each journalled operation and the fields it must have (and types)
    "load": {"path": str, "file": str}, "unload": {"name": str},
    "cat": {"path": str}, "open": {"path": str}, "close": {"fd": int},
    "lseek": {"fd": int, "offset": int, "whence": int}, "poll": {"fd": int},
    "mmap": {"fd": int, "length": int},
    "read": {"fd": int}, "write": {"data": str}, "ioctl": {"fd": int, "cmd": int},
    "packet": {"packet": dict}, "tick": {"ms": (int, float)}, "syscall": {"calls": list},
    "attach": {"image": str}, "detach": {"device": str},
    "mount": {"source": str, "point": str, "fstype": str}, "umount": {"point": str},
    "mkdir": {"path": str}, "rm": {"path": str}, "sync": {},
}
REPLAY_LOCKUP_MS = 100        # an operation that locked up is replayed with this limit
SESSION_FILES = ("modules", "lock", JOURNAL, OLD_JOURNAL, "server.lock", "server.sock",
                 "server.log")


class SessionError(KemuError):
    """The session directory cannot be used."""


class ReplayDivergence(SessionError):
    """A replayed operation did not give the outcome the journal recorded."""


class BadFd(KemuError):
    """An operation on a file descriptor the session does not have open."""
    errno = errno.EBADF


class SessionFiles:
    """The descriptors ``kemu open`` gave out, per kernel."""

    def __init__(self, k):
        self.fds: dict = {}

    def get(self, fd: int):
        f = self.fds.get(fd)
        if f is None:
            raise BadFd(f"{fd}: Bad file descriptor")
        return f


def _process(k, op, comm: str):
    """The process an operation runs as: ``comm``, as the uid the command gave."""
    return k.as_process(comm, op.get("uid", 0))


def _op_open(k, op):
    with _process(k, op, "sh"):
        f = k.open(op["path"], op.get("flags"))
    files = k.model(SessionFiles).fds
    fd = max(files, default=2) + 1
    files[fd] = f
    return fd


def _op_close(k, op):
    files = k.model(SessionFiles)
    f = files.get(op["fd"])
    del files.fds[op["fd"]]
    with _process(k, op, "sh"):
        return f.close()


def _on_mount(k, path) -> bool:
    return isinstance(path, str) and any(path == p or path.startswith(p.rstrip("/") + "/")
                                         for _src, p, _t, _o in k.mounts())


# What a replay does not do again: the image files already hold what these wrote
# (or lost it, if it was never written back: as a crash loses it).
IMAGE_WRITES = ("mkdir", "rm")


def _op_write(k, op):
    data = op["data"].encode("utf-8", "surrogateescape")
    if _on_mount(k, op["target"]):
        op["on_image"] = True                # journalled: replay leaves the image alone
    with _process(k, op, "sh"):
        if isinstance(op["target"], int):
            return k.model(SessionFiles).get(op["target"]).write(data)
        return k.write_file(op["target"], data)


def _op_cat(k, op):
    with _process(k, op, "cat"):
        return k.read_file(op["path"])


def _on_fd(what):
    def run(k, op):
        f = k.model(SessionFiles).get(op["fd"])
        with _process(k, op, "sh"):
            return what(f, op)
    return run


def _op_mount(k, op):
    with _process(k, op, "mount"):
        m = k.mount(op["source"], op["point"], op["fstype"], op.get("options", ""))
    return m.source


def _op_umount(k, op):
    with _process(k, op, "umount"):
        k.umount(op["point"])


def _as(k, op, comm: str, fn):
    with _process(k, op, comm):
        return fn()


def _op_attach(k, op):
    with _process(k, op, "losetup"):
        return k.attach(op["image"], op.get("read_only", False)).devpath


# What each journalled operation on files, packets and time does.
FILE_OPS = {
    "cat": _op_cat,
    "open": _op_open,
    "close": _op_close,
    "read": _on_fd(lambda f, op: f.read(op.get("size", 4096))),
    "write": _op_write,
    "ioctl": _on_fd(lambda f, op: f.ioctl(op["cmd"], op.get("arg", 0))),
    "lseek": _on_fd(lambda f, op: f.llseek(op["offset"], op["whence"])),
    "poll": _on_fd(lambda f, op: f.poll()),
    "mmap": _on_fd(lambda f, op: f.k.mmap_read(f, op["length"], op.get("offset", 0))),
    "packet": lambda k, op: k.packet(**op["packet"]),
    "syscall": lambda k, op: [r.to_json() for r in k.syscalls(op["calls"], op.get("uid", 0))],
    "tick": lambda k, op: k.advance(op["ms"]),
    "attach": _op_attach,
    "detach": lambda k, op: k.detach(op["device"]),
    "mount": _op_mount,
    "umount": _op_umount,
    "mkdir": lambda k, op: _as(k, op, "mkdir", lambda: k.mkdir(op["path"])),
    "rm": lambda k, op: _as(k, op, "rm", lambda: k.unlink(op["path"], op.get("dir", False))),
    "sync": lambda k, op: _as(k, op, "sync", k.sync),
}


def default_dir() -> pathlib.Path:
    """``$KEMU_SESSION``, else ``$XDG_STATE_HOME/kemu/session`` (``~/.local/state``)."""
    return pathlib.Path(default_session())


def _fsync_dir(path: pathlib.Path) -> None:
    dfd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


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
    _fsync_dir(path.parent)


def stub_set(dirs) -> list:
    """The user stub files a command runs with: each directory's ``*.py`` by content."""
    out = []
    for directory in dirs:
        root = pathlib.Path(directory)
        files = {}
        for path in sorted(root.glob("*.py")) if root.is_dir() else ():
            with contextlib.suppress(OSError):
                files[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        out.append({"dir": str(root.resolve()), "files": files})
    return out


def outcome_of(result):
    """What a replay of an operation is checked against: the part of its result
    that does not depend on memory layout (numbers, sizes, verdicts)."""
    if result is None or isinstance(result, (bool, int, str)):
        return result
    if isinstance(result, (bytes, bytearray)):
        return {"bytes": len(result)}
    if hasattr(result, "init_ret"):
        return {"init_ret": result.init_ret}
    if hasattr(result, "final"):
        return {"verdict": str(result.final)}
    return None


def describe(op: dict) -> str:
    """An operation as the user typed it, for messages."""
    what = op["op"]
    if what == "load":
        return f"load {os.path.basename(op['path'])}" + (f" {op['args']}" if op.get("args") else "")
    detail = {"unload": "name", "cat": "path", "open": "path", "close": "fd", "read": "fd",
              "write": "target", "ioctl": "fd", "tick": "ms", "lseek": "fd", "poll": "fd",
              "mmap": "fd"}.get(what)
    return f"{what} {op[detail]}" if detail and detail in op else what


@dataclass
class Replay:
    """What rebuilding a kernel from the journal did (for the one note line)."""
    ops: int
    seconds: float
    written_by: str          # "" when the journal's kemu version and stub set are this one's


@dataclass
class Mark:
    """Where the kernel's log, notes and findings stood when a command began."""
    log: int
    notes: int
    findings: int


class Session:
    """One session directory: ``journal.jsonl``, ``modules/<sha256>.ko``, ``lock``.

    One object can serve many commands (the server keeps it): its kernel stays
    alive as long as the journal on disk is the one it wrote."""

    def __init__(self, path=None, target=None, stubs=()):
        self.dir = pathlib.Path(path) if path else default_dir()
        self.journal_path = self.dir / JOURNAL
        self.modules_dir = self.dir / "modules"
        self.target = target
        self.stubs = stub_set(stubs)
        self.header: dict = {}
        self.ops: list[dict] = []
        self._lock_fd = None
        self._kernel = None
        self._sig = None              # the journal file's identity when self.ops was read
        self.replayed: Replay | None = None
        self.mark: Mark | None = None

    # ------------------------------------------------------------ storage
    def __enter__(self):
        try:
            self.modules_dir.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SessionError(f"cannot use session directory {self.dir}: {exc.strerror}") from None
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            if self._sig is None or self._signature() != self._sig:
                self._kernel = None          # someone else wrote the journal: replay it
                self._read_journal()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _signature(self):
        try:
            st = os.stat(self.journal_path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _damaged(self, why) -> SessionError:
        return SessionError(f"session journal {self.journal_path} is damaged ({why}); "
                            "'kemu reset' starts a new session")

    @staticmethod
    def _check_op(op) -> None:
        if not isinstance(op, dict) or op.get("op") not in _OP_FIELDS or \
                not all(isinstance(op.get(key), kind)
                        for key, kind in _OP_FIELDS[op["op"]].items()):
            raise ValueError(f"bad operation {op!r:.60}")

    def _read_journal(self) -> None:
        self.header, self.ops = {}, []
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            self._read_old_journal()
            self._sig = self._signature()
            return
        lines = raw.split(b"\n")
        torn = lines.pop()                  # after the last newline: a torn append, or b""
        try:
            if not lines:
                raise ValueError("no header")
            header = json.loads(lines[0])
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ValueError("unknown format")
            ops = [json.loads(line) for line in lines[1:]]
            for op in ops:
                self._check_op(op)
        except (ValueError, AttributeError, TypeError) as exc:
            raise self._damaged(exc) from None
        if torn:                            # never acknowledged: drop it for good
            with open(self.journal_path, "r+b") as fh:
                fh.truncate(len(raw) - len(torn))
                os.fsync(fh.fileno())
        self.header, self.ops = header, ops
        if self.target is None or not self.ops and not header.get("state"):
            self.target = header.get("target", self.target)
        self._sig = self._signature()

    def _read_old_journal(self) -> None:
        """A format-1 journal (kemu before the server): taken over as format 2."""
        try:
            raw = (self.dir / OLD_JOURNAL).read_bytes()
        except FileNotFoundError:
            return
        try:
            doc = json.loads(raw)
            if doc.get("format") != 1 or not isinstance(doc.get("ops"), list):
                raise ValueError("unknown format")
            for op in doc["ops"]:
                self._check_op(op)
        except (ValueError, AttributeError, TypeError) as exc:
            raise self._damaged(exc) from None
        self.target = self.target or doc.get("target")
        self.header = {"format": FORMAT, "kemu": "", "stubs": None, "target": self.target}
        self.ops = doc["ops"]
        self._rewrite()
        os.unlink(self.dir / OLD_JOURNAL)

    def _new_header(self, state=None) -> dict:
        from kemu import __version__
        header = {"format": FORMAT, "kemu": __version__, "stubs": self.stubs,
                  "target": self.target}
        if state:
            header["state"] = state
        return header

    def _rewrite(self) -> None:
        """The whole journal, atomically (a new session, a compaction)."""
        text = "".join(json.dumps(doc) + "\n" for doc in [self.header, *self.ops])
        _atomic_write(self.journal_path, text.encode())
        self._sig = self._signature()

    def _append(self, op: dict) -> None:
        """One operation, appended and fsync'ed (a torn line is dropped on reading)."""
        if not self.header:
            self.header = self._new_header()
            self.ops.append(op)
            self._rewrite()
            return
        self.ops.append(op)
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, (json.dumps(op) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        self._sig = self._signature()

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
        """The session's kernel: the live one, else one rebuilt from the journal."""
        if self._kernel is None:
            self._kernel = self._replay()
        k = self._kernel
        if self.mark is None:
            self.mark = Mark(len(k.log.records), len(k.notes), len(k.findings))
        return k

    @property
    def live_kernel(self):
        """The kernel if one is alive (built or replayed), else None."""
        return self._kernel

    def forget_kernel(self) -> None:
        """Drop the live kernel: the next command rebuilds it from the journal."""
        self._kernel = None

    def new_findings(self) -> list:
        """The findings of the current command (since :meth:`kernel` first returned)."""
        if self._kernel is None or self.mark is None:
            return []
        return self._kernel.findings[self.mark.findings:]

    def begin_command(self) -> None:
        """A new command starts: its notes and findings are counted from here."""
        self.mark = None
        self.replayed = None

    def _replay(self):
        from kemu.kernel.facade import Kernel
        t0 = time.monotonic()
        k = Kernel(target=self.target)
        state = self.header.get("state")
        if state:
            self._restore(k, state)
        for index, op in enumerate(self.ops):
            self._apply(k, op, replay=True)
            self._check_replay(index, op)
        if self.ops or state:
            written = ""
            if self.header.get("kemu") != self._new_header()["kemu"] or \
                    self.header.get("stubs") != self.stubs:
                stubs = self.header.get("stubs")
                written = f"kemu {self.header.get('kemu') or '(unrecorded)'}" + \
                    (f" with stubs from {', '.join(s['dir'] for s in stubs)}" if stubs else "")
            self.replayed = Replay(len(self.ops), time.monotonic() - t0, written)
        return k

    def _check_replay(self, index: int, op: dict) -> None:
        got = (self._last_result, self._last_outcome)
        want = (op.get("result"), op.get("outcome", self._last_outcome))
        if got != want:
            raise ReplayDivergence(
                f"replaying the session diverged at operation {index + 1} "
                f"({describe(op)}): it gave {self._show(*got)} where the journal recorded "
                f"{self._show(*want)}; 'kemu reset' starts a new session")

    @staticmethod
    def _show(result, outcome) -> str:
        text = {0: "success", "lockup": "a soft lockup", "fault": "a fault"}.get(
            result, f"error {result}")
        return text if outcome is None or result != 0 else f"{text} ({outcome})"

    @staticmethod
    def _restore(k, state: dict) -> None:
        """A compacted journal's state: the clock, the taints, the log."""
        from kemu.kernel.log import Record
        k.advance(ns=state.get("clock_ns", k.clock_ns) - k.clock_ns)
        k.taints.update(state.get("taints", ""))
        k.sig_warned = state.get("sig_warned", k.sig_warned)
        k.last_unloaded = state.get("last_unloaded", k.last_unloaded)
        k.log.restore([Record(seq, ts_ns, level, text, True, facility, "kernel")
                       for seq, ts_ns, level, text, facility in state.get("log", [])])

    @staticmethod
    def _state(k) -> dict:
        k.log.flush()
        return {"clock_ns": k.clock_ns, "taints": "".join(sorted(k.taints)),
                "sig_warned": k.sig_warned, "last_unloaded": k.last_unloaded,
                "log": [[r.seq, r.ts_ns, r.level, r.text, r.facility] for r in k.log.records]}

    def _apply(self, k, op: dict, replay: bool = False):
        """Perform one operation; the machine idles afterwards (also when it failed)."""
        timeout = op.get("timeout_ms", 20_000)
        if replay and op.get("result") == "lockup":
            timeout = REPLAY_LOCKUP_MS
        from kemu.kernel.facade import overriding
        tree = k.kmod.tree
        if "modules" in op:                  # the tree request_module() used, recorded
            tree = shared_tree(op["modules"]) if op["modules"] else None
        self._last_result, self._last_outcome = None, None
        try:
            with overriding(k, timeout_ms=timeout, max_insns=op.get("max_insns", 0)), \
                    overriding(k.kmod, tree=tree):
                return self._perform(k, op, replay)
        finally:
            self._idle(k, op)

    def _perform(self, k, op: dict, replay: bool):
        if replay and (op["op"] in IMAGE_WRITES or op.get("on_image")):
            self._last_result, self._last_outcome = op.get("result"), op.get("outcome")
            return None
        try:
            if op["op"] == "load":
                data = self.module_data(op["file"])
                if op.get("fail_nth"):           # kemu run --fail-nth N, replayed alike
                    from kemu.kernel.faultinject import FaultInjection
                    k.model(FaultInjection).arm(op["path"], op["fail_nth"], "init")
                try:
                    result = k.load(op["path"], op.get("args", ""), data=data,
                                    force=op.get("force", False),
                                    allow_missing=op.get("allow_missing", False))
                finally:
                    if k.fault_injection is not None:
                        k.fault_injection.disarm()
            elif op["op"] == "unload":
                result = k.unload(op["name"], force=op.get("force", False))
            else:
                handler = FILE_OPS.get(op["op"])
                if handler is None:
                    raise SessionError(f"unknown journal operation {op['op']!r}")
                result = handler(k, op)
            self._last_result, self._last_outcome = 0, outcome_of(result)
            return result
        except SessionError:
            raise                    # the session itself is unusable, also on replay
        except Lockup:
            self._last_result = "lockup"
            if not replay:
                raise
        except EmulationError:
            self._last_result = "fault"
            if not replay:
                raise
        except KemuError as exc:
            self._last_result = exc.errno or errno.EINVAL
            if not replay:
                raise

    @staticmethod
    def _idle(k, op) -> None:
        """The shell's next command comes after the CPU went idle."""
        from kemu.kernel.idle import do_idle
        from kemu.kernel.facade import overriding
        with overriding(k, timeout_ms=op.get("timeout_ms", 20_000)):
            try:
                do_idle(k)
            except KemuError:
                pass                 # reported in the log (an oops, a lockup) by the kernel

    def run(self, k, op: dict):
        """Perform a new operation on ``k`` and journal it (also when it fails)."""
        if op["op"] == "load":
            op["file"] = self.store_module(op.pop("data"))
        # replays must see the same module tree whatever --modules says then
        op["modules"] = k.kmod.tree.root if k.kmod.tree is not None else None
        try:
            return self._apply(k, op)
        finally:
            if self.target is None and k.version.fixed:
                self.target = k.target.release       # the first module fixed the kernel
            if self._last_result is None:    # not the kernel's answer: a kemu bug
                self._kernel = None          # the next command rebuilds from the journal
            else:
                op["result"] = self._last_result
                if self._last_outcome is not None:
                    op["outcome"] = self._last_outcome
                self._append(op)
                self._maybe_compact(k)

    def _maybe_compact(self, k) -> None:
        """Nothing loaded, nothing open: the history is not needed any more."""
        if k.modules or k.model(SessionFiles).fds or not self.ops:
            return
        self.header = self._new_header(self._state(k))
        self.ops = []
        self._rewrite()

    def reset(self) -> None:
        """Forget the session: remove its directory."""
        if self.dir.exists():
            if not (self.dir / JOURNAL).exists() and not (self.dir / OLD_JOURNAL).exists() \
                    and any(p.name not in SESSION_FILES for p in self.dir.iterdir()):
                raise UsageError(f"{self.dir} does not look like a kemu session; not removing it")
            shutil.rmtree(self.dir)
        self._kernel, self._sig, self.header, self.ops = None, None, {}, []
