"""crm_list_view and crm_list_pref: saved list views, each user's default view and chosen columns.

Revision ID: core_0009
Revises: core_0008
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0009"
down_revision = "core_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("crm_list_view"):
        return  # made by create_all before this revision existed
    op.create_table(
        "crm_list_view",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("shared_roles", sa.Text, nullable=False),
        sa.Column("owner_id", sa.Integer, nullable=False),
        sa.Column("created_on", sa.DateTime, nullable=False),
        sa.Column("changed_on", sa.DateTime, nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["ab_user.id"], ondelete="CASCADE", name="fk_crm_list_view_owner_id"),
        sa.PrimaryKeyConstraint("id", name="pk_crm_list_view"),
    )
    op.create_index("ix_crm_list_view_entity_owner", "crm_list_view", ["entity", "owner_id"])
    op.create_table(
        "crm_list_pref",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("default_view_id", sa.Integer, nullable=True),
        sa.Column("columns", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE", name="fk_crm_list_pref_user_id"),
        sa.ForeignKeyConstraint(["default_view_id"], ["crm_list_view.id"], ondelete="SET NULL",
                                name="fk_crm_list_pref_default_view_id"),
        sa.PrimaryKeyConstraint("user_id", "entity", name="pk_crm_list_pref"),
    )


def downgrade() -> None:
    op.drop_table("crm_list_pref")
    op.drop_index("ix_crm_list_view_entity_owner", table_name="crm_list_view")
    op.drop_table("crm_list_view")
