"""Fixtures shared by the whole suite: real Redis, a database of this run's own, a running gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.redisproc import RedisServer
from harness import GatewayProcess, gateway_env, private_database


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


@pytest.fixture(scope="session")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_url: str, database_url: str) -> Iterator[GatewayProcess]:
    """One `torii up` for the end-to-end tests; each test makes its own invitations."""
    home: Path = tmp_path_factory.mktemp("torii-home")
    proc = GatewayProcess(home, gateway_env(home, database_url, redis_url)).start()
    yield proc
    code = proc.stop()
    assert code == 0, f"torii up exited with {code}:\n{proc.log_tail()}"
