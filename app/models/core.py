"""MetaCRM's own tables, beside the generated ones.

`crm_counter` hands out autonumbers; `crm_schema_version` records which
metadata digest the database was last built from, so every web process
agrees on the version in force (the web tier keeps no state of its own).
These tables are built by the hand-written core revisions in app/schema/core_versions/
(change one here: add a revision there). Teams are data, not metadata: `crm_team` and its members decide `team` scope.
`crm_saved_report` keeps report-builder definitions, private or shared with roles.
`crm_record_change` names the fields each record version changed, so a stale write can be
told what changed since the version it was read at (core revision 0003).
`crm_job` is the state of every background job (imports, exports, automations), kept in the
database so nothing is lost when Redis or a worker restarts (core revision 0004).
`crm_import_row` is what each import did to each row of its file (resume, result, error report,
revert); `crm_import_mapping` the column mapping a user saved per entity (core revision 0006).
`crm_event` is the outbox: one row per record change, written in the change's own transaction;
`crm_delivery` logs what was done with each (rules, hooks, e-mails, webhooks) and retries (core revision 0005).
`crm_list_view` keeps saved list views (columns, filters, sort; private or shared with roles) and
`crm_list_pref` each user's default view and chosen columns per entity (core revision 0009).
`crm_notification` is each user's in-app notifications (automations' `notify`, task reminders; core revision 0008).
`crm_metadata_version` keeps every metadata version (all its files), the newest in force: every
process follows it (app/metaversions/, core revision 0007).
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
    job = define_job_table(metadata)
    imports = define_import_tables(metadata)
    events = define_event_tables(metadata)
    events["crm_notification"] = define_notification_table(metadata)
    events["crm_user_setting"] = define_user_setting_table(metadata)
    metaversion = define_metadata_version_table(metadata)
    events.update(define_list_view_tables(metadata))
    return {**imports, **events, "crm_metadata_version": metaversion, "crm_job": job, "crm_record_change": change, "crm_counter": counter, "crm_schema_version": version, "crm_team": team,
            "crm_team_member": member, "crm_stage_history": history, "crm_saved_report": report}


def define_job_table(metadata: sa.MetaData) -> sa.Table:
    """One row per background job: what to run (kind, payload), who asked, how far it got."""
    return sa.Table(
        "crm_job", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title", sa.Text),  # plain text, or JSON {"en": ..., "zh": ...}
        sa.Column("state", sa.String(16), nullable=False),  # queued|running|done|failed|cancelled
        sa.Column("payload", sa.Text, nullable=False),  # JSON
        sa.Column("result", sa.Text),  # JSON
        sa.Column("error", sa.Text),
        sa.Column("done", sa.BigInteger, nullable=False, default=0),
        sa.Column("total", sa.BigInteger),
        sa.Column("counts", sa.Text),  # JSON: counts so far (errors, created...)
        sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="SET NULL")),
        sa.Column("created_on", sa.DateTime, nullable=False),
        sa.Column("started_on", sa.DateTime),
        sa.Column("finished_on", sa.DateTime),
        sa.Column("heartbeat_on", sa.DateTime),  # last sign of life of the worker running it
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Index("ix_crm_job_user", "user_id", "created_on"),
    )


def define_import_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    rows = sa.Table(
        "crm_import_row", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer, sa.ForeignKey("crm_job.id", ondelete="CASCADE"), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),  # as a spreadsheet numbers it (header = 1)
        sa.Column("outcome", sa.String(16), nullable=False),  # created|updated|unchanged|duplicate|rejected
        sa.Column("record_id", sa.Integer),
        sa.Column("version", sa.Integer),  # the record's version the import left (revert checks it)
        sa.Column("column", sa.String(255)),  # rejected: the column at fault
        sa.Column("reason", sa.Text),
        sa.Column("data", sa.Text),  # JSON: rejected: the row's cells; updated: old values of changed fields
        sa.Column("reverted", sa.Boolean, nullable=False, default=False),
        sa.UniqueConstraint("job_id", "row", name="uq_crm_import_row_job_id_row"),
    )
    mapping = sa.Table(
        "crm_import_mapping", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mapping", sa.Text, nullable=False),  # JSON: column -> field
        sa.Column("changed_on", sa.DateTime, nullable=False),
        sa.UniqueConstraint("entity", "user_id", name="uq_crm_import_mapping_entity_user_id"),
    )
    return {"crm_import_row": rows, "crm_import_mapping": mapping}


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


def define_notification_table(metadata: sa.MetaData) -> sa.Table:
    """A message for one user about one record; unread while read_on is NULL (the bell counts those)."""
    return sa.Table(
        "crm_notification", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # notify | reminder
        sa.Column("rule", sa.String(64)),  # the automation (notify) or the reminder's entity
        sa.Column("entity", sa.String(64)),
        sa.Column("record_id", sa.Integer),
        sa.Column("message", sa.Text, nullable=False),  # JSON {"en": ..., "zh": ...}
        sa.Column("created_on", sa.DateTime, nullable=False),
        sa.Column("read_on", sa.DateTime),
        sa.Index("ix_crm_notification_user", "user_id", "read_on", "id"),
    )


def define_user_setting_table(metadata: sa.MetaData) -> sa.Table:
    """A user's own settings (core revision 0010): their time zone, used instead of the CRM's."""
    return sa.Table(
        "crm_user_setting", metadata,
        sa.Column("user_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("time_zone", sa.String(64)),  # an IANA name (Asia/Shanghai); NULL: the CRM's
        sa.Column("changed_on", sa.DateTime, nullable=False),
    )


def define_metadata_version_table(metadata: sa.MetaData) -> sa.Table:
    """One row per metadata version: its files and the schema revisions it wrote (app/metaversions/).
    `parent_id` is unique: two saves on the same base cannot both become the next version."""
    return sa.Table(
        "crm_metadata_version", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer, unique=True),
        sa.Column("digest", sa.String(64), nullable=False),  # of the files (app/metaversions/files.py)
        sa.Column("files", sa.Text, nullable=False),  # JSON {relative posix path: text}
        sa.Column("revisions", sa.Text, nullable=False),  # JSON {revision file name: script}
        sa.Column("schema_revision", sa.String(32)),  # the metadata revision the database had with it
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),  # bootstrap | files | web | rollback
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Index("ix_crm_metadata_version_digest", "digest"),
    )


def define_list_view_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Saved list views, and per user and entity the default view and the chosen columns."""
    view = sa.Table(
        "crm_list_view", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),  # JSON: columns, query (the list's filters and sort)
        sa.Column("shared_roles", sa.Text, nullable=False, default="[]"),  # JSON list of role names
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_on", sa.DateTime, nullable=False),
        sa.Column("changed_on", sa.DateTime, nullable=False),
        sa.Index("ix_crm_list_view_entity_owner", "entity", "owner_id"),
    )
    pref = sa.Table(
        "crm_list_pref", metadata,
        sa.Column("user_id", sa.Integer, sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("default_view_id", sa.Integer, sa.ForeignKey("crm_list_view.id", ondelete="SET NULL")),
        sa.Column("columns", sa.Text),  # JSON list: the column chooser's choice (None: the view's or the list's)
    )
    return {"crm_list_view": view, "crm_list_pref": pref}
