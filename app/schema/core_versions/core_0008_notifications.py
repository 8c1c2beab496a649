"""crm_notification: in-app notifications (automations' notify action, task reminders).

Revision ID: core_0008
Revises: core_0006 (core_0007, the versions helper's, may come between them at merge: chain after it)
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0008"
down_revision = "core_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("crm_notification"):
        return  # made by create_all before this revision existed
    op.create_table(
        "crm_notification",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(64), nullable=True),
        sa.Column("entity", sa.String(64), nullable=True),
        sa.Column("record_id", sa.Integer, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_on", sa.DateTime, nullable=False),
        sa.Column("read_on", sa.DateTime, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE",
                                name="fk_crm_notification_user_id"),
        sa.PrimaryKeyConstraint("id", name="pk_crm_notification"),
    )
    op.create_index("ix_crm_notification_user", "crm_notification", ["user_id", "read_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_crm_notification_user", table_name="crm_notification")
    op.drop_table("crm_notification")
