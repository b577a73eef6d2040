"""The schema's history: Alembic revisions in ``versions/``, the only thing that creates or changes tables.

Every function here works on a connection already in the transaction that ``Database.migrating`` opens
(which also keeps a second process from migrating at the same time); Alembic joins that transaction and
leaves committing to it. There is no alembic.ini: the script directory ships inside the package and the
configuration is built here.

A revision is named ``NNNN_what_it_does`` (``0001_baseline``, ``0002_...``), in a file of the same name;
``torii db revision --autogenerate -m MESSAGE`` writes the next one (README, "Schema migrations").
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

SCRIPTS = Path(__file__).parent
BASELINE = "0001_baseline"
# A table every Torii database has had since the baseline: its presence without an alembic_version
# table means the database was made by ``create_all``, before there were migrations.
_BASELINE_TABLE = "inbound_messages"
# alembic_version.version_num is VARCHAR(32).
_MAX_REVISION_ID = 32
# Alembic's ``context`` and ``op`` are module-level proxies to the one migration running, so two threads
# migrating at once (even different databases) would run each other's; the database's own lock only
# keeps other processes out.
_one_at_a_time = threading.RLock()


def target_metadata() -> MetaData:
    """Every table the models declare: what autogenerate and the agreement test compare against."""
    from workflows import db  # noqa: F401  importing the store registers every model module's tables
    from workflows.models import Base

    return Base.metadata


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # A TypeDecorator (UtcDateTime, DecimalText) only converts values on their way in and out; its DDL is its
    # impl's. Rendering the impl keeps a revision free of workflows.models, so it runs the same after they change.
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def context_options() -> dict[str, Any]:
    """How Alembic compares and renders, for env.py and for :func:`differences` alike."""
    # Batch operations are how SQLite ALTERs (copy, drop, rename); on PostgreSQL they are plain ALTERs.
    return {"target_metadata": target_metadata(), "render_as_batch": True, "render_item": _render_item,
            "compare_type": True}


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("file_template", "%%(rev)s")
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    # Only for questions about the history (head, previous); the commands read it afresh, which costs a few
    # milliseconds per call against the ~25 ms of a fresh SQLite database's upgrade.
    return ScriptDirectory.from_config(_config())


def head() -> str:
    revision = _scripts().get_current_head()
    assert revision is not None, "workflows/migrations/versions has no revision"
    return revision


def previous(revision: str) -> str | None:
    """The revision ``revision`` was written on top of (None for the baseline)."""
    down = _scripts().get_revision(revision).down_revision
    assert down is None or isinstance(down, str), "Torii's history has no merges"
    return down


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Bring the database to ``revision``; a database made before migrations is first stamped as the baseline."""
    with _one_at_a_time:
        if current(connection) is None and inspect(connection).has_table(_BASELINE_TABLE):
            log.warning("the database has Torii's tables but no schema revision (made before migrations): "
                        "taking it as %s and upgrading from there", BASELINE)
            stamp(connection, BASELINE)
        before = current(connection)
        command.upgrade(_config(connection), revision)
        after = current(connection)
    if after != before:
        log.info("schema upgraded from %s to %s", before or "an empty database", after)


def downgrade(connection: Connection, revision: str) -> None:
    with _one_at_a_time:
        command.downgrade(_config(connection), revision)


def stamp(connection: Connection, revision: str) -> None:
    """Record ``revision`` as the database's schema without running anything."""
    with _one_at_a_time:
        command.stamp(_config(connection), revision)


def differences(connection: Connection) -> list[Any]:
    """What autogenerate would write for this database: empty when it matches the models exactly."""
    return list(compare_metadata(MigrationContext.configure(connection, opts=context_options()),
                                 target_metadata()))


def new_revision(connection: Connection, message: str, *, autogenerate: bool) -> Path:
    """Write the next revision, on top of head; with ``autogenerate``, what ``connection``'s database
    (at head) lacks against the models. Returns its file, to be read and tidied before it is committed."""
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")
    number = len(list(_scripts().walk_revisions())) + 1
    rev_id = f"{number:04d}_{slug}"[:_MAX_REVISION_ID].rstrip("_")
    with _one_at_a_time:
        written = command.revision(_config(connection), message, autogenerate=autogenerate, rev_id=rev_id)
    _scripts.cache_clear()
    assert written is not None and not isinstance(written, list)
    return Path(written.path)
