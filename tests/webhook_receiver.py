"""A real HTTP endpoint for webhooks, on 127.0.0.1, that checks every signature the way a platform would.

It answers what it is told to, in turn (``answers``: status codes, or ``HANG`` to say nothing for
``hang_seconds``), then 200 for good; every request is kept with whether its signature held.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

HANG = -1


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    url: str
    secret: str = ""  # checked against; set once the endpoint is made
    answers: list[int] = field(default_factory=list)
    hang_seconds: float = 5.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, body: bytes, headers: dict[str, str], secret: str | None = None) -> bool:
        try:
            Webhook(secret or self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    def of_type(self, event_type: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.payload.get("type") == event_type]

    def wait(self, count: int, event_type: str, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of_type(event_type)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} × {event_type} not received in {timeout} s; got {self.received}")


@contextmanager
def webhook_receiver(answers: list[int] | None = None, hang_seconds: float = 5.0) -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                answer = receiver.answers.pop(0) if receiver.answers else 200
                receiver.received.append(Received(headers, body, receiver.verify(body, headers), answer))
            if answer == HANG:
                time.sleep(receiver.hang_seconds)
                answer = 200  # too late: the gateway has given up on this try
            try:
                self.send_response(answer)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the gateway stopped waiting

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks/torii", answers=list(answers or []),
                        hang_seconds=hang_seconds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
