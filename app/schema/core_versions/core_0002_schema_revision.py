"""crm_schema_version.revision: which metadata revision each recorded digest came with.

Revision ID: core_0002
Revises: core_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("crm_schema_version")}
    if "revision" not in columns:
        op.add_column("crm_schema_version", sa.Column("revision", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("crm_schema_version") as batch:
        batch.drop_column("revision")
