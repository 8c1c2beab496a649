"""The kanban board section of bench_engine.py.

`prepare_board` puts every opportunity in the default pipeline, in a random open stage
(two UPDATEs, before the VACUUM ANALYZE). `measure_board` then times, as admin and as
the Sales Rep (`own` row rule), the board page (HTML: column headers from one grouped
query), the board JSON column headers and the first card page of one column, each next
to the bare SQL doing the same work, with the app/bare ratio and statements per request.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from _rows import ENTITY, ScopedUser, alternating_ms, get_ok, statements_of

RATIO_TARGET = 3.0  # as for lists: app <= 3x the bare SQL
PIPELINE = "new_business"
CARDS = 20  # board.PAGE_SIZE; the app reads one more row to know whether there is a next page


def _spec(app: Any) -> tuple[Any, Any, Any]:
    with app.app_context():
        state = app.extensions["crm"]
    entity = state.spec.entity(ENTITY)
    pipeline = next(p for p in entity.pipelines if p.name == PIPELINE)
    return state.spec, entity, pipeline


def _col(entity: Any, name: str) -> str:
    return entity.field(name).column_name if name in entity.field_map else name


def open_stages(app: Any) -> list[str]:
    return [s.name for s in _spec(app)[2].stages if s.outcome == "open"]


def prepare_board(app: Any, engine: sa.Engine) -> tuple[int, list[str]]:
    """All opportunities into PIPELINE, each in a random open stage with its probability."""
    _, entity, pipeline = _spec(app)
    stages = [s for s in pipeline.stages if s.outcome == "open"]
    stage, table = _col(entity, pipeline.field), entity.table_name
    names = "ARRAY[" + ", ".join(f"'{s.name}'" for s in stages) + "]"
    with engine.begin() as conn:
        rows = conn.exec_driver_sql(
            f"UPDATE {table} SET {_col(entity, 'deal_type')} = '{PIPELINE}', "
            f"{stage} = ({names})[1 + floor(random() * {len(stages)})::int]").rowcount
        if pipeline.probability_field:
            cases = " ".join(f"WHEN '{s.name}' THEN {s.probability}" for s in stages if s.probability is not None)
            conn.exec_driver_sql(f"UPDATE {table} SET {_col(entity, pipeline.probability_field)} = "
                                 f"CASE {stage} {cases} END")
    return rows, [s.name for s in stages]


def pipeline_where(app: Any) -> str:
    """The records PIPELINE owns, as bare SQL (the default one: no `when` pipeline claims them)."""
    _, entity, pipeline = _spec(app)
    if pipeline.when is not None:
        name, value = pipeline.when
        return f"{_col(entity, name)} = '{value}'"
    rivals = [p for p in entity.pipelines if p.field == pipeline.field and p.when is not None]
    return " AND ".join(f"({_col(entity, p.when[0])} IS NULL OR {_col(entity, p.when[0])} <> '{p.when[1]}')"
                        for p in rivals) or "true"


def columns_sql(app: Any, rule: str = "") -> str:
    """The column headers: one grouped SELECT (count, amount sum, amount x probability sum)."""
    _, entity, pipeline = _spec(app)
    stage = _col(entity, pipeline.field)
    amount, prob = _col(entity, pipeline.amount_field), _col(entity, pipeline.probability_field)
    where = pipeline_where(app) + (f" AND {rule}" if rule else "")
    return (f"SELECT {stage}, count(*), sum({amount}), sum({amount} * {prob}) FROM {entity.table_name} "
            f"WHERE {where} GROUP BY {stage}")


def cards_sql(app: Any, stage: str, rule: str = "") -> str:
    """The first card page of a column: cut first (ORDER BY changed_on DESC, id DESC LIMIT),
    then the card fields' links LEFT JOINed to those rows (the fastest form, as for lists)."""
    spec, entity, pipeline = _spec(app)
    inner, cols, joins = ["id", entity.field(entity.title_field).column_name, "changed_on"], ["o.*"], []
    for name in pipeline.card_fields:
        f = entity.field(name)
        if f.column_name not in inner:
            inner.append(f.column_name)
        alias = f"j_{f.name}"
        if f.type == "link":
            cols += [f"{alias}.id", f"{alias}.{spec.entity(f.to).title_field}"]
            joins.append(f"LEFT JOIN {f.to} {alias} ON {alias}.id = o.{f.column_name}")
        elif f.type == "user":
            cols += [f"{alias}.id", f"{alias}.first_name", f"{alias}.last_name", f"{alias}.username"]
            joins.append(f"LEFT JOIN ab_user {alias} ON {alias}.id = o.{f.column_name}")
    where = f"{_col(entity, pipeline.field)} = '{stage}' AND {pipeline_where(app)}" + (f" AND {rule}" if rule else "")
    page = (f"SELECT {', '.join(inner)} FROM {entity.table_name} WHERE {where} "
            f"ORDER BY changed_on DESC, id DESC LIMIT {CARDS + 1}")
    return f"SELECT {', '.join(cols)} FROM ({page}) o {' '.join(joins)} ORDER BY o.changed_on DESC, o.id DESC"


def run_sql(engine: sa.Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(sql).fetchall()
    assert rows, "bare board query returned no rows"
    return rows


def board_urls(stage: str) -> list[tuple[str, str, str]]:
    """(label, url, which bare SQL) of the three board requests."""
    api = f"/api/v1/{ENTITY}/board/{PIPELINE}"
    return [("Board page HTML", f"/crm/{ENTITY}/board/{PIPELINE}", "columns"),
            ("Board JSON, column headers", api, "columns"),
            (f"Board JSON, cards '{stage}' p1", f"{api}?stage={stage}&page=0", "cards")]


def check_board(app: Any, engine: sa.Engine, client: Any, stage: str, rule: str, expected: int) -> None:
    """The app's figures are the bare SQL's: counts per column, first cards, in order."""
    head = get_ok(client, board_urls(stage)[1][1]).get_json()
    bare = {row[0]: row[1] for row in run_sql(engine, columns_sql(app, rule))}
    assert head["count"] == expected == sum(bare.values()), (head["count"], expected, bare)
    assert {c["stage"]: c["count"] for c in head["columns"] if c["count"]} == bare, (head["columns"], bare)
    cards = get_ok(client, board_urls(stage)[2][1]).get_json()
    ids = [row[0] for row in run_sql(engine, cards_sql(app, stage, rule))]
    assert [c["id"] for c in cards["cards"]] == ids[:CARDS] and cards["more"] == (len(ids) > CARDS)
    html = get_ok(client, board_urls(stage)[0][1]).get_data(as_text=True)
    assert f'data-stage="{stage}"' in html and f"{expected} " in html, "board page shows no columns"


def measure_board(app: Any, engine: sa.Engine, admin: Any, rep: ScopedUser, rep_client: Any,
                  total: int, repeat: int) -> list[dict[str, Any]]:
    """Board figures as admin, then as the rep alternating with admin on the same URL."""
    stage = open_stages(app)[0]
    with engine.connect() as conn:
        rep.records = conn.exec_driver_sql(f"SELECT count(*) FROM {ENTITY} WHERE {rep.where} "
                                           f"AND {pipeline_where(app)}").scalar()
    check_board(app, engine, admin, stage, "", total)
    check_board(app, engine, rep_client, stage, rep.where, rep.records)
    print(f"  pipeline '{PIPELINE}' (WHERE {pipeline_where(app)}): {total:,} open opportunities as admin, "
          f"{rep.records:,} as {rep.username} (WHERE {rep.where}); cards of column '{stage}'")
    rows: list[dict[str, Any]] = []
    for label, url, kind in board_urls(stage):
        sqls = {who: columns_sql(app, rule) if kind == "columns" else cards_sql(app, stage, rule)
                for who, rule in (("admin", ""), ("rep", rep.where))}
        admin_ms, admin_bare, rep_ms, rep_bare = alternating_ms([
            lambda url=url: get_ok(admin, url), lambda sql=sqls["admin"]: run_sql(engine, sql),
            lambda url=url: get_ok(rep_client, url), lambda sql=sqls["rep"]: run_sql(engine, sql)], repeat)
        for who, app_ms, bare_ms, client in (("admin", admin_ms, admin_bare, admin),
                                             (rep.username, rep_ms, rep_bare, rep_client)):
            row = {"label": label, "user": who, "app": app_ms, "bare": bare_ms, "ratio": app_ms / bare_ms,
                   "sql": statements_of(app, client, url), "vs_admin": app_ms / admin_ms,
                   "records": total if who == "admin" else rep.records}
            rows.append(row)
            print(f"  {label:<34} {who:<9} app {app_ms:7.1f}   bare SQL {bare_ms:6.1f}   ratio "
                  f"{row['ratio']:4.1f}x {'PASS' if row['ratio'] <= RATIO_TARGET else 'FAIL'}   "
                  f"SQL {row['sql']}" + (f"   {who}/admin {row['vs_admin']:4.2f}x" if who != "admin" else ""))
    return rows


def print_board_table(rows: list[dict[str, Any]], app: Any) -> None:
    print(f"\nKanban board, pipeline `{PIPELINE}` (all open): bare SQL = `{columns_sql(app)}` for the page and "
          f"the column headers; for the cards the first {CARDS} (+1) of the column ORDER BY changed_on DESC, "
          f"id DESC LIMIT {CARDS + 1}, card links LEFT JOINed; the rep's with the row rule. "
          f"Target: app <= {RATIO_TARGET:.0f}x bare.\n")
    print("| Request | User (records) | App | Bare SQL | Ratio | SQL stmts | User/admin | Target | Result |")
    print("|---|---|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        result = "PASS" if r["ratio"] <= RATIO_TARGET else "FAIL"
        vs = f"{r['vs_admin']:.2f}x" if r["user"] != "admin" else ""
        print(f"| {r['label']} | {r['user']} ({r['records']:,}) | {r['app']:.1f} ms | {r['bare']:.1f} ms | "
              f"{r['ratio']:.1f}x | {r['sql']} | {vs} | <= {RATIO_TARGET:.0f}x bare | {result} |")
