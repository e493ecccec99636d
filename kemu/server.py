"""A session's server: the session's kernel, alive between commands.

``python -m kemu.server SESSION_DIR`` (started by the first command,
kemu/client.py) holds ``server.lock`` (flock: exactly one server per session),
listens on ``server.sock`` (a Unix socket, mode 0600, in the session
directory; no network port) and accepts only its own user's connections
(SO_PEERCRED). Each connection is one command: the client's argument vector,
working directory and environment, and its descriptors 0-2 (SCM_RIGHTS),
which become this process's 0-2 while the command runs. The command is the
ordinary command line (kemu.cli.main) run in process against the live
:class:`~kemu.session.Session`, so every subcommand works through the server
unchanged. One command at a time: commands on a session are serialised.

The server exits after ``$KEMU_IDLE`` seconds without a command (default
600), when its session directory goes away, on ``kemu reset``, after a
command when kemu's or the models' sources changed on disk, and when a command
comes from other kemu code or with another stub set (the client then starts a
new server, which rebuilds the kernel from the journal). The journal, not the server, is the durable record: a
killed server loses at most the command it was running.
"""
from __future__ import annotations

import fcntl
import io
import marshal
import os
import pathlib
import socket
import sys
import time

from kemu.client import ACCEPTED, PEERCRED, RESTART, STATUS

DEFAULT_IDLE_S = 600
POLL_S = 2.0                      # how often an idle server looks at its directory
LOCK_WAIT_S = 5.0                 # a server that is ending still holds the lock briefly


def code_stamp() -> int:
    """The newest modification of kemu's sources, the models' (kemu/stubs) with them:
    a server whose code changed on disk ends after its command, and the next
    command starts a new one."""
    import kemu
    newest = 0
    todo = [os.path.dirname(kemu.__file__)]
    while todo:
        with os.scandir(todo.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        todo.append(entry.path)
                elif entry.name.endswith(".py"):
                    newest = max(newest, entry.stat().st_mtime_ns)
    return newest


def idle_seconds() -> float:
    try:
        return max(0.1, float(os.environ.get("KEMU_IDLE", DEFAULT_IDLE_S)))
    except ValueError:
        return DEFAULT_IDLE_S


class Host:
    """What the server keeps between commands: the live session of its directory."""

    def __init__(self, sdir: str, stubs: list, code: list):
        self.dir = pathlib.Path(sdir)
        self.stubs, self.code = stubs, code
        self.live = None
        self.stopping = False

    def session(self, args):
        """The session ``args`` names: the live one when it is this server's."""
        from kemu.cli import stub_dirs
        from kemu.session import Session, default_dir
        path = pathlib.Path(args.session) if args.session else default_dir()
        if path.resolve() != self.dir.resolve():
            return Session(path, target=getattr(args, "target", None), stubs=stub_dirs(args))
        if self.live is None:
            self.live = Session(path, target=getattr(args, "target", None),
                                stubs=stub_dirs(args))
        elif self.live.target is None:
            self.live.target = getattr(args, "target", None)
        return self.live

    def stop(self) -> None:
        self.stopping = True
        self.live = None

    # -------------------------------------------------------- one command
    def run(self, msg: dict, fds: list) -> int:
        from kemu import cli
        live = self.live
        k = live.live_kernel if live is not None else None
        listeners = list(k.log.listeners) if k is not None else None
        if live is not None:
            live.begin_command()
        env = dict(os.environ)
        saved = [os.dup(fd) for fd in (0, 1, 2)]
        streams = (sys.stdin, sys.stdout, sys.stderr)
        try:
            for i, fd in enumerate(fds):
                os.dup2(fd, i)
            os.environ.clear()
            os.environ.update(msg["env"])
            enc = msg.get("encoding") or "utf-8"
            sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                         encoding=enc)
            tty = os.isatty(1)
            sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                          encoding=enc, line_buffering=tty)
            sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                          encoding=enc, errors="backslashreplace",
                                          line_buffering=True)
            try:
                os.chdir(msg["cwd"])
            except OSError as exc:
                sys.stderr.write(f"kemu: cannot use the working directory {msg['cwd']}: "
                                 f"{exc.strerror}\n")
                return 1
            try:
                status = cli.main(msg["argv"], host=self)
            except SystemExit as exc:                  # argparse: usage errors, --version
                status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None
                                                                      else 2)
            except Exception as exc:                   # the client's terminal went away...
                if self.live is not None:
                    self.live.forget_kernel()          # ...mid-command: rebuild, to be sure
                os.write(saved[2], f"command {msg['argv']!r} ended by {type(exc).__name__}: "
                                   f"{exc}\n".encode())
                return 70
            self._note_replay()
            return status
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass                               # the client is gone: nothing to tell
            sys.stdin, sys.stdout, sys.stderr = streams
            for i, fd in enumerate(saved):
                os.dup2(fd, i)
                os.close(fd)
            os.environ.clear()
            os.environ.update(env)
            os.chdir("/")
            self._tidy(k, listeners)

    def _note_replay(self) -> None:
        """A kernel rebuilt from the journal says so, in one line."""
        live = self.live
        replay = live.replayed if live is not None else None
        if replay is None:
            return
        live.replayed = None
        by = f" (written by {replay.written_by})" if replay.written_by else ""
        sys.stderr.write(f"kemu: note: the session's kernel was not running; rebuilt it "
                         f"by replaying {replay.ops} journalled operation{'s' * (replay.ops != 1)}{by} in "
                         f"{replay.seconds:.2f} s, each with its recorded result\n")

    def _tidy(self, old_kernel, listeners) -> None:
        """What a command hung on the live kernel for itself goes with it."""
        live = self.live
        k = live.live_kernel if live is not None else None
        if k is None:
            return
        k.log.listeners[:] = listeners if k is old_kernel and listeners is not None else []
        if k.trace is not None:
            k.tracer.stop()


def _serve(sdir: str) -> int:
    lock = os.open(os.path.join(sdir, "server.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            if time.monotonic() > deadline:
                return 0                               # another server serves the session
            time.sleep(0.02)
    # the heavy part, before anyone can connect: the emulator and the kernel models
    from kemu import cli  # noqa: F401
    from kemu.kernel.facade import import_stub_package
    import_stub_package()
    stamp = code_stamp()
    path = os.path.join(sdir, "server.sock")
    try:
        os.unlink(path)                                # a dead server's
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    ino = os.stat(path).st_ino
    sock.listen(64)
    print(f"kemu server {os.getpid()} serving {sdir}", flush=True)
    host = None
    idle = idle_seconds()
    last = time.monotonic()
    try:
        while not (host and host.stopping):
            sock.settimeout(min(POLL_S, idle))
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                try:
                    gone = os.stat(path).st_ino != ino
                except OSError:
                    gone = True
                if gone or time.monotonic() - last >= idle:
                    break
                continue
            last = time.monotonic()
            host = _handle(conn, host, sdir)
            last = time.monotonic()
            if code_stamp() != stamp:                 # after the answer: off the client's path
                break
    finally:
        try:
            if os.stat(path).st_ino == ino:
                os.unlink(path)
        except OSError:
            pass
        sock.close()
    return 0


def _handle(conn, host, sdir):
    """One connection, one command; returns the host (made on the first command)."""
    with conn:
        conn.settimeout(30)
        pid, uid, gid = PEERCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                        PEERCRED.size))
        if uid != os.getuid():
            print(f"refused a connection from uid {uid} (pid {pid})", flush=True)
            return host
        try:
            data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
            if len(data) < STATUS.size:
                raise ValueError("short request")
            size = STATUS.unpack(data[:STATUS.size])[0]
            data = data[STATUS.size:]
            while len(data) < size:
                chunk = conn.recv(size - len(data))
                if not chunk:
                    raise ValueError("truncated request")
                data += chunk
            msg = marshal.loads(data)
            if not isinstance(msg, dict):
                raise ValueError("not a request")
        except (OSError, ValueError, EOFError, TypeError) as exc:
            print(f"bad request: {exc}", flush=True)
            return host
        try:
            if len(fds) != 3:
                return host
            if host is None:
                host = Host(sdir, msg.get("stubs"), msg.get("code"))
            elif msg.get("stubs") != host.stubs or msg.get("code") != host.code:
                conn.sendall(RESTART)             # another stub set, or other kemu code
                host.stopping = True
                return host
            conn.sendall(ACCEPTED)
            conn.settimeout(None)
            status = host.run(msg, fds)
            try:
                conn.sendall(STATUS.pack(status & 0xFF if status >= 0 else 1))
            except OSError:
                pass                              # the client was killed: nothing to tell
        finally:
            for fd in fds:
                os.close(fd)
    return host


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.stderr.write("usage: python -m kemu.server SESSION_DIR\n")
        return 2
    return _serve(os.path.abspath(argv[0]))


if __name__ == "__main__":
    sys.exit(main())
