"""Every real-world mail in the shared corpus, sent over SMTP to a running gateway: none crashes anything,
none is lost, each ends with a status and a reason, and its bytes come back as they were sent.

``tests/workflows/test_corpus_intake.py`` feeds the same files to the pipeline in process; this is the
way they really come: smtplib, aiosmtpd, the durable intake, Redis, a worker process.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import GatewayProcess, gateway_env, private_database, wait_for

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []
STORED_AS = re.compile(r"stored as (\d+)")
FINAL = {"refused", "review", "ignored", "unmatched", "failed"}


def on_the_wire(raw: bytes) -> bytes:
    """``raw`` as a client puts it on the wire: every line ending CRLF (smtplib sends bytes as given)."""
    data = re.sub(rb"\r\n|\n|\r(?!\n)", b"\r\n", raw)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


@pytest.fixture(scope="module")
def corpus_gateway(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[GatewayProcess]:
    home = tmp_path_factory.mktemp("corpus-gw")
    with private_database(home) as db_url:
        gw = GatewayProcess(home, gateway_env(home, db_url, redis_url, TORII_WORKER_THREADS="2")).start()
        try:
            yield gw
        finally:
            assert gw.stop() == 0, gw.log_tail()


def deliver(client: smtplib.SMTP, sender: str, rcpt: str, raw: bytes) -> tuple[int, str]:
    """One transaction; the server's reply to DATA (or to the command that refused it)."""
    client.ehlo_or_helo_if_needed()
    code, reply = client.mail(sender, ["SMTPUTF8", "BODY=8BITMIME"])
    if code == 250:
        code, reply = client.rcpt(rcpt)
    if code == 250:
        code, reply = client.data(raw)
    else:
        client.rset()
    return code, reply.decode(errors="replace")


@pytest.mark.skipif(not FILES, reason=f"the shared corpus is not at {CORPUS}")
def test_every_corpus_mail_sent_over_smtp_is_stored_processed_and_kept(corpus_gateway: GatewayProcess) -> None:
    gw = corpus_gateway
    stored: dict[str, int] = {}
    with smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=60) as client:
        for n, path in enumerate(FILES):
            # Each from a sender of its own: unknown reply tokens are counted per sender.
            code, reply = deliver(client, f"corpus-{n}@corpus.example", f"inbox@{gw.domain}",
                                  on_the_wire(path.read_bytes()))
            assert code == 250, f"{path.parent.name}/{path.name}: {code} {reply}"
            found = STORED_AS.search(reply)
            assert found, reply
            stored[f"{path.parent.name}/{path.name}"] = int(found.group(1))

    def outcomes() -> dict[str, dict[str, Any]] | None:
        rows = {name: gw.api("GET", f"/api/messages/{inbound_id}") for name, inbound_id in stored.items()}
        return rows if all(row["status"] != "received" for row in rows.values()) else None

    rows = wait_for(outcomes, 300, 1.0, "every corpus mail to be processed")
    for name, row in rows.items():
        assert row["status"] in FINAL, f"{name}: {row['status']}"
        assert row["reason"], f"{name} ended {row['status']} without a reason"
        assert not row["reason"].startswith("internal error"), f"{name}: {row['reason']}"
    for path in FILES:
        inbound_id = stored[f"{path.parent.name}/{path.name}"]
        assert gw.http.get(f"/api/messages/{inbound_id}/raw").content == on_the_wire(path.read_bytes()), path.name
    assert gw.process is not None and gw.process.poll() is None, "the gateway must still be up"
    assert "Traceback" not in (gw.home / "up.log").read_text(errors="replace")
