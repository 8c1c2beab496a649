"""MetaCRM's own tables, beside the generated ones.

`crm_counter` hands out autonumbers; `crm_schema_version` records which
metadata digest the database was last built from, so every web process
agrees on the version in force (the web tier keeps no state of its own).
These tables are built by the hand-written core revisions in app/schema/core_versions/
(change one here: add a revision there). Teams are data, not metadata: `crm_team` and its members decide `team` scope.
`crm_saved_report` keeps report-builder definitions, private or shared with roles.
`crm_record_change` names the fields each record version changed, so a stale write can be
told what changed since the version it was read at (core revision 0003).
`crm_event` is the outbox: one row per record change, written in the change's own transaction;
`crm_delivery` logs what was done with each (rules, hooks, e-mails, webhooks) and retries (core revision 0005).
"""

from __future__ import annotations

import sqlalchemy as sa


def define_core_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    counter = sa.Table(
        "crm_counter", metadata,
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("field", sa.String(64), primary_key=True),
        sa.Column("last", sa.BigInteger, nullable=False, default=0),
    )
    version = sa.Table(
        "crm_schema_version", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("applied_on", sa.DateTime, nullable=False),
        sa.Column("note", sa.String(255)),
        sa.Column("revision", sa.String(32)),  # the metadata revision in force (core revision 0002)
    )
    team = sa.Table(
        "crm_team", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("manager_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL"), index=True),
    )
    member = sa.Table(
        "crm_team_member", metadata,
        sa.Column("team_id", sa.Integer, sa.ForeignKey("crm_team.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True,
                  index=True),
    )
    history = sa.Table(
        "crm_stage_history", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("pipeline", sa.String(64), nullable=False),
        sa.Column("from_stage", sa.String(64)),
        sa.Column("to_stage", sa.String(64), nullable=False),
        sa.Column("moved_by_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL")),
        sa.Column("moved_on", sa.DateTime, nullable=False),
        sa.Column("seconds_in_from", sa.BigInteger),
        sa.Index("ix_crm_stage_history_record", "entity", "record_id", "moved_on"),
    )
    report = sa.Table(
        "crm_saved_report", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),  # JSON: columns, filters, group, measure, chart
        sa.Column("shared_roles", sa.Text, nullable=False, default="[]"),  # JSON list of role names
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("created_on", sa.DateTime, nullable=False),
        sa.Column("changed_on", sa.DateTime, nullable=False),
    )
    change = sa.Table(
        "crm_record_change", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),  # the version this change made
        sa.Column("fields", sa.Text, nullable=False),  # JSON list of field names
        sa.Column("changed_by_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL")),
        sa.Column("changed_on", sa.DateTime, nullable=False),
        sa.Index("ix_crm_record_change_record", "entity", "record_id", "version"),
    )
    events = define_event_tables(metadata)
    return {**events, "crm_record_change": change, "crm_counter": counter, "crm_schema_version": version, "crm_team": team,
            "crm_team_member": member, "crm_stage_history": history, "crm_saved_report": report}


def define_event_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The outbox and its delivery log (see app/events/)."""
    event = sa.Table(
        "crm_event", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # created | updated | deleted
        sa.Column("changes", sa.Text, nullable=False),  # JSON {field: [old, new]}
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL")),
        sa.Column("automation", sa.String(64)),  # the rule that made the change, if one did
        sa.Column("depth", sa.Integer, nullable=False, default=0),  # automation chain length (loop guard)
        sa.Column("created_on", sa.DateTime, nullable=False),
        sa.Column("claimed_on", sa.DateTime),  # a worker took it
        sa.Column("delivered_on", sa.DateTime, index=True),  # every rule and hook has run
        sa.Index("ix_crm_event_record", "entity", "record_id", "id"),
    )
    delivery = sa.Table(
        "crm_delivery", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("crm_event.id", ondelete="CASCADE"), index=True),
        sa.Column("rule", sa.String(64)),  # None: a plugin hook
        sa.Column("action", sa.String(32), nullable=False),  # rule | hook | set | create | email | webhook
        sa.Column("state", sa.String(16), nullable=False),  # fired | skipped | done | pending | failed
        sa.Column("reason", sa.Text),
        sa.Column("payload", sa.Text),  # JSON: what an e-mail or webhook sends, so a retry sends the same
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("next_try_on", sa.DateTime, index=True),
        sa.Column("created_on", sa.DateTime, nullable=False),
        sa.Column("finished_on", sa.DateTime),
    )
    return {"crm_event": event, "crm_delivery": delivery}
