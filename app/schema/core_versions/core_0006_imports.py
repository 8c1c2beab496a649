"""crm_import_row (what an import did to each row: resume, report, revert) and crm_import_mapping.

Revision ID: core_0006
Revises: core_0005 (the outbox; chained when the automations branch merged imports)
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0006"
down_revision = "core_0005"  # after the outbox (automations branch)
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("crm_import_row"):
        op.create_table(
            "crm_import_row",
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("job_id", sa.Integer, nullable=False),
            sa.Column("row", sa.Integer, nullable=False),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("record_id", sa.Integer, nullable=True),
            sa.Column("version", sa.Integer, nullable=True),
            sa.Column("column", sa.String(255), nullable=True),
            sa.Column("reason", sa.Text, nullable=True),
            sa.Column("data", sa.Text, nullable=True),
            sa.Column("reverted", sa.Boolean, nullable=False),
            sa.ForeignKeyConstraint(["job_id"], ["crm_job.id"], ondelete="CASCADE", name="fk_crm_import_row_job_id"),
            sa.PrimaryKeyConstraint("id", name="pk_crm_import_row"),
            sa.UniqueConstraint("job_id", "row", name="uq_crm_import_row_job_id_row"),
        )
    if not inspector.has_table("crm_import_mapping"):
        op.create_table(
            "crm_import_mapping",
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("entity", sa.String(64), nullable=False),
            sa.Column("user_id", sa.Integer, nullable=False),
            sa.Column("mapping", sa.Text, nullable=False),
            sa.Column("changed_on", sa.DateTime, nullable=False),
            sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE",
                                    name="fk_crm_import_mapping_user_id"),
            sa.PrimaryKeyConstraint("id", name="pk_crm_import_mapping"),
            sa.UniqueConstraint("entity", "user_id", name="uq_crm_import_mapping_entity_user_id"),
        )


def downgrade() -> None:
    op.drop_table("crm_import_mapping")
    op.drop_table("crm_import_row")
