"""Fixtures shared by the whole suite: a frozen business clock, real Redis, a database of this run's own,
a running gateway."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.redisproc import RedisServer
from harness import DkimKey, GatewayProcess, gateway_env, make_dkim_key, private_database
from webapp import WebApp, web_app
from workflows import clock
from workflows.db import Database


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[clock.FrozenClock]:
    """Business time stands still in every test, at the moment it starts; a test moves it to test a timer.

    The moment is the machine's (under libfaketime, the faked one): the suite reads every date against
    the day it runs on, and a test about a particular day (a year end, a leap day) sets the clock to it.
    """
    with clock.freeze() as frozen:
        yield frozen


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for the run (real Redis; nothing shared is touched)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A database of the test's own (SQLite, or a private one on the PostgreSQL of DATABASE_URL), migrated."""
    with private_database(tmp_path) as url:
        database = Database(url)
        database.upgrade_schema()
        yield database
        database.dispose()


@pytest.fixture
def web(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebApp]:
    """The web app in-process (API and console) on a database of the test's own."""
    monkeypatch.setenv("TORII_HOME", str(tmp_path / "home"))
    with web_app(tmp_path, redis_url) as app:
        yield app


@pytest.fixture(scope="session")
def partner_dkim(tmp_path_factory: pytest.TempPathFactory) -> DkimKey:
    """The DKIM key of partner.example, published to the session gateway."""
    return make_dkim_key(tmp_path_factory.mktemp("dkim"))


@pytest.fixture(scope="session")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_url: str, database_url: str,
       partner_dkim: DkimKey) -> Iterator[GatewayProcess]:
    """One `torii up` for the end-to-end tests; each test makes its own invitations."""
    home: Path = tmp_path_factory.mktemp("torii-home")
    records = json.dumps({partner_dkim.record_name: partner_dkim.txt_record})
    proc = GatewayProcess(home, gateway_env(home, database_url, redis_url, TORII_DKIM_TXT_RECORDS=records)).start()
    yield proc
    code = proc.stop()
    assert code == 0, f"torii up exited with {code}:\n{proc.log_tail()}"


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    """A local web server that records every request: nothing may ever reach it."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()
