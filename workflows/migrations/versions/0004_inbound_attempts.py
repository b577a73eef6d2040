"""Inbound attempts: how many times a worker began processing a message, and when it last did, so that one
which kills its worker (out of memory, kill -9) is retried a bounded number of times and then failed, never
left ``received``."""

import sqlalchemy as sa
from alembic import op

revision = "0004_inbound_attempts"
down_revision = "0003_registration"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("attempted_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("attempts")
