"""Alembic's entry point: run the revisions on the connection that ``workflows.migrations`` hands over.

No URL and no engine here: the caller opened the connection and the transaction (holding the lock that
keeps two processes from migrating at once), and commits it.
"""

from alembic import context

from workflows.migrations import context_options

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("Torii's migrations run on a live database: `torii db upgrade`, or Database.upgrade_schema()")
context.configure(connection=connection, **context_options())
with context.begin_transaction():
    context.run_migrations()
