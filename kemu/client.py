"""The ``kemu`` command: a thin client of the session's server.

A command on a session is sent to that session's server (kemu/server.py),
which keeps the session's kernel alive: the argument vector, the working
directory, the environment and the descriptors 0, 1 and 2 (passed over the
Unix socket, SCM_RIGHTS) go to the server, which runs the command in process
and answers with its exit status. The first command starts the server. This
module imports nothing heavy (no emulator, no kernel models, not even
``socket`` or ``json``: ``_socket`` and ``marshal`` serve, the server being
the same Python).

``KEMU_NO_SERVER=1`` runs every command in this process instead (replaying
the journal, as kemu did before the server).
"""
from __future__ import annotations

import _socket
import errno
import fcntl
import marshal
import os
import struct
import sys
import time

LOCAL = ("modinfo", "survey", "targets", "faultsweep")   # commands without a session
NO_START = ("reset",)                    # forwarded to a running server, never start one
ACCEPTED, RESTART = b"A", b"R"          # the server's first byte: running it, or not me
STATUS = struct.Struct("!i")
PEERCRED = struct.Struct("3i")               # struct ucred: pid, uid, gid
START_TIMEOUT_S = 120                    # a loaded machine imports the models slowly
SUN_PATH_MAX = 107


def socket_path(sdir: str) -> str:
    return os.path.join(sdir, "server.sock")


def stub_dirs(argv: list) -> list:
    """--stubs DIR... and $KEMU_STUBS, as cli.stub_dirs() reads them (paths as given)."""
    dirs = [value for opt, value in _options(argv) if opt == "--stubs"]
    return dirs + [d for d in os.environ.get("KEMU_STUBS", "").split(":") if d]


def _options(argv: list):
    for i, word in enumerate(argv):
        if word == "--":
            return
        for opt in ("--session", "--stubs"):
            if word == opt and i + 1 < len(argv):
                yield opt, argv[i + 1]
            elif word.startswith(opt + "="):
                yield opt, word[len(opt) + 1:]


def session_dir(argv: list) -> str:
    """The session directory the command names, absolute (cli's rules)."""
    given = [value for opt, value in _options(argv) if opt == "--session"]
    if given:
        return os.path.abspath(given[-1])
    from kemu.paths import default_session
    return os.path.abspath(default_session())


class NotOurs(OSError):
    """The socket is served by another user: nothing (environment, terminal) goes there."""


def _connect(path: str):
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    _pid, uid, _gid = PEERCRED.unpack(sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED,
                                                      PEERCRED.size))
    if uid != os.getuid():
        sock.close()
        raise NotOurs(f"{path} is served by uid {uid}, not by you; not using it")
    return sock


def _send_fds(sock, data: bytes, fds: list) -> None:
    """socket.send_fds(): the descriptors ride along as SCM_RIGHTS."""
    rights = struct.pack(f"{len(fds)}i", *fds)
    sent = sock.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
    if sent < len(data):
        sock.sendall(data[sent:])


def server_running(sdir: str) -> bool:
    """Whether a server holds the session's server lock."""
    try:
        fd = os.open(os.path.join(sdir, "server.lock"), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
    finally:
        os.close(fd)


def spawn_server(sdir: str) -> None:
    """Start ``python -m kemu.server SDIR``, detached (its own session, no terminal)."""
    code_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [code_root, env.get("PYTHONPATH")]))
    pid = os.fork()
    if pid == 0:                                    # pragma: no cover (child)
        try:
            os.setsid()
            if os.fork():
                os._exit(0)
            log = os.open(os.path.join(sdir, "server.log"),
                          os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.closerange(3, 65536)
            os.chdir("/")
            os.execve(sys.executable, [sys.executable, "-m", "kemu.server", sdir], env)
        finally:
            os._exit(127)
    os.waitpid(pid, 0)


def _std_fds() -> list:
    """0, 1 and 2, or /dev/null in place of a closed one."""
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            fds.append(os.open(os.devnull, os.O_RDWR))
    return fds


def _recv_exact(sock, n: int) -> bytes:
    data = b""
    while len(data) < n:
        try:
            chunk = sock.recv(n - len(data))
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk
    return data


def request(argv: list) -> dict:
    from kemu import __version__
    stdout = getattr(sys.stdout, "encoding", None) or "utf-8"
    return {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
            "stubs": [os.path.abspath(d) for d in stub_dirs(argv)],
            "code": [os.path.dirname(os.path.abspath(__file__)), __version__],
            "encoding": stdout}


def _error(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def run_served(argv: list, sdir: str, command: str):
    """The command run by the session's server: its exit status, or None to run it here."""
    path = socket_path(sdir)
    if len(path.encode()) > SUN_PATH_MAX:
        return None
    payload = marshal.dumps(request(argv))
    for _attempt in range(5):
        sock = _connect(path)
        if sock is None:
            if command in NO_START:
                return None
            try:
                os.makedirs(sdir, mode=0o700, exist_ok=True)
            except OSError:
                return None            # cli says why, in process
            spawn_server(sdir)
            sock = _wait_for_server(path, sdir)
            if sock is None:
                _error(f"kemu: ERROR: the session's server did not start (see "
                       f"{os.path.join(sdir, 'server.log')})")
                return 1
        try:
            fds = _std_fds()
            try:
                _send_fds(sock, STATUS.pack(len(payload)) + payload, fds)
            except OSError:
                continue                       # it went away (idle exit): start another
            first = _recv_exact(sock, 1)
            if first == RESTART or not first:
                _wait_gone(sdir)
                continue
            status = _recv_exact(sock, STATUS.size)
        finally:
            sock.close()
        if len(status) < STATUS.size:
            _error("kemu: ERROR: the session's server died during this command; it may "
                   "not have completed (the next command rebuilds the kernel from the "
                   "journal)")
            return 1
        return STATUS.unpack(status)[0]
    _error("kemu: ERROR: the session's server keeps going away; try KEMU_NO_SERVER=1")
    return 1


def _wait_for_server(path: str, sdir: str):
    start = time.monotonic()
    delay = 0.005
    while time.monotonic() - start < START_TIMEOUT_S:
        sock = _connect(path)
        if sock is not None:
            return sock
        if time.monotonic() - start > 2 and not server_running(sdir):
            time.sleep(0.2)
            sock = _connect(path)
            if sock is None and not server_running(sdir):
                return None                    # it died starting (server.log says why)
            if sock is not None:
                return sock
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return None


def _wait_gone(sdir: str, limit_s: float = 10) -> None:
    start = time.monotonic()
    while server_running(sdir) and time.monotonic() - start < limit_s:
        time.sleep(0.01)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and not argv[0].startswith("-") else None
    if command is None or command in LOCAL or os.environ.get("KEMU_NO_SERVER") or \
            "-h" in argv or "--help" in argv:
        from kemu.cli import main as cli_main
        return cli_main(argv)
    try:
        status = run_served(argv, session_dir(argv), command)
    except KeyboardInterrupt:
        return 130
    except NotOurs as exc:
        _error(f"kemu: ERROR: {exc}")
        return 1
    if status is None:
        from kemu.cli import main as cli_main
        return cli_main(argv)
    return status


if __name__ == "__main__":
    sys.exit(main())
