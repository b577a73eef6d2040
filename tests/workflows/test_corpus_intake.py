"""Every real-world mail in the shared corpus is taken in without a crash and without loss.

Each file goes through the durable intake and the whole processing pipeline (in
process, SQLite). It must end with a final status and, unless it was applied, a
reason; its raw bytes must come back exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gateway import intake
from workflows import inbound
from workflows.config import load_settings
from workflows.db import Database
from workflows.models import InboundMessage, InboundStatus, RawBlob

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'c.sqlite3'}")
    database.upgrade_schema()
    yield database
    database.dispose()


@pytest.mark.skipif(not FILES, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_mail_is_kept_and_ends_with_a_reason(db: Database, path: Path) -> None:
    settings = replace(load_settings(), database_url=db.url, mail_domain="torii.test")
    raw = path.read_bytes()
    stored = intake.store(db, raw, channel="file", mail_from=None, rcpt_tos=[], peer=f"corpus:{path.name}")
    inbound.process(db, settings, stored.id)
    with db.sessions() as session:
        row = session.get(InboundMessage, stored.id)
        assert row is not None
        assert row.status != InboundStatus.RECEIVED
        assert row.status != InboundStatus.PROCESSED  # none of these answers anything of ours
        assert row.reason, f"{path.name} ended {row.status} without a reason"
        assert not row.reason.startswith("internal error"), row.reason
        blob = session.get(RawBlob, row.sha256)
        assert blob is not None and blob.data == raw


def test_corpus_bounces_and_auto_replies_are_ignored_not_reviewed(db: Database) -> None:
    if not FILES:
        pytest.skip("no corpus")
    settings = replace(load_settings(), database_url=db.url, mail_domain="torii.test")
    for name, kind in (("sisimai__rfc3464-01.eml", "bounce"), ("sisimai__rfc3834-06.eml", "auto_reply")):
        raw = (CORPUS / "torture" / name).read_bytes()
        stored = intake.store(db, raw, channel="file", mail_from="", rcpt_tos=[])
        inbound.process(db, settings, stored.id)
        with db.sessions() as session:
            row = session.get(InboundMessage, stored.id)
            assert row is not None
            assert (row.status, row.kind) == (InboundStatus.IGNORED, kind), (name, row.reason)
