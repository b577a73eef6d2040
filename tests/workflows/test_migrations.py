"""The schema is made and changed only by migrations: they agree with the models, and upgrading a database
that has data in it (made by the previous revision, or by ``create_all`` before there were migrations)
keeps every row. On SQLite always, and on PostgreSQL when DATABASE_URL points at one."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, inspect, select, text
from sqlalchemy.engine import Connection

from harness import REPO, private_database, wait_for
from workflows import migrations
from workflows.db import Database
from workflows.models import Order, OrderLine

AT = datetime(2025, 3, 31, 23, 59, 58)  # naive UTC, as the columns store it

# One row for every table, in an order that satisfies the foreign keys. A row is written with the columns
# its table has at the revision being upgraded from, so a column added later is simply left out; a table
# added later needs a row here once a newer revision is upgraded over it (the upgrade test says so).
ROWS: dict[str, dict[str, Any]] = {
    "raw_blobs": {"sha256": "a" * 64, "size": 5, "data": b"From:"},
    "inbound_messages": {
        "id": 101, "received_at": AT, "updated_at": AT, "channel": "smtp", "peer": "192.0.2.7",
        "mail_from": "", "rcpt_tos": ["r+tok@torii.localhost"], "message_id": "<m1@partner.example>",
        "from_addr": "partner@example.jp", "subject": "Re: ご招待", "headers": "From: partner@example.jp",
        "size": 5, "sha256": "a" * 64, "dedup_key": "d" * 64, "status": "review", "kind": "reply",
        "reason": "needs a person", "object_type": "invitation", "object_id": 201,
        "parse": {"intent": "accept", "confidence": 0.9},
    },
    "invitations": {
        "id": 201, "created_at": AT, "updated_at": AT, "issuer_company": "山田商事", "issuer_name": "山田",
        "issuer_email": "yamada@example.jp", "partner_company": "八百新", "partner_name": "佐藤",
        "partner_email": "sato@example.jp", "channel": "fax", "approval_required": True, "comment": "",
        "language": "ja", "state": "sent", "contact_person": None, "reply_token": "t" * 20,
        "fax_number": "+81338412207", "temp_id_lookup": "l" * 64, "temp_password_hash": "$argon2id$x",
        "redeemed_at": None,
    },
    "buyers": {"id": 301, "created_at": AT, "name": "レストラン山田", "email": "order@yamada.example",
               "phone": "03-0000-0000", "fax": "", "language": "ja"},
    "delivery_addresses": {"id": 311, "buyer_id": 301, "name": "本店", "postal_code": "111-0000",
                           "address": "東京都台東区1-2-3", "phone": "", "recipient": "山田"},
    "suppliers": {"id": 321, "buyer_id": 301, "name": "八百新青果", "contact_name": "佐藤", "email": None,
                  "fax_number": "+81338412207", "channel": "fax", "language": "ja"},
    "products": {"id": 331, "supplier_id": 321, "name": "玉ねぎ", "name_key": "玉ねぎ", "unit": "kg",
                 "unit_price": 380, "note": ""},
    "orders": {
        "id": 401, "created_at": AT, "updated_at": AT, "number": "PO-2025-0001", "buyer_id": 301,
        "supplier_id": 321, "state": "confirmed", "reply_token": "o" * 20, "orderer_name": "山田",
        "delivery_address_id": 311, "delivery": {"name": "本店", "address": "東京都台東区1-2-3"},
        "desired_date": date(2025, 4, 2), "note": "午前中", "language": "ja", "reorder_of": None,
        "answer_due_at": AT, "reminded_at": None, "flag": None, "delivery_date": date(2025, 4, 2),
        "shipped_on": None, "delivered_at": None,
    },
    "order_lines": {"id": 411, "order_id": 401, "position": 1, "product_id": 331, "product_name": "玉ねぎ",
                    "quantity": "2.5", "unit": "kg", "unit_price": 380, "note": "", "confirmed_quantity": "2.5",
                    "delivered_quantity": None, "inspected_at": None},
    "buyer_forms": {"id": 421, "created_at": AT, "buyer_id": 301, "supplier_id": 321, "product_ids": [331],
                    "language": "ja"},
    "fax_orders": {
        "id": 431, "created_at": AT, "updated_at": AT, "inbound_id": 101, "state": "accepted",
        "received_at": AT, "sender_fax": "+81300000000", "buyer_id": 301, "supplier_id": 321, "form_id": 421,
        "layout": "form", "page_count": 1, "fingerprint": "f" * 64, "reading": {"rows": [{"qty": "2.5"}]},
        "reason": None, "flag": None, "order_id": 401,
    },
    "product_aliases": {"id": 441, "created_at": AT, "buyer_id": 301, "alias_key": "たまねぎ",
                        "alias": "たまねぎ", "product_id": 331},
    "documents": {"id": 501, "created_at": AT, "object_type": "order", "object_id": 401, "kind": "order_sheet",
                  "filename": "PO-2025-0001.pdf", "content_type": "application/pdf", "data": b"%PDF-1.7"},
    "credential_failures": {"id": 511, "at": AT, "sender": "x@example.jp", "id_lookup": "l" * 64,
                            "invitation_id": 201, "inbound_id": 101},
    "outbound_messages": {
        "id": 601, "created_at": AT, "object_type": "order", "object_id": 401, "kind": "order",
        "channel": "mail", "envelope_from": "bounce@torii.localhost", "to_addr": "sato@example.jp",
        "subject": "ご注文", "reply_to": "r+o@torii.localhost", "message_id": "<o1@torii.localhost>",
        "text": "本文", "raw": b"raw", "status": "sent", "attempts": 1, "claimed_at": AT, "sent_at": AT,
        "last_error": None, "cause_inbound_id": 101,
    },
    "fax_jobs": {
        "id": 611, "created_at": AT, "object_type": "order", "object_id": 401, "kind": "order_sheet",
        "number": "+81338412207", "title": "PO-2025-0001", "pdf": b"%PDF-1.7", "status": "failed",
        "failure": "busy", "attempts": 3, "next_attempt_at": AT, "claimed_at": None,
        "transmission_ref": "ref-1", "last_error": "busy",
    },
    "events": {"id": 701, "at": AT, "object_type": "order", "object_id": 401, "kind": "transition",
               "summary": "sent → confirmed", "actor": "operator:sato", "data": {"from": "sent", "to": "confirmed"},
               "inbound_id": 101, "outbound_id": 601, "fax_job_id": 611},
    "operators": {"id": 801, "created_at": AT, "name": "sato", "password_hash": "$argon2id$y", "role": "operator",
                  "buyer_id": 301, "issuer": None, "language": "ja", "failed_logins": 2, "locked_until": None,
                  "password_changed_at": AT, "disabled": False},
    "operator_sessions": {"token_hash": "s" * 64, "operator_id": 801, "created_at": AT, "last_seen_at": AT,
                          "csrf_token": "c" * 64, "peer": "127.0.0.1"},
    "api_tokens": {"id": 811, "created_at": AT, "name": "erp", "token_hash": "h" * 64, "prefix": "torii_ab",
                   "scope": "write", "buyer_id": 301, "issuer": None, "last_used_at": AT, "revoked_at": None},
    "webhook_endpoints": {"id": 901, "created_at": AT, "url": "https://erp.example/hooks", "description": "ERP",
                          "event_types": ["order.*"], "secret": "whsec_" + "A" * 32, "previous_secret": None,
                          "previous_secret_until": None, "disabled": False},
    "webhook_events": {"id": 911, "created_at": AT, "msg_id": "msg_" + "e" * 32, "type": "order.confirmed",
                       "object_type": "order", "object_id": 401, "body": '{"type":"order.confirmed"}'},
    "webhook_deliveries": {"id": 921, "event_id": 911, "endpoint_id": 901, "status": "retrying", "attempts": 2,
                           "next_attempt_at": AT, "claimed_until": None, "last_status_code": 500,
                           "last_error": "the endpoint answered 500", "delivered_at": None},
    "companies": {"id": 971, "created_at": AT, "code": "C000971", "name": "株式会社みどり青果", "key": "みどり青果",
                  "address": "東京都台東区1-2-3", "phone": "03-1111-2222", "jan_maker_code": "4512345",
                  "registration_id": None},
    "company_accounts": {"id": 972, "created_at": AT, "company_id": 971, "number": 1, "account_id": "C000971-001",
                         "name": "緑 花子", "email": "hanako@midori.example", "role": "admin",
                         "password_hash": None, "password_token_hash": "p" * 64, "password_token_expires_at": AT},
    "registrations": {
        "id": 973, "created_at": AT, "updated_at": AT, "state": "issued", "channel": "mail", "language": "ja",
        "applicant_email": "taro@midori.example", "company_name": "株式会社みどり青果", "company_key": "みどり青果",
        "reply_token": "g" * 20, "link_token_hash": None, "link_expires_at": None, "link_used_at": AT,
        "approval_token_hash": None, "jan_maker_code": "4512345", "company_address": "", "company_phone": "",
        "wholesaler_company": "丸卸", "wholesaler_department": "", "wholesaler_contact": "佐藤",
        "wholesaler_email": "sato@maru.example", "admin_name": "緑 花子", "admin_email": "hanako@midori.example",
        "details": {}, "applied_at": AT, "approval_due_at": None, "reminded_at": None, "reason": None,
        "company_id": 971,
    },
    "businesses": {"id": 951, "created_at": AT, "buyer_id": 301, "name": "渋谷店", "email": "shibuya@yamada.example",
                   "phone": "03-0000-0001", "fax": "", "language": "ja"},
    "account_links": {"id": 961, "created_at": AT, "operator_id": 801, "purpose": "email", "token_hash": "k" * 64,
                      "expires_at": AT, "used_at": None, "replaced_at": None, "new_email": "new@yamada.example",
                      "created_by": "operator:admin"},
    "webhook_attempts": {"id": 931, "delivery_id": 921, "at": AT, "status_code": 500, "error": "answered 500",
                         "duration_ms": 12, "response": "oops"},
}


def _postgresql_url() -> str:
    return os.environ.get("DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database of the test's own: SQLite, and PostgreSQL when DATABASE_URL points at a server."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'torii.sqlite3'}")
        yield database
        database.dispose()
        return
    if not _postgresql_url().startswith(("postgresql", "postgres")):
        pytest.skip("DATABASE_URL does not point at a PostgreSQL server")
    with private_database(tmp_path) as url:
        database = Database(url)
        yield database
        database.dispose()


def _make_at(db: Database, revision: str | None) -> None:
    """The database as ``revision`` made it; None: as ``create_all`` made it before there were migrations,
    which is the baseline without its alembic_version table."""
    with db.migrating() as connection:
        migrations.upgrade(connection, revision or migrations.BASELINE)
        if revision is None:
            connection.execute(text("DROP TABLE alembic_version"))


def _insert_rows(connection: Connection) -> dict[str, dict[str, Any]]:
    """One row per table, of the columns the table has now; returns what was written."""
    tables = MetaData()
    tables.reflect(connection)
    written: dict[str, dict[str, Any]] = {}
    for name, row in ROWS.items():
        if name not in tables.tables:
            continue
        table = tables.tables[name]
        values = {column: value for column, value in row.items() if column in table.c}
        connection.execute(table.insert().values(**values))
        written[name] = values
    return written


def _read_rows(connection: Connection, written: dict[str, dict[str, Any]]
               ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """What should be there and what is: the rows written, but for the columns a later revision dropped."""
    tables = MetaData()
    tables.reflect(connection)
    expected: dict[str, dict[str, Any]] = {}
    found: dict[str, dict[str, Any]] = {}
    for name, values in written.items():
        table = tables.tables[name]
        expected[name] = {column: value for column, value in values.items() if column in table.c}
        rows = connection.execute(select(*(table.c[column] for column in expected[name]))).mappings().all()
        assert len(rows) == 1, f"{name}: {len(rows)} rows after the upgrade"
        found[name] = dict(rows[0])
    return expected, found


def _upgrade_keeps_every_row(db: Database, start: str | None) -> None:
    _make_at(db, start)
    with db.migrating() as connection:
        written = _insert_rows(connection)
        tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
    assert tables - set(written) == set(), "add a row for each of these tables to ROWS"

    db.upgrade_schema()

    with db.engine.connect() as connection:
        assert migrations.current(connection) == migrations.head()
        expected, found = _read_rows(connection, written)
        assert found == expected
    # And the application reads them back through the models, types and all.
    with db.sessions() as session:
        order = session.get(Order, 401)
        assert order is not None and order.number == "PO-2025-0001"
        assert order.answer_due_at == AT.replace(tzinfo=UTC)
        line = session.get(OrderLine, 411)
        assert line is not None and line.quantity == Decimal("2.5")


def test_models_and_migrations_agree(db: Database) -> None:
    """A model changed without a revision fails here: write one with `torii db revision --autogenerate`."""
    db.upgrade_schema()
    with db.engine.connect() as connection:
        assert migrations.differences(connection) == []


def test_upgrade_from_the_previous_revision_keeps_every_row(db: Database) -> None:
    # Before the baseline there was no revision: the previous schema is the one create_all made.
    _upgrade_keeps_every_row(db, migrations.previous(migrations.head()))


def test_a_database_made_before_migrations_is_stamped_and_upgraded(db: Database,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="workflows.migrations"):
        _upgrade_keeps_every_row(db, None)
    assert "no schema revision" in caplog.text


def test_upgrading_twice_changes_nothing(db: Database) -> None:
    db.upgrade_schema()
    with db.migrating() as connection:
        written = _insert_rows(connection)
    db.upgrade_schema()
    with db.migrating() as connection:
        migrations.upgrade(connection)  # the locked path too, not only the quick look
    with db.engine.connect() as connection:
        assert migrations.current(connection) == migrations.head()
        expected, found = _read_rows(connection, written)
        assert found == expected


def test_downgrade_to_base_and_up_again(db: Database) -> None:
    db.upgrade_schema()
    with db.migrating() as connection:
        migrations.downgrade(connection, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.upgrade_schema()
    with db.engine.connect() as connection:
        assert migrations.current(connection) == migrations.head()
        assert migrations.differences(connection) == []


# A process that upgrades the database once every one of them is ready: argv is URL, GO file, READY file.
CHILD = """
import pathlib, sys, time
from workflows.db import Database
database, go = Database(sys.argv[1]), pathlib.Path(sys.argv[2])
pathlib.Path(sys.argv[3]).touch()
while not go.exists():
    time.sleep(0.001)
database.upgrade_schema()
"""


def test_processes_starting_at_once_migrate_once(db: Database, tmp_path: Path) -> None:
    """`torii up`, a `torii worker` elsewhere and a `torii user add` may all start on a new database at once."""
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(4)]
    children = [subprocess.Popen([sys.executable, "-c", CHILD, db.url, str(go), str(r)], cwd=REPO,
                                 stderr=subprocess.PIPE) for r in ready]
    try:
        wait_for(lambda: all(r.exists() for r in ready), 60, 0.01, "the processes to start")
        go.touch()
        errors = [child.communicate(timeout=60)[1].decode() for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [child.returncode for child in children] == [0] * len(children), "\n".join(errors)
    with db.engine.connect() as connection:
        assert migrations.current(connection) == migrations.head()
        assert migrations.differences(connection) == []
