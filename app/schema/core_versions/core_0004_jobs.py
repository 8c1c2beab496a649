"""crm_job: background jobs (imports, exports, automations), state kept in the database.

Revision ID: core_0004
Revises: core_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("crm_job"):
        return
    op.create_table(
        "crm_job",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("done", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=True),
        sa.Column("counts", sa.Text, nullable=True),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("created_on", sa.DateTime, nullable=False),
        sa.Column("started_on", sa.DateTime, nullable=True),
        sa.Column("finished_on", sa.DateTime, nullable=True),
        sa.Column("heartbeat_on", sa.DateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="SET NULL", name="fk_crm_job_user_id"),
        sa.PrimaryKeyConstraint("id", name="pk_crm_job"),
    )
    op.create_index("ix_crm_job_user", "crm_job", ["user_id", "created_on"])


def downgrade() -> None:
    op.drop_index("ix_crm_job_user", table_name="crm_job")
    op.drop_table("crm_job")
