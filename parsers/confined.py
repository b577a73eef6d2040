"""run_confined: one function run in a child process that may use only so much time and memory.

PDFium and pdfminer cannot be stopped once they start on a page: a page of drawing
operators keeps either busy for minutes and gigabytes, and a crash in PDFium would take
the whole worker with it. So a PDF is read in a child process: the caller waits at most
``seconds`` and then kills it; the child's address space is capped at what it starts with
plus ``memory_bytes`` (``RLIMIT_AS``), so an allocation past that fails inside the child
(``MemoryError``, or PDFium giving up) instead of taking the machine's memory; and it dies
with the server that forked it (``PR_SET_PDEATHSIG``; a CPU limit as a backstop).

The children are forked by a fork server of our own (``python -m parsers.confined``): a
single-threaded process started once per worker process, the PDF libraries imported, that
forks one child per call. A call costs a fork (milliseconds), not an interpreter start (a
second), and never forks the worker itself with its threads and their locks. (The standard
library's fork server would import the worker's main module, the whole gateway, into every
child.) The server ends when the process that started it does: it reads EOF on its stdin.

    pages = run_confined(render, data, seconds=30, memory_bytes=1 << 30)   # or raises Confinement

What the function returns, and what it raises, is pickled back; ``Confinement`` says the child
ran out of time or memory, or died.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib
import math
import os
import pickle
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Confinement", "run_confined"]

T = TypeVar("T")

# What the readers run in a child need, imported once in the fork server instead of in every child.
PRELOAD = ("PIL.Image", "pypdfium2", "pdfplumber", "parsers.imaging", "parsers.pagetext.text_layer")

_RUN, _STATUS = b"run ", b"stat"
_FRAME = struct.Struct(">Q")
_PID = struct.Struct(">q")
_PR_SET_PDEATHSIG = 1
_START_SECONDS = 60.0
_NEARLY_ALL = 0.75  # of its memory, at its peak: a child that died so had run out


class Confinement(Exception):  # noqa: N818  it is what happened, not a mistake
    """Raised when the confined child ran out of time (``kind`` "time") or memory ("memory"), or died ("died").

    A child that dies after using most of its memory ran out of it: libraries that cannot allocate abort
    (PDFium does) rather than raise ``MemoryError``.
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def run_confined(fn: Callable[..., T], *args: Any, seconds: float, memory_bytes: int) -> T:
    """``fn(*args)`` in a child process; its result, or what it raised, or ``Confinement``."""
    server = _server()
    deadline = time.monotonic() + seconds
    request = pickle.dumps((fn, args, memory_bytes, seconds), protocol=pickle.HIGHEST_PROTOCOL)
    pid = None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        try:
            conn.settimeout(_START_SECONDS)
            conn.connect(server.path)
            conn.sendall(_RUN + _FRAME.pack(len(request)) + request)
            pid = _PID.unpack(_exactly(conn, _PID.size))[0]  # the child says who it is once it has the request
            conn.settimeout(max(deadline - time.monotonic(), 0.001))
            status, value = pickle.loads(_frame(conn))
        except TimeoutError:
            if pid is None:
                raise Confinement("died", "the fork server did not answer") from None
            _kill(pid)
            raise Confinement("time", f"more than {seconds:.0f} s") from None
        except (EOFError, OSError, pickle.UnpicklingError):
            if pid is None:
                raise Confinement("died", "it never started") from None
            how, peak = server.death_of(pid)
            if memory_bytes > 0 and peak >= _NEARLY_ALL * memory_bytes:
                raise Confinement("memory", f"more than {memory_bytes // (1024 * 1024)} MiB ({how})") from None
            raise Confinement("died", how) from None
    if status == "ok":
        return value  # type: ignore[no-any-return]
    if status == "memory":
        raise Confinement("memory", f"more than {memory_bytes // (1024 * 1024)} MiB")
    raise value


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the child closed its end")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _frame(conn: socket.socket) -> bytes:
    size = int(_FRAME.unpack(_exactly(conn, _FRAME.size))[0])
    return _exactly(conn, size)


# -- the caller's side of the fork server ---------------------------------------------------------


class _Server:
    """The fork server this process started, and where it listens."""

    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="torii-confined-")
        self.path = os.path.join(self.directory, "socket")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.process = subprocess.Popen([sys.executable, "-m", "parsers.confined", self.path], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], _START_SECONDS)
        if not ready or self.process.stdout.readline().strip() != b"ready":
            self.close()
            raise RuntimeError("the confined readers' fork server did not start")

    def alive(self) -> bool:
        return self.process.poll() is None

    def death_of(self, pid: int) -> tuple[str, int]:
        """How child ``pid`` ended, as the server saw it, and its peak resident memory in bytes."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(5)
                conn.connect(self.path)
                conn.sendall(_STATUS + _PID.pack(pid))
                how, _, peak = _frame(conn).decode().rpartition(" ")
                return how, int(peak)
        except (OSError, EOFError, ValueError):
            return "it died", 0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()  # the server reads EOF and ends
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        if self.process.poll() is None:
            self.process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


_LOCK = threading.Lock()
_RUNNING: dict[int, _Server] = {}  # by pid: a forked copy of this process starts its own


def _server() -> _Server:
    with _LOCK:
        server = _RUNNING.get(os.getpid())
        if server is None or not server.alive():
            if server is not None:
                server.close()
            server = _RUNNING[os.getpid()] = _Server()
            atexit.register(server.close)
        return server


# -- the fork server and its children -------------------------------------------------------------


def serve(path: str) -> None:
    """Listen on ``path``; fork a child for each call; end at EOF on stdin (the caller is gone)."""
    for name in PRELOAD:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)
    deaths: dict[int, str] = {}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [], 0.5)
        _reap(deaths)
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1024):
            return
        if listener in ready:
            conn, _ = listener.accept()
            try:
                conn.settimeout(5)
                kind = _exactly(conn, 4)
                if kind == _STATUS:
                    pid = _PID.unpack(_exactly(conn, _PID.size))[0]
                    text = _await_death(pid, deaths).encode()
                    conn.sendall(_FRAME.pack(len(text)) + text)
                elif kind == _RUN and os.fork() == 0:
                    listener.close()
                    _child(conn)  # never returns
            except (OSError, EOFError):
                pass
            finally:
                conn.close()


def _reap(deaths: dict[int, str]) -> None:
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        deaths[pid] = f"{_describe(status)} {usage.ru_maxrss * 1024}"  # ru_maxrss is in KiB on Linux
        if len(deaths) > 1000:
            del deaths[next(iter(deaths))]


def _await_death(pid: int, deaths: dict[int, str]) -> str:
    for _ in range(20):
        _reap(deaths)
        if pid in deaths:
            return deaths.pop(pid)
        time.sleep(0.05)
    return "it stopped answering 0"


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return "its CPU time ran out (SIGXCPU)" if number == signal.SIGXCPU else f"killed by {name}"
    return f"exited with {os.WEXITSTATUS(status)}"


def _child(conn: socket.socket) -> None:
    code = 0
    try:
        conn.settimeout(None)
        fn, args, memory_bytes, seconds = pickle.loads(_frame(conn))
        _confine(memory_bytes, seconds)
        conn.sendall(_PID.pack(os.getpid()))
        try:
            reply = pickle.dumps(("ok", fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            reply = pickle.dumps(("memory", None))
        except BaseException as exc:  # everything goes back to the caller, which decides what it means
            try:
                reply = pickle.dumps(("error", exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # an exception that does not pickle: its text does
                reply = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        conn.sendall(_FRAME.pack(len(reply)) + reply)
    except MemoryError:
        code = 3
    except BaseException:
        code = 2
    finally:
        os._exit(code)


def _confine(memory_bytes: int, seconds: float) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the CPU limit still ends it
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    cpu = math.ceil(seconds) + 2  # the caller kills it sooner; this is for when nobody is left to
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if memory_bytes > 0:
        limit = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _address_space() -> int:
    """The process's address space now, in bytes (what it holds before it starts reading)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the gateway, which then closes our stdin
    serve(sys.argv[1])
