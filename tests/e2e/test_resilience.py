"""What happens when parts die: workers killed mid-task, Redis restarted empty, the gateway stopped.

Each test runs a gateway of its own, because it kills parts of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis

from gateway.redisproc import RedisServer
from harness import REPO, GatewayProcess, gateway_env, private_database, wait_for
from samples.compose import compose_reply

pytestmark = pytest.mark.slow


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"], env=env, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def invite_and_answer(gw: GatewayProcess, n: int) -> list[tuple[dict[str, Any], str, str]]:
    """Create n invitations and send a reply to each at once (no worker needs to have run)."""
    made = []
    for i in range(n):
        inv = gw.invite()
        answer, state = [("承認します", "approved"), ("非承認", "rejected"), ("保留", "held")][i % 3]
        message_id = f"{uuid.uuid4().hex}@partner.example"
        raw = compose_reply(answer=answer, from_addr=inv["partner"]["email"], to_addr=inv["reply_to"],
                            in_reply_to=None, message_id=message_id, style="bare")
        gw.send(raw, rcpt=inv["reply_to"], mail_from=inv["partner"]["email"])
        made.append((inv, state, message_id))
    return made


def assert_each_done_exactly_once(gw: GatewayProcess, made: list[tuple[dict[str, Any], str, str]]) -> None:
    for inv, state, message_id in made:
        got = gw.wait_state(inv["id"], state, timeout=60)
        answers = [e for e in got["timeline"] if e["kind"] == "transition" and e["data"]["trigger"] != "delivered"]
        assert len(answers) == 1, got["timeline"]
        assert gw.message(message_id)["status"] == "processed"  # type: ignore[index]
    outbox = wait_for(lambda: (o := gw.outbox()) and all(m["status"] == "sent" for m in o) and o, 60)
    kinds = Counter((m["object"]["id"], m["kind"]) for m in outbox)
    for inv, state, _ in made:
        assert kinds[(inv["id"], "invitation")] == 1
        assert kinds[(inv["id"], "rejection_notice")] == (1 if state == "rejected" else 0)
    spooled = {p.stem for p in (gw.home / "spool" / "mail").glob("*.eml")}
    assert spooled == {m["message_id"] for m in outbox}


def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(tmp_path: Path, redis_url: str) -> None:
    with private_database(tmp_path) as db_url:
        env = gateway_env(tmp_path, db_url, redis_url, TORII_WORKER_PROCESSES="0", TORII_WORKER_THREADS="8")
        gw = GatewayProcess(tmp_path, env).start()
        try:
            made = invite_and_answer(gw, 240)

            def processed() -> int:
                return sum(1 for m in gw.api("GET", "/api/messages") if m["status"] != "received")

            first = start_worker(env, tmp_path / "worker1.log")
            # Kill it as soon as it is busy: some tasks are then half done, and some prefetched.
            wait_for(lambda: processed() >= 3, 60, 0.01, "the first worker to start processing")
            first.send_signal(signal.SIGKILL)
            first.wait()
            assert processed() < len(made), "the worker was to be killed in the middle of the work"
            second = start_worker(env, tmp_path / "worker2.log")
            try:
                assert_each_done_exactly_once(gw, made)
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(30) == 0
        finally:
            assert gw.stop() == 0, gw.log_tail()


def test_tasks_lost_with_redis_are_found_again_by_the_sweep(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    url = server.start()
    with private_database(tmp_path) as db_url:
        env = gateway_env(tmp_path, db_url, url, TORII_WORKER_PROCESSES="0")
        gw = GatewayProcess(tmp_path, env).start()
        try:
            made = invite_and_answer(gw, 6)
            queued = redis.Redis.from_url(url).keys(f"{env['TORII_REDIS_NAMESPACE']}:*")
            assert queued, "the tasks should be waiting in Redis"
            # Redis dies and comes back empty: its append-only file is gone with it.
            server.stop()
            for f in (tmp_path / "redis").glob("appendonly*"):
                if f.is_dir():
                    for g in f.iterdir():
                        g.unlink()
                    f.rmdir()
                else:
                    f.unlink()
            url = server.start()
            assert not redis.Redis.from_url(url).keys(f"{env['TORII_REDIS_NAMESPACE']}:*")
            worker = start_worker(env, tmp_path / "worker.log")
            try:
                assert_each_done_exactly_once(gw, made)
            finally:
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(30) == 0
        finally:
            assert gw.stop() == 0, gw.log_tail()
            server.stop()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_up_starts_its_own_redis_and_stops_everything_it_started(tmp_path: Path, sig: int) -> None:
    with private_database(tmp_path) as db_url:
        env = gateway_env(tmp_path, db_url, None)
        gw = GatewayProcess(tmp_path, env).start()
        socket_path = tmp_path / "redis" / "redis.sock"
        assert redis.Redis(unix_socket_path=str(socket_path)).ping()
        children = subprocess.run(["pgrep", "-P", str(gw.process.pid)], capture_output=True, text=True)  # type: ignore[union-attr]
        child_pids = [int(p) for p in children.stdout.split()]
        assert len(child_pids) >= 2, "a redis-server and a worker process"
        assert gw.stop(sig) == 0, gw.log_tail()
        for pid in child_pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert "Torii stopped." in gw.log_tail()
        assert (tmp_path / "redis" / "appendonlydir").is_dir() or list((tmp_path / "redis").glob("appendonly*"))
