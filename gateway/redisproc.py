"""A private redis-server for one-machine use, with its data under TORII_HOME.

Append-only persistence is on, so queued tasks survive a restart of the gateway.
It listens on a Unix socket inside the data directory (no port to collide with,
nothing reachable from the network), or on a free loopback port when the
socket path would be too long for the kernel.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

log = logging.getLogger(__name__)

_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _real_time_env() -> dict[str, str]:
    """This environment without libfaketime: it deadlocks redis-server's jemalloc at start (clock_gettime
    called while the library loads), and the broker keeps no business time, only relative TTLs."""
    env = dict(os.environ)
    preload = [lib for lib in env.pop("LD_PRELOAD", "").split(":") if lib and "faketime" not in lib]
    if preload:
        env["LD_PRELOAD"] = ":".join(preload)
    return env


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 15.0) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (the README's setup command installs it)")
        self.directory.mkdir(parents=True, exist_ok=True)
        sock = self.directory / "redis.sock"
        args = [binary, "--dir", str(self.directory), "--appendonly", "yes", "--save", "",
                "--daemonize", "no", "--logfile", str(self.directory / "redis.log")]
        if len(str(sock)) <= _MAX_SOCKET_PATH:
            if self._alive(f"unix://{sock}"):
                # Left running by a gateway that was killed; its data is ours, so adopt it.
                log.warning("redis: reusing the server already on %s", sock)
                self.url = f"unix://{sock}"
                return self.url
            args += ["--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
            self.url = f"unix://{sock}"
        else:
            port = _free_port()
            args += ["--port", str(port), "--bind", "127.0.0.1"]
            self.url = f"redis://127.0.0.1:{port}/0"
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, env=_real_time_env())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}; see "
                                   f"{self.directory / 'redis.log'}")
            if self._alive(self.url):
                log.info("redis: started private server at %s", self.url)
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer within {timeout:.0f} s")

    @staticmethod
    def _alive(url: str) -> bool:
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis flushes the append-only file and exits
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
