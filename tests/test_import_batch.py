"""Import batches: a batch's lookups are read once and its records written in one flush, so the
statements an import runs do not grow with its rows; a batch the database refuses as a whole is
replayed row by row (the bad row reported, the rest in, nothing doubled)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import count_queries, login
from tests.test_import_api import run_import


def _accounts(app: Any, count: int) -> list[str]:
    with app.app_context():
        state = app.extensions["crm"]
        account = state.models.model("account")
        names = [f"客户 {i:03d} 𩸽" for i in range(count)]
        state.db.session.add_all([account(name=n) for n in names])
        state.db.session.commit()
        state.db.session.remove()
    return names


def _opportunities(rows: int, accounts: list[str], start: int = 0) -> bytes:
    lines = ["商机名称,客户,金额,预计成交日期"]
    for i in range(start, start + rows):
        lines.append(f'商机 {i:05d},{accounts[i % len(accounts)]},"¥{1000 + i:,}.50",2026/{i % 12 + 1}/{i % 28 + 1}')
    return ("\n".join(lines) + "\n").encode()


def _import_statements(app: Any, client: Any, data: bytes, name: str) -> tuple[Any, list[str]]:
    with count_queries(app) as statements:
        job = run_import(app, client, "opportunity", data, name)
    return job, [s for s in statements if "crm_job" not in s]  # the job's own bookkeeping aside


def test_statements_do_not_grow_with_the_rows(make_app: Any, tmp_path: Path) -> None:
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), CRM_OUTBOX_DISPATCH="off")
    accounts = _accounts(app, 40)
    client = login(app.test_client())
    small, few = _import_statements(app, client, _opportunities(30, accounts), "small.csv")
    big, many = _import_statements(app, client, _opportunities(900, accounts, start=1000), "big.csv")
    assert small.result["counts"]["created"] == 30 and big.result["counts"]["created"] == 900
    # row by row this was about 8 statements a row (7,000+ for 900 rows)
    inserts = [s for s in many if s.lstrip().upper().startswith("INSERT INTO OPPORTUNITY")]
    others = [s for s in many if s not in inserts]
    # row by row this was about 8 statements a row (7,000+ for 900 rows)
    assert len(others) < 150, len(others)
    assert len([s for s in many if s.lstrip().upper().startswith("INSERT INTO CRM_EVENT")]) < 20
    with app.app_context():
        dialect = app.extensions["crm"].db.engine.dialect.name
    if dialect == "postgresql":  # multi-row INSERT ... RETURNING (SQLite: one in-process call a row)
        assert len(inserts) < 20, len(inserts)
    with app.app_context():
        state = app.extensions["crm"]
        opp = state.models.model("opportunity")
        session = state.db.session
        stored = session.execute(sa.select(opp.name, opp.amount, opp.stage, opp.probability, opp.version)
                                 .where(opp.name == "商机 01899")).one()
        event = state.models.core["crm_event"]
        history = state.models.core["crm_stage_history"]
        assert session.scalar(sa.select(sa.func.count()).select_from(event).where(
            event.c.entity == "opportunity", event.c.kind == "created")) == 930  # an event a record
        assert session.scalar(sa.select(sa.func.count()).select_from(history).where(
            history.c.entity == "opportunity")) == 930  # each entered its first stage
        session.remove()
    assert float(stored.amount) == 1000 + 1899 + 0.5 and stored.stage == "prospecting"
    assert float(stored.probability) == 10 and stored.version == 1


def _leads_with_unique_company(make_app: Any, tmp_path: Path, rows: int) -> tuple[Any, Any, list[str]]:
    """An app whose lead table holds a rule the metadata does not know (a unique company), and a
    file of `rows` leads, each its own company."""
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), CRM_OUTBOX_DISPATCH="off")
    with app.app_context():
        state = app.extensions["crm"]
        with state.db.engine.begin() as conn:
            conn.execute(sa.text("CREATE UNIQUE INDEX test_only_lead_company ON lead (company)"))
    client = login(app.test_client())
    return app, client, ["姓名,公司,邮箱"] + [f"线索{i:03d},公司{i:03d},l{i}@example.cn" for i in range(rows)]


def test_a_batch_the_database_refuses_is_replayed_row_by_row(make_app: Any, tmp_path: Path) -> None:
    app, client, lines = _leads_with_unique_company(make_app, tmp_path, 60)
    lines[31] = "线索030,公司007,l030@example.cn"  # data row 30 repeats row 7's company
    job = run_import(app, client, "lead", ("\n".join(lines) + "\n").encode(), "refused.csv")
    assert job.result["counts"]["created"] == 59 and job.result["counts"]["rejected"] == 1
    rejected = client.get(f"/api/v1/imports/{job.id}/rows?outcome=rejected").get_json()
    rows = rejected.get("rows") or rejected.get("result")
    assert [r["row"] for r in rows] == [32]  # the header is row 1
    with app.app_context():
        state = app.extensions["crm"]
        lead = state.models.model("lead")
        names = list(state.db.session.scalars(sa.select(lead.name)))
        log = state.models.core["crm_import_row"]
        lines_logged = state.db.session.scalar(sa.select(sa.func.count()).select_from(log)
                                               .where(log.c.job_id == job.id))
        state.db.session.remove()
    assert len(names) == 59 == len(set(names)) and "线索030" not in names
    assert lines_logged == 60
    again = run_import(app, client, "lead", ("\n".join(lines) + "\n").encode(), "refused.csv")
    assert again.result["counts"]["created"] == 0  # idempotent: every row duplicate or rejected


def test_rows_repeating_an_earlier_row_are_duplicates_however_the_numbers_are_written(make_app: Any,
                                                                                     tmp_path: Path) -> None:
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), CRM_OUTBOX_DISPATCH="off")
    accounts = _accounts(app, 2)
    client = login(app.test_client())
    data = (f"商机名称,客户,金额,预计成交日期\n"
            f"同一商机,{accounts[0]},12.5,2026-03-05\n"
            f"同一商机,{accounts[0]},12.50,2026/3/5\n"  # the same values once parsed
            f"同一商机,{accounts[1]},12.5,2026-03-05\n").encode()  # another account: another deal
    job = run_import(app, client, "opportunity", data, "same.csv")
    assert job.result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "duplicate": 1, "rejected": 0}
    rows = client.get(f"/api/v1/imports/{job.id}/rows?outcome=duplicate").get_json()["rows"]
    assert [r["row"] for r in rows] == [3] and "2" in rows[0]["reason"]
    again = run_import(app, client, "opportunity", data, "same-again.csv")  # judged against the database now
    assert again.result["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "duplicate": 3, "rejected": 0}


def test_a_key_of_several_columns_finds_its_records_among_many(make_app: Any, tmp_path: Path) -> None:
    """The duplicate check of a key of several columns (a create file without a unique field) asks
    the database with the batch's keys joined as a list (PostgreSQL), not as a chain of ORs: the
    records are found, and those differing in one column are not."""
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), CRM_OUTBOX_DISPATCH="off")
    accounts = _accounts(app, 7)
    client = login(app.test_client())
    first = run_import(app, client, "opportunity", _opportunities(300, accounts), "first.csv")
    assert first.result["counts"]["created"] == 300
    mixed = _opportunities(300, accounts).decode().splitlines()
    mixed[5] = mixed[5].replace(accounts[4], accounts[5])  # row 6: another account, a new deal
    mixed[9] = mixed[9].replace(".50", ".51")  # row 10: another amount
    job = run_import(app, client, "opportunity", ("\n".join(mixed) + "\n").encode(), "mixed.csv")
    assert job.result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "duplicate": 298, "rejected": 0}
    rows = client.get(f"/api/v1/imports/{job.id}/rows?outcome=created").get_json()["rows"]
    assert sorted(r["row"] for r in rows) == [6, 10]


def test_a_growing_table_gets_fresh_statistics(make_app: Any, tmp_path: Path) -> None:
    """PostgreSQL: an import that created CRM_IMPORT_ANALYZE_ROWS records ANALYZEs the table, so the
    batches' checks are not planned from the statistics of an empty table (with autovacuum off or
    behind, the rows/s of a million-row file fell with every batch). The file holds exactly that many
    rows, so the count is reached in the last batch: batches grow with the machine's speed, and on
    a fast one the last (partial) batch is most of the file; it was not counted."""
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), CRM_OUTBOX_DISPATCH="off", CRM_IMPORT_ANALYZE_ROWS=50)
    with app.app_context():
        engine = app.extensions["crm"].db.engine
    if engine.dialect.name != "postgresql":
        return  # SQLite plans without statistics of this kind
    accounts = _accounts(app, 5)
    client = login(app.test_client())
    job = run_import(app, client, "opportunity", _opportunities(50, accounts), "grow.csv")
    assert job.result["counts"]["created"] == 50
    with engine.connect() as conn:
        analysed = conn.exec_driver_sql(
            "SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname = 'opportunity'").scalar()
    assert analysed


def test_a_refused_batch_in_flight_is_replayed_and_the_next_judged_again(make_app: Any, tmp_path: Path,
                                                                         monkeypatch: Any, caplog: Any) -> None:
    """PostgreSQL with the overlap (app/imports/overlap.py): batch 2 is refused by the database while
    batch 3 was judged on the assumption that batch 2 went in; batch 2 is replayed row by row (its bad
    row rejected) and batch 3 judged again: a row of batch 3 repeating a row of batch 2 that went in is
    a duplicate of it, one repeating the rejected row is not (it is refused in turn), nothing is lost or
    doubled. SQLite (no overlap) gives the same answers one batch after the other."""
    from app.imports import run as import_run

    monkeypatch.setattr(import_run, "BATCH_ROWS", (20, 20))
    app, client, lines = _leads_with_unique_company(make_app, tmp_path, 100)
    lines[31] = "线索030,公司007,l030@example.cn"  # row 32 (batch 2) repeats row 8's company
    lines[55] = lines[25]  # row 56 (batch 3) repeats row 26 (batch 2) whole
    lines[60] = lines[31]  # row 61 (batch 3) repeats row 32 whole: judged while 32 seemed in, it is not
    with caplog.at_level("WARNING", logger="app.imports.run"):
        job = run_import(app, client, "lead", ("\n".join(lines) + "\n").encode(), "refused.csv")
    assert job.result["counts"] == {"created": 97, "updated": 0, "unchanged": 0, "duplicate": 1, "rejected": 2}
    replayed = [r.getMessage() for r in caplog.records if "replayed row by row" in r.getMessage()]
    assert len(replayed) == 2 and "rows 22-41" in replayed[0] and "rows 42-61" in replayed[1], replayed
    with app.app_context():
        state = app.extensions["crm"]
        lead = state.models.model("lead")
        names = list(state.db.session.scalars(sa.select(lead.name)))
        log = state.models.core["crm_import_row"]
        logged = {r.row: (r.outcome, r.reason) for r in state.db.session.execute(
            sa.select(log.c.row, log.c.outcome, log.c.reason).where(log.c.job_id == job.id))}
        state.db.session.remove()
    assert len(names) == 97 == len(set(names)) and "线索030" not in names
    assert len(logged) == 100 and logged[32][0] == logged[61][0] == "rejected"  # 61: not "duplicate of row 32"
    assert logged[56][0] == "duplicate" and "26" in logged[56][1]
    again = run_import(app, client, "lead", ("\n".join(lines) + "\n").encode(), "refused.csv")
    assert again.result["counts"]["created"] == 0


def test_slow_batches_do_not_shrink_below_the_floor(make_app: Any, tmp_path: Path, monkeypatch: Any,
                                                    caplog: Any) -> None:
    """A loaded machine (here a clock on which every batch takes 5 s) keeps batches of at least
    `CRM_IMPORT_BATCH_MIN_ROWS` rows after the first 20, not 20-row batches, with the same rows in."""
    from itertools import count

    from app.imports import run as import_run

    ticks = count(step=5.0)
    monkeypatch.setattr(import_run, "batch_clock", lambda: next(ticks))
    app, client, lines = _leads_with_unique_company(make_app, tmp_path, 500)

    def sizes(name: str, data: list[str]) -> tuple[Any, list[int]]:
        caplog.clear()
        with caplog.at_level("DEBUG", logger="app.imports.run"):
            job = run_import(app, client, "lead", ("\n".join(data) + "\n").encode(), name)
        return job, [r.args[1] for r in caplog.records if "a batch of" in r.getMessage()]

    job, cut = sizes("slow.csv", lines)
    assert job.result["counts"]["created"] == 500
    assert cut == [20, 200, 200], cut  # then the last 80
    app.config["CRM_IMPORT_BATCH_MIN_ROWS"] = 150
    more = [lines[0]] + [f"线索{i:03d},公司{i:03d},l{i}@example.cn" for i in range(500, 900)]
    job, cut = sizes("slow-150.csv", more)
    assert job.result["counts"]["created"] == 400
    assert cut == [20, 150, 150], cut  # then the last 80
    with app.app_context():
        lead = app.extensions["crm"].models.model("lead")
        session = app.extensions["crm"].db.session
        assert session.scalar(sa.select(sa.func.count()).select_from(lead)) == 900
        session.remove()


def test_the_next_batch_size_keeps_its_floor_and_its_ceiling(monkeypatch: Any) -> None:
    from app.imports import run as import_run
    from app.imports.run import next_batch_size

    assert next_batch_size(200, 9.0, 200) == 200  # slow: the floor
    assert next_batch_size(200, 0.25, 200) == 400  # at pace: 0.5 s of rows
    assert next_batch_size(1000, 0.01, 200) == 1000  # fast: the ceiling
    assert next_batch_size(20, 9.0, 0) == 20  # no floor set: the first batch's size
    monkeypatch.setattr(import_run, "BATCH_ROWS", (20, 20))  # the tests that cut batches of 20
    assert next_batch_size(20, 9.0, 200) == 20
