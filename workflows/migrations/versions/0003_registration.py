"""Registration (manual 001): companies with their IDs, their account IDs, and the applications."""

import sqlalchemy as sa
from alembic import op

revision = "0003_registration"
down_revision = "0002_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("companies",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("code", sa.String(length=16), nullable=False),
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("key", sa.String(length=255), nullable=False),
    sa.Column("address", sa.Text(), nullable=False),
    sa.Column("phone", sa.String(length=32), nullable=False),
    sa.Column("jan_maker_code", sa.String(length=10), nullable=False),
    sa.Column("registration_id", sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("code"),
    sa.UniqueConstraint("key")
    )
    op.create_table("company_accounts",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("company_id", sa.Integer(), nullable=False),
    sa.Column("number", sa.Integer(), nullable=False),
    sa.Column("account_id", sa.String(length=24), nullable=False),
    sa.Column("name", sa.String(length=255), nullable=False),
    sa.Column("email", sa.String(length=320), nullable=False),
    sa.Column("role", sa.String(length=16), nullable=False),
    sa.Column("password_hash", sa.String(length=255), nullable=True),
    sa.Column("password_token_hash", sa.String(length=64), nullable=True),
    sa.Column("password_token_expires_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("account_id"),
    sa.UniqueConstraint("company_id", "number"),
    sa.UniqueConstraint("password_token_hash")
    )
    with op.batch_alter_table("company_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_accounts_company_id"), ["company_id"], unique=False)

    op.create_table("registrations",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("state", sa.String(length=32), nullable=False),
    sa.Column("channel", sa.String(length=16), nullable=False),
    sa.Column("language", sa.String(length=8), nullable=False),
    sa.Column("applicant_email", sa.String(length=320), nullable=False),
    sa.Column("company_name", sa.String(length=255), nullable=False),
    sa.Column("company_key", sa.String(length=255), nullable=False),
    sa.Column("reply_token", sa.String(length=64), nullable=False),
    sa.Column("link_token_hash", sa.String(length=64), nullable=True),
    sa.Column("link_expires_at", sa.DateTime(), nullable=True),
    sa.Column("link_used_at", sa.DateTime(), nullable=True),
    sa.Column("approval_token_hash", sa.String(length=64), nullable=True),
    sa.Column("jan_maker_code", sa.String(length=10), nullable=False),
    sa.Column("company_address", sa.Text(), nullable=False),
    sa.Column("company_phone", sa.String(length=32), nullable=False),
    sa.Column("wholesaler_company", sa.String(length=255), nullable=False),
    sa.Column("wholesaler_department", sa.String(length=255), nullable=False),
    sa.Column("wholesaler_contact", sa.String(length=255), nullable=False),
    sa.Column("wholesaler_email", sa.String(length=320), nullable=False),
    sa.Column("admin_name", sa.String(length=255), nullable=False),
    sa.Column("admin_email", sa.String(length=320), nullable=False),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.Column("applied_at", sa.DateTime(), nullable=True),
    sa.Column("approval_due_at", sa.DateTime(), nullable=True),
    sa.Column("reminded_at", sa.DateTime(), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("company_id", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("approval_token_hash"),
    sa.UniqueConstraint("link_token_hash"),
    sa.UniqueConstraint("reply_token")
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registrations_approval_due_at"), ["approval_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_registrations_company_key"), ["company_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_registrations_link_expires_at"), ["link_expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_registrations_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registrations_state"))
        batch_op.drop_index(batch_op.f("ix_registrations_link_expires_at"))
        batch_op.drop_index(batch_op.f("ix_registrations_company_key"))
        batch_op.drop_index(batch_op.f("ix_registrations_approval_due_at"))

    op.drop_table("registrations")
    with op.batch_alter_table("company_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_accounts_company_id"))

    op.drop_table("company_accounts")
    op.drop_table("companies")
