"""MetaCRM's own tables: counters, schema versions, teams, stage history, saved reports.

Hand-written, shipped with the package (branch `core`); the metadata revisions that
`crm apply` writes are a branch of their own, so a new core revision never forks them.
Creates only the tables that are missing: a database made before core migrations
existed (by create_all) takes this revision as it is.

Revision ID: core_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def _tables() -> list[tuple[str, list]]:
    user = "ab_user.id"
    return [
        ("crm_counter", [
            sa.Column("entity", sa.String(64), nullable=False),
            sa.Column("field", sa.String(64), nullable=False),
            sa.Column("last", sa.BigInteger, nullable=False),
            sa.PrimaryKeyConstraint("entity", "field", name="pk_crm_counter")]),
        ("crm_schema_version", [
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("digest", sa.String(64), nullable=False),
            sa.Column("applied_on", sa.DateTime, nullable=False),
            sa.Column("note", sa.String(255)),
            sa.PrimaryKeyConstraint("id", name="pk_crm_schema_version")]),
        ("crm_team", [
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("name", sa.String(100), nullable=False),
            sa.Column("manager_id", sa.Integer),
            sa.PrimaryKeyConstraint("id", name="pk_crm_team"),
            sa.UniqueConstraint("name", name="uq_crm_team_name"),
            sa.ForeignKeyConstraint(["manager_id"], [user], name="fk_crm_team_manager_id", ondelete="SET NULL")]),
        ("crm_team_member", [
            sa.Column("team_id", sa.Integer, nullable=False),
            sa.Column("user_id", sa.Integer, nullable=False),
            sa.PrimaryKeyConstraint("team_id", "user_id", name="pk_crm_team_member"),
            sa.ForeignKeyConstraint(["team_id"], ["crm_team.id"], name="fk_crm_team_member_team_id",
                                    ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["user_id"], [user], name="fk_crm_team_member_user_id", ondelete="CASCADE")]),
        ("crm_stage_history", [
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("entity", sa.String(64), nullable=False),
            sa.Column("record_id", sa.Integer, nullable=False),
            sa.Column("pipeline", sa.String(64), nullable=False),
            sa.Column("from_stage", sa.String(64)),
            sa.Column("to_stage", sa.String(64), nullable=False),
            sa.Column("moved_by_id", sa.Integer),
            sa.Column("moved_on", sa.DateTime, nullable=False),
            sa.Column("seconds_in_from", sa.BigInteger),
            sa.PrimaryKeyConstraint("id", name="pk_crm_stage_history"),
            sa.ForeignKeyConstraint(["moved_by_id"], [user], name="fk_crm_stage_history_moved_by_id",
                                    ondelete="SET NULL")]),
        ("crm_saved_report", [
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("entity", sa.String(64), nullable=False),
            sa.Column("definition", sa.Text, nullable=False),
            sa.Column("shared_roles", sa.Text, nullable=False),
            sa.Column("owner_id", sa.Integer, nullable=False),
            sa.Column("created_on", sa.DateTime, nullable=False),
            sa.Column("changed_on", sa.DateTime, nullable=False),
            sa.PrimaryKeyConstraint("id", name="pk_crm_saved_report"),
            sa.ForeignKeyConstraint(["owner_id"], [user], name="fk_crm_saved_report_owner_id", ondelete="CASCADE")]),
    ]


INDEXES = [
    ("ix_crm_team_manager_id", "crm_team", ["manager_id"]),
    ("ix_crm_team_member_user_id", "crm_team_member", ["user_id"]),
    ("ix_crm_stage_history_record", "crm_stage_history", ["entity", "record_id", "moved_on"]),
    ("ix_crm_saved_report_owner_id", "crm_saved_report", ["owner_id"]),
]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, items in _tables():
        if name not in existing:
            op.create_table(name, *items)
    for name, table, columns in INDEXES:
        if table not in existing:
            op.create_index(name, table, columns)


def downgrade() -> None:
    for name, _items in reversed(_tables()):
        op.drop_table(name)
