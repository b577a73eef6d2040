"""An inbound message's header text is read from its stored bytes when it is asked for, not kept twice:
decoding the whole header at intake was a fifth of what storing a message cost."""

import sqlalchemy as sa
from alembic import op

revision = "0006_headers_from_blob"
down_revision = "0005_buyer_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_column("headers")


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headers", sa.Text(), nullable=False, server_default=""))
