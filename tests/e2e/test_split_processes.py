"""With DATABASE_URL and REDIS_URL set, SMTP, web and workers run as separate processes."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from harness import REPO, GatewayProcess, gateway_env, private_database, wait_for
from samples.compose import compose_reply

pytestmark = pytest.mark.slow


def spawn(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "gateway.cli", command], env=env, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def smtp_ready(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
            return client.noop()[0] == 250
    except OSError:
        return False


def test_smtpd_web_and_worker_run_apart_and_carry_the_flow(tmp_path: Path, redis_url: str) -> None:
    with private_database(tmp_path) as db_url:
        env = gateway_env(tmp_path, db_url, redis_url)
        web = GatewayProcess(tmp_path, env, command="web").start()
        smtpd = spawn("smtpd", env, tmp_path / "smtpd.log")
        worker = spawn("worker", env, tmp_path / "worker.log")
        try:
            wait_for(lambda: smtp_ready(web.smtp_port), 30, 0.1, "torii smtpd to answer")
            inv = web.invite(partner_email="p@partner.example", issuer_email="i@issuer.example")
            web.wait_state(inv["id"], "sent")
            message_id = f"{uuid.uuid4().hex}@partner.example"
            raw = compose_reply(answer="非承認", from_addr="p@partner.example", to_addr=inv["reply_to"],
                                in_reply_to=None, message_id=message_id, style="bare")
            web.send(raw, rcpt=inv["reply_to"], mail_from="p@partner.example")
            web.wait_state(inv["id"], "rejected")
            wait_for(lambda: [o for o in web.outbox(to="i@issuer.example") if o["status"] == "sent"])
        finally:
            for proc in (smtpd, worker):
                proc.send_signal(signal.SIGTERM)
            assert smtpd.wait(30) == 0 and worker.wait(30) == 0
            assert web.stop() == 0


def test_split_commands_refuse_to_start_without_redis_url(tmp_path: Path) -> None:
    env = gateway_env(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", None)
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "worker"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "set REDIS_URL" in done.stderr


def test_a_worker_for_an_unknown_queue_refuses_to_start(tmp_path: Path, redis_url: str) -> None:
    env = gateway_env(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", redis_url)
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "worker", "--queues", "outbound,mail"], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "unknown queue(s) mail" in done.stderr
