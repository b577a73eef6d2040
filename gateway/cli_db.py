"""``torii db ...``: the schema's migrations, from the shell (``workflows.migrations``).

    torii db upgrade [REVISION]                     bring the database to head (or REVISION); ``torii up`` does it too
    torii db current                                the database's revision, and the newest there is
    torii db revision -m MESSAGE [--autogenerate]   write the next revision into workflows/migrations/versions

They work on DATABASE_URL, or the SQLite file under TORII_HOME, except ``revision``: it compares the models with
a scratch SQLite database brought to head, so what it writes never depends on the state of anyone's database.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from workflows import migrations
from workflows.config import load_settings
from workflows.db import Database


def cmd_db(args: argparse.Namespace) -> None:
    if args.action == "revision":
        with tempfile.TemporaryDirectory() as scratch:
            db = Database(f"sqlite:///{Path(scratch) / 'scratch.sqlite3'}")
            try:
                db.upgrade_schema()
                with db.migrating() as connection:
                    path = migrations.new_revision(connection, args.message, autogenerate=args.autogenerate)
            finally:
                db.dispose()
        print(f"{path}: read it, tidy it, and run `torii db upgrade` (and the migration tests) before committing")
        return
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)  # where the SQLite file goes
    db = Database(settings.database_url)
    try:
        if args.action == "upgrade":
            with db.migrating() as connection:
                migrations.upgrade(connection, args.revision)
        with db.engine.connect() as connection:
            print(f"database at {migrations.current(connection) or 'no revision (empty)'}; "
                  f"head is {migrations.head()}")
    finally:
        db.dispose()


def add_db_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="schema migrations: upgrade, current, revision")
    db.set_defaults(run=cmd_db)
    actions = db.add_subparsers(dest="action", required=True)
    upgrade = actions.add_parser("upgrade", help="bring the database to the newest schema (or to REVISION)")
    upgrade.add_argument("revision", nargs="?", default="head")
    actions.add_parser("current", help="the database's schema revision, and head")
    revision = actions.add_parser("revision", help="write the next revision file (a developer's command)")
    revision.add_argument("-m", "--message", required=True, help="what it changes; also names the revision")
    revision.add_argument("--autogenerate", action="store_true",
                          help="fill it with what the models have and the migrations lack")
