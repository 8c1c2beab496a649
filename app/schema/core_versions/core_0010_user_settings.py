"""crm_user_setting: a user's own settings (their time zone, used instead of the CRM's).

Revision ID: core_0010
Revises: core_0009
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0010"
down_revision = "core_0009"  # after saved list views (bulk branch)
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("crm_user_setting"):
        return  # made by create_all before this revision existed
    op.create_table(
        "crm_user_setting",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("changed_on", sa.DateTime, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE",
                                name="fk_crm_user_setting_user_id"),
        sa.PrimaryKeyConstraint("user_id", name="pk_crm_user_setting"),
    )


def downgrade() -> None:
    op.drop_table("crm_user_setting")
