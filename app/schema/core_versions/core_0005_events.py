"""crm_event (the outbox of record changes) and crm_delivery (what was done with each, retries).

Revision ID: core_0005
Revises: core_0004 (core_0006, the imports tables, follows it)
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0005"
down_revision = "core_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if "crm_event" not in tables:  # made by create_all before this revision existed
        op.create_table(
            "crm_event",
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("entity", sa.String(64), nullable=False),
            sa.Column("record_id", sa.Integer, nullable=False),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("changes", sa.Text, nullable=False),
            sa.Column("actor_id", sa.Integer, nullable=True),
            sa.Column("automation", sa.String(64), nullable=True),
            sa.Column("depth", sa.Integer, nullable=False),
            sa.Column("created_on", sa.DateTime, nullable=False),
            sa.Column("claimed_on", sa.DateTime, nullable=True),
            sa.Column("delivered_on", sa.DateTime, nullable=True),
            sa.ForeignKeyConstraint(["actor_id"], ["ab_user.id"], ondelete="SET NULL",
                                    name="fk_crm_event_actor_id"),
            sa.PrimaryKeyConstraint("id", name="pk_crm_event"),
        )
        op.create_index("ix_crm_event_record", "crm_event", ["entity", "record_id", "id"])
        op.create_index("ix_crm_event_delivered_on", "crm_event", ["delivered_on"])
    if "crm_delivery" not in tables:
        op.create_table(
            "crm_delivery",
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("event_id", sa.Integer, nullable=True),
            sa.Column("rule", sa.String(64), nullable=True),
            sa.Column("action", sa.String(32), nullable=False),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("reason", sa.Text, nullable=True),
            sa.Column("payload", sa.Text, nullable=True),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("next_try_on", sa.DateTime, nullable=True),
            sa.Column("created_on", sa.DateTime, nullable=False),
            sa.Column("finished_on", sa.DateTime, nullable=True),
            sa.ForeignKeyConstraint(["event_id"], ["crm_event.id"], ondelete="CASCADE",
                                    name="fk_crm_delivery_event_id"),
            sa.PrimaryKeyConstraint("id", name="pk_crm_delivery"),
        )
        op.create_index("ix_crm_delivery_event_id", "crm_delivery", ["event_id"])
        op.create_index("ix_crm_delivery_next_try_on", "crm_delivery", ["next_try_on"])


def downgrade() -> None:
    op.drop_table("crm_delivery")
    op.drop_index("ix_crm_event_delivered_on", table_name="crm_event")
    op.drop_index("ix_crm_event_record", table_name="crm_event")
    op.drop_table("crm_event")
