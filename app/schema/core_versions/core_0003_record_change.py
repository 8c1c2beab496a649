"""crm_record_change: the fields each record version changed (told back on a stale write, 409).

Revision ID: core_0003
Revises: core_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("crm_record_change"):
        return  # made by create_all before this revision existed
    op.create_table(
        "crm_record_change",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("changed_by_id", sa.Integer, nullable=True),
        sa.Column("changed_on", sa.DateTime, nullable=False),
        sa.ForeignKeyConstraint(["changed_by_id"], ["ab_user.id"], ondelete="SET NULL",
                                name="fk_crm_record_change_changed_by_id"),
        sa.PrimaryKeyConstraint("id", name="pk_crm_record_change"),
    )
    op.create_index("ix_crm_record_change_record", "crm_record_change", ["entity", "record_id", "version"])


def downgrade() -> None:
    op.drop_index("ix_crm_record_change_record", table_name="crm_record_change")
    op.drop_table("crm_record_change")
