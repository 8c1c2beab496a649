"""crm_metadata_version: every metadata version (its files, the revisions it wrote), the newest in force.

Revision ID: core_0007
Revises: core_0006
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0007"
down_revision = "core_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("crm_metadata_version"):
        return
    op.create_table(
        "crm_metadata_version",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("revisions", sa.Text, nullable=False),
        sa.Column("schema_revision", sa.String(32), nullable=True),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crm_metadata_version"),
        sa.UniqueConstraint("parent_id", name="uq_crm_metadata_version_parent_id"),
    )
    op.create_index("ix_crm_metadata_version_digest", "crm_metadata_version", ["digest"])


def downgrade() -> None:
    op.drop_index("ix_crm_metadata_version_digest", "crm_metadata_version")
    op.drop_table("crm_metadata_version")
