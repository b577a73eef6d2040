"""Buyers' users and businesses (manual 004): users' email and name, their one-time links, businesses, and
which business and user placed an order, with the buyer's names as they were."""

import sqlalchemy as sa
from alembic import op

revision = "0005_buyer_users"
down_revision = "0004_inbound_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("businesses",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("buyer_id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("email", sa.String(length=320), nullable=False),
    sa.Column("phone", sa.String(length=32), nullable=False),
    sa.Column("fax", sa.String(length=32), nullable=False),
    sa.Column("language", sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(["buyer_id"], ["buyers.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("buyer_id", "name")
    )
    with op.batch_alter_table("businesses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_businesses_buyer_id"), ["buyer_id"], unique=False)

    # Existing operators were made by the CLI: no address, no person's name, nothing pending.
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("full_name", sa.String(length=255), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("invite_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_unique_constraint("uq_operators_email", ["email"])

    op.create_table("account_links",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("operator_id", sa.Integer(), nullable=False),
    sa.Column("purpose", sa.String(length=16), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("expires_at", sa.DateTime(), nullable=False),
    sa.Column("used_at", sa.DateTime(), nullable=True),
    sa.Column("replaced_at", sa.DateTime(), nullable=True),
    sa.Column("new_email", sa.String(length=320), nullable=True),
    sa.Column("created_by", sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("token_hash")
    )
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_links_operator_id"), ["operator_id"], unique=False)

    # Orders placed before keep reading the buyer as it is now (buyer_party NULL).
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("orderer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("business_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("buyer_party", sa.JSON(), nullable=True))
        batch_op.create_foreign_key("fk_orders_orderer_id_operators", "operators", ["orderer_id"], ["id"])
        batch_op.create_foreign_key("fk_orders_business_id_businesses", "businesses", ["business_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint("fk_orders_business_id_businesses", type_="foreignkey")
        batch_op.drop_constraint("fk_orders_orderer_id_operators", type_="foreignkey")
        batch_op.drop_column("buyer_party")
        batch_op.drop_column("business_id")
        batch_op.drop_column("orderer_id")

    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_links_operator_id"))

    op.drop_table("account_links")
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_constraint("uq_operators_email", type_="unique")
        batch_op.drop_column("invite_pending")
        batch_op.drop_column("full_name")
        batch_op.drop_column("email")

    with op.batch_alter_table("businesses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_businesses_buyer_id"))

    op.drop_table("businesses")
