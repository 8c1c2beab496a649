"""Fill every entity with demo data, in link order, in bulk.

Values come from `values.value_for` (realistic Chinese and English data for
the starter CRM, sensible values for any other metadata); links point at
records made earlier. Core bulk inserts keep 100k rows to seconds, so the
audit columns and autonumbers the ORM events would fill are set here.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.automations.pool import pool_user, pools
from app.clock import crm_today
from app.expr import compiled
from app.metadata.spec import CrmSpec, EntitySpec
from app.models import ModelSet
from app.models.computed import refresh_stored
from app.models.events import format_autonumber
from app.records.assignees import assignable_users

from .people import People
from .values import value_for

BATCH = 2000


def link_order(spec: CrmSpec) -> list[EntitySpec]:
    """Entities sorted so every link target comes before the entities linking to it."""
    done: list[EntitySpec] = []
    pending = list(spec.entities)
    while pending:
        for entity in pending:
            targets = {f.to for f in entity.declared_fields if f.type in ("link", "links") and f.to != entity.name}
            if targets <= {e.name for e in done}:
                done.append(entity)
                pending.remove(entity)
                break
        else:  # a cycle: break it where it is; optional links in a cycle stay empty
            done.append(pending.pop(0))
    return done


def load_demo(session: Session, models: ModelSet, size: int = 200, seed: int = 7,
              today: dt.date | None = None, sizes: dict[str, int] | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    today = today or crm_today(ZoneInfo(models.spec.timezone or "UTC"))
    users: list[int] = list(session.scalars(sa.select(models.user_model.id)))
    people = People(session, models, users)  # owners who may change their records, movers the gates admit
    ids: dict[str, list[int]] = {}
    counts: dict[str, int] = {}
    conn = session.connection()
    for entity in link_order(models.spec):
        table = sa.inspect(models.model(entity.name)).local_table
        count = (sizes or {}).get(entity.name, size)
        start = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0
        by_login = models.user_model.username  # the order demo draws were made in
        pools = {f.name: [u.id for u in session.scalars(assignable_users(session, models.user_model, f)
                                                        .order_by(by_login))]
                 for f in entity.declared_fields if f.type == "user" and f.roles}
        owners = people.owners(entity)
        rows = [_row(entity, start + i, rng, today, ids, owners, pools)
                for i in range(count)]
        pooled = _pooled_rows(models, entity, rows)
        for chunk in range(0, len(rows), BATCH):
            conn.execute(sa.insert(table), rows[chunk:chunk + BATCH])
        ids[entity.name] = list(conn.execute(sa.select(table.c.id).order_by(table.c.id)).scalars())
        _fill_many(conn, models, entity, ids, rng, ids[entity.name][start:])
        _stage_history(conn, models, entity, ids[entity.name][start:], rows, rng, today, people)
        _recycle(session, models, entity, table, [ids[entity.name][start + i] for i in pooled])
        _advance_counters(conn, models, entity, start + count)
        counts[entity.name] = count
    refresh_stored(conn, models)
    session.commit()
    return counts


POOL_EVERY = 4  # one in four of the records the pool's rule would recycle ends in the pool


def _pooled_rows(models: ModelSet, entity: EntitySpec, rows: list[dict[str, Any]]) -> list[int]:
    """Which of `rows` (one in four of those the pool's rule would recycle: its `if` holds) a recycle
    put back in the entity's pool (公海), so the pool page and Claim have something to show; the
    flag of every row set (False for the others)."""
    pool = pools(models.spec).get(entity.name)
    if pool is None or pool.flag not in entity.field_map:
        return []
    flag = entity.field(pool.flag).column_name
    rule = next(r for r in models.spec.automations if any(a.kind == "pool" and a.detail is pool for a in r.actions))
    holds = compiled(rule.condition) if rule.condition else None
    chosen, held = [], 0
    for index, row in enumerate(rows):
        row[flag] = False
        state = {f.name: row.get(f.column_name) for f in entity.declared_fields if not f.is_computed}
        try:
            if holds is not None and holds(state, models.spec.timezone or "UTC") is not True:
                continue
        except Exception:  # noqa: BLE001, S112 - a condition reading a linked record: that row stays out
            continue
        held += 1
        if held % POOL_EVERY == 0:
            chosen.append(index)
    return chosen


def _recycle(session: Session, models: ModelSet, entity: EntitySpec, table: sa.Table, ids: list[int]) -> None:
    """Put `ids` in the pool as the recycle rule leaves them: flagged, owned by the pool's user (after
    their stage history, which their owner made before they lapsed)."""
    if not ids:
        return
    pool = pools(models.spec)[entity.name]
    holder = pool_user(session, models.user_model, pool.user)
    session.connection().execute(sa.update(table).where(table.c.id.in_(ids)).values(
        {entity.field(pool.flag).column_name: True, "owner_id": holder}))


def _row(entity: EntitySpec, index: int, rng: random.Random, today: dt.date,
         ids: dict[str, list[int]], users: list[int],
         pools: dict[str, list[int]] | None = None) -> dict[str, Any]:
    created = dt.datetime.combine(today - dt.timedelta(days=rng.randint(0, 730)),
                                  dt.time(rng.randint(8, 19), rng.randint(0, 59)))
    owner = rng.choice(users) if users else None
    row: dict[str, Any] = {"owner_id": owner, "created_by_id": owner, "changed_by_id": owner,
                           "created_on": created, "changed_on": created}
    for f in entity.declared_fields:
        if f.is_computed:
            continue  # computed in SQL, or by refresh_stored once all rows are in
        if f.type == "link":
            pool = ids.get(f.to or "", [])
            optional_gap = not f.required and rng.random() < 0.15
            row[f.column_name] = rng.choice(pool) if pool and not optional_gap else None
        elif f.type == "user" and f.roles:  # users of the field's roles; no draw, so other values stay put
            pool = (pools or {}).get(f.name, [])
            row[f.column_name] = pool[index % len(pool)] if pool and index % 3 else None
        elif f.type == "user":
            row[f.column_name] = rng.choice(users) if users else None
        elif f.type == "autonumber":
            row[f.name] = format_autonumber(f.format or "{0000}", index + 1)
        elif f.type != "links":
            row[f.name] = value_for(entity, f, index, rng, today)
    probe = type("Probe", (), row)
    for pipeline in {p.field: entity.pipeline_for(probe) for p in entity.pipelines}.values():
        if pipeline is not None and pipeline.stage(row.get(pipeline.field)) is None:
            row[pipeline.field] = rng.choice(pipeline.stages).name  # a stage of the record's own pipeline
        stage = pipeline.stage(row.get(pipeline.field)) if pipeline is not None else None
        if pipeline is not None and stage is not None and pipeline.probability_field and stage.probability is not None:
            row[pipeline.probability_field] = stage.probability
        if pipeline is not None and stage is not None:
            _fit_stage(entity, pipeline, stage, row, rng, today)
    return row


def _fit_stage(entity: EntitySpec, pipeline: Any, stage: Any, row: dict[str, Any], rng: random.Random,
               today: dt.date) -> None:
    """Values that agree with the record's stage: what only a lost stage asks for (a lost reason)
    is blank on the others, and a closed record's required dates (close date) are not in the future."""
    own = set(stage.requires)
    for other in pipeline.stages:
        if other.outcome == "lost" and other.name != stage.name:
            for name in set(other.requires) - own:
                if name in entity.field_map and not entity.field(name).required:
                    row[name] = None
    if stage.outcome in ("won", "lost"):
        for name in stage.requires:
            value = row.get(name)
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime) and value > today:
                row[name] = today - dt.timedelta(days=rng.randint(1, 365))


def _stage_history(conn: sa.Connection, models: ModelSet, entity: EntitySpec, new_ids: list[int],
                   rows: list[dict[str, Any]], rng: random.Random, today: dt.date, people: People) -> None:
    """The moves that brought each record to its stage, so funnels and time in stage have data.

    Open stages are walked in order up to the record's stage; won records went through
    every open stage; lost ones left from a random open stage. Moves are spread between
    the record's creation and today, each by a user the stage's gates admit (people.py).
    """
    if not entity.pipelines:
        return
    history = models.core["crm_stage_history"]
    end = dt.datetime.combine(today, dt.time(18, 0))
    out: list[dict[str, Any]] = []
    for record_id, row in zip(new_ids, rows, strict=True):
        probe = type("Probe", (), row)
        pipeline = entity.pipeline_for(probe)
        stage = pipeline.stage(row.get(pipeline.field)) if pipeline is not None else None
        if pipeline is None or stage is None:
            continue
        opened = [s.name for s in pipeline.stages if s.outcome == "open"]
        if stage.outcome == "open":
            path = opened[: opened.index(stage.name) + 1] if stage.name in opened else [stage.name]
        elif stage.outcome == "won":
            path = [*opened, stage.name]
        else:
            path = [*opened[: rng.randint(1, max(1, len(opened)))], stage.name]
        moment = row["created_on"]
        span = max((end - moment).total_seconds(), 3600.0)
        step = span / (len(path) + 1)
        previous, entered = None, moment
        for name in path:
            if previous is not None:
                moment = entered + dt.timedelta(seconds=rng.uniform(0.3, 1.0) * step)
            out.append({"entity": entity.name, "record_id": record_id, "pipeline": pipeline.name,
                        "from_stage": previous, "to_stage": name, "moved_by_id": people.mover(entity, pipeline, row, previous, name),
                        "moved_on": moment,
                        "seconds_in_from": int((moment - entered).total_seconds()) if previous else None})
            previous, entered = name, moment
    for chunk in range(0, len(out), BATCH):
        conn.execute(sa.insert(history), out[chunk:chunk + BATCH])


def _fill_many(conn: sa.Connection, models: ModelSet, entity: EntitySpec, ids: dict[str, list[int]],
               rng: random.Random, new_ids: list[int]) -> None:
    for f in entity.declared_fields:
        if f.type != "links":
            continue
        table = models.link_tables[(entity.name, f.name)]
        pool = ids.get(f.to or "", [])
        pairs = [{"source_id": source, "target_id": target}
                 for source in new_ids
                 for target in (rng.sample(pool, k=min(len(pool), rng.randint(0, 3))) if pool else [])]
        for chunk in range(0, len(pairs), BATCH):
            conn.execute(sa.insert(table), pairs[chunk:chunk + BATCH])


def _advance_counters(conn: sa.Connection, models: ModelSet, entity: EntitySpec, last: int) -> None:
    counter = models.core["crm_counter"]
    for f in entity.declared_fields:
        if f.type == "autonumber":
            key = (counter.c.entity == entity.name) & (counter.c.field == f.name)
            conn.execute(sa.delete(counter).where(key))
            conn.execute(sa.insert(counter).values(entity=entity.name, field=f.name, last=last))
