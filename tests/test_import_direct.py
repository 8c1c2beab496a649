"""The import's write without the ORM (app/imports/direct.py) against the write through it, and
its cells read a column at a time (app/imports/columns.py) against cell by cell.

Two entities with the same fields get the same file, one with `CRM_IMPORT_WRITE=direct`,
one with `orm`: their records, outbox events, stage history and log lines must be the
same, row for row (both tables start at id 1, so even the ids agree), for a file with
Chinese text, 4-byte characters, GBK, normalised values, links by name, users by name,
autonumbers kept and given, duplicates (in the file and in the database) and bad rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import count_queries, login, write_tree
from tests.test_import_api import run_import

DEAL = """
label: {en: Deal, zh: 交易}
title: name
fields:
  number: {type: autonumber, format: "D-{0000}", label: {en: Number, zh: 编号}}
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
  company: {type: link, to: company, required: true, label: {en: Company, zh: 公司}}
  email: {type: email, unique: true, normalise: [email], label: {en: E-mail, zh: 邮箱}}
  amount: {type: money, min: 0, label: {en: Amount, zh: 金额}}
  close_date: {type: date, label: {en: Close date, zh: 成交日期}}
  kind: {type: choice, default: new, label: {en: Kind, zh: 类型},
         choices: [{value: new, label: {en: New, zh: 新业务}}, {value: renewal, label: {en: Renewal, zh: 续约}}]}
  engineer: {type: user, label: {en: Engineer, zh: 工程师}}
  note: {type: text, required_if: "amount > 1000000", label: {en: Note, zh: 备注}}
  probability: {type: percent, label: {en: Probability, zh: 赢单率}}
pipelines:
  - name: sales
    field: stage
    probability_field: probability
    stages:
      - {name: open, label: {en: Open, zh: 打开}, probability: 10}
      - {name: won, label: {en: Won, zh: 成交}, probability: 100, requires: [amount]}
validate:
  - rule: is_empty(amount) or amount != 13
    message: {en: Not this amount., zh: 金额不吉利。}
    fields: [amount]
"""
COMPANY = """
label: {en: Company, zh: 公司}
title: name
fields:
  name: {type: string, required: true, unique: true, label: {en: Name, zh: 名称}}
"""
HEADER = "名称,公司,邮箱,金额,成交日期,类型,工程师,编号,阶段,备注\r\n"
ROWS = (
    "甲 𩸽 😀,北京 𩸽 公司,Zhang@Example.CN,\"¥12,345.60\",2026/3/5,续约,admin,,,\r\n"
    "乙,上海公司,li@example.cn,100,2026-04-01,新业务,,D-0100,成交,\r\n"
    "丙 重复,北京 𩸽 公司, Zhang@Example.CN ,5,2026/1/1,,,,,\r\n"           # same e-mail as row 2
    "丁 坏邮箱,上海公司,not-an-email,5,,,,,,\r\n"                         # rejected: e-mail
    "戊 没有公司,无此公司,wu@example.cn,5,,,,,,\r\n"                      # rejected: no such company
    "己 十三,上海公司,ji@example.cn,13,2019/12/31,,,,,\r\n"               # rejected: the rule
    "庚 大单,上海公司,geng@example.cn,2000000,,,,,,\r\n"                  # rejected: required_if
    "辛 已有,上海公司,old@example.cn,7,,,,,,\r\n"                         # duplicate of a record
    "壬,上海公司,ren@example.cn,-1,,,,,,\r\n"                              # rejected: min
    "癸 多行,北京 𩸽 公司,gui@example.cn,8,2026/12/31,,无此人,,,\r\n"    # rejected: no such user
    "子,北京 𩸽 公司,zi@example.cn,9.5,,,,D-0007,,\"第一行\r\n第二行\"\r\n"
    "丑 成交无额,上海公司,chou@example.cn,,,,,,成交,\r\n"                 # rejected: won requires amount
)


@pytest.fixture
def plain_twin_app(make_app: Any, tmp_path: Path) -> Any:
    """The twins without their autonumber (an entity with one is not overlapped, see overlap.py)."""
    deal = DEAL.replace('  number: {type: autonumber, format: "D-{0000}", label: {en: Number, zh: 编号}}\n', "")
    assert "autonumber" not in deal
    return twins_with_companies(make_app, tmp_path / "plain", COMPANY, deal,
                                [{"name": "北京 𩸽 公司"}, {"name": "上海公司"}])


def twins_with_companies(make_app: Any, folder: Path, company_yaml: str, deal_yaml: str,
                         companies: list[dict[str, Any]]) -> Any:
    """An app with two identical deal entities (deal_a, deal_b) and the given companies committed."""
    tree = write_tree(folder / "meta", {"company": company_yaml, "deal_a": deal_yaml, "deal_b": deal_yaml})
    app = make_app(tree, CRM_FILES_DIR=str(folder / "files"))
    with app.app_context():
        state = app.extensions["crm"]
        company = state.models.model("company")
        state.db.session.add_all([company(**values) for values in companies])
        state.db.session.commit()
        state.db.session.remove()
    return app


@pytest.fixture
def twin_app(make_app: Any, tmp_path: Path) -> Any:
    tree = write_tree(tmp_path / "meta", {"company": COMPANY, "deal_a": DEAL, "deal_b": DEAL})
    app = make_app(tree, CRM_FILES_DIR=str(tmp_path / "files"))
    with app.app_context():
        state = app.extensions["crm"]
        session = state.db.session
        company = state.models.model("company")
        session.add_all([company(name="北京 𩸽 公司"), company(name="上海公司")])
        session.flush()
        for entity in ("deal_a", "deal_b"):  # a record already there: the file's row 9 is its duplicate
            model = state.models.model(entity)
            session.add(model(name="已有", company_id=1, email="old@example.cn", stage="open"))
        session.commit()
        session.remove()
    return app


def _import(app: Any, entity: str, data: bytes, write: str, read: str = "columns", **body: Any) -> Any:
    app.config["CRM_IMPORT_WRITE"] = write
    app.config["CRM_IMPORT_READ"] = read
    client = login(app.test_client())
    return run_import(app, client, entity, data, "交易.csv", **body)


def _snapshot(app: Any, entity: str, job_id: int | None, raw_events: bool = False) -> dict[str, Any]:
    """What an import left, with what legitimately differs (the clock, the entity's name) left out
    (`raw_events`: the events' JSON as stored, not parsed; `job_id` None: no log lines)."""
    with app.app_context():
        state = app.extensions["crm"]
        session = state.db.session
        table = state.models.model(entity).__table__
        skip = {"created_on", "changed_on"}
        records = [{k: v for k, v in row._mapping.items() if k not in skip}
                   for row in session.execute(sa.select(table).order_by(table.c.id))]
        event = state.models.core["crm_event"]
        events = [(r.record_id, r.kind, r.changes if raw_events else json.loads(r.changes), r.actor_id,
                   r.automation, r.depth)
                  for r in session.execute(sa.select(event).where(event.c.entity == entity).order_by(event.c.id))]
        history = state.models.core["crm_stage_history"]
        moves = [(r.record_id, r.pipeline, r.from_stage, r.to_stage, r.moved_by_id, r.seconds_in_from)
                 for r in session.execute(sa.select(history).where(history.c.entity == entity)
                                          .order_by(history.c.record_id, history.c.id))]
        log = state.models.core["crm_import_row"]
        lines = [(r.row, r.outcome, r.record_id, r.version, r.column, r.reason, r.data)
                 for r in session.execute(sa.select(log).where(log.c.job_id == job_id).order_by(log.c.row))]
        counter = state.models.core["crm_counter"]
        last = session.scalar(sa.select(counter.c.last).where(counter.c.entity == entity))
        session.remove()
    return {"records": records, "events": events, "history": moves, "lines": lines, "counter": last}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_direct_write_and_orm_write_leave_the_same_records_events_and_errors(twin_app: Any, encoding: str) -> None:
    rows = ROWS if encoding != "gbk" else ROWS.replace(" 𩸽", "").replace(" 😀", "").replace("¥", "￥")  # GBK: no 4-byte chars, no ¥
    data = (HEADER + rows).encode(encoding)
    if encoding == "gbk":
        with twin_app.app_context():
            state = twin_app.extensions["crm"]
            company = state.models.model("company")
            state.db.session.execute(sa.update(company).where(company.id == 1).values(name="北京 公司"))
            state.db.session.commit()
            state.db.session.remove()
    direct = _import(twin_app, "deal_a", data, "direct")
    orm = _import(twin_app, "deal_b", data, "orm")
    assert direct.result["counts"] == orm.result["counts"] == {
        "created": 3, "updated": 0, "unchanged": 0, "duplicate": 2, "rejected": 7}
    a, b = _snapshot(twin_app, "deal_a", direct.id), _snapshot(twin_app, "deal_b", orm.id)
    assert a == b
    created = [r for r in a["records"] if r["name"] != "已有"]
    assert [r["number"] for r in created] == ["D-0101", "D-0100", "D-0007"]  # blank numbered past the kept
    assert created[0]["kind"] == "renewal" and created[0]["engineer_id"] == 1
    assert created[0]["stage"] == "open" and float(created[0]["probability"]) == 10 and created[0]["version"] == 1
    if encoding != "gbk":
        assert created[0]["name"] == "甲 𩸽 😀"  # 4-byte characters kept byte-exact
    assert created[2]["note"] == "第一行\r\n第二行" or created[2]["note"] == "第一行\n第二行"
    assert [e[1] for e in a["events"]] == ["created"] * 4  # the fixture's record (through the ORM) and 3
    assert len(a["history"]) == 3 and a["counter"] == 101
    again = _import(twin_app, "deal_a", data, "direct")  # idempotent
    assert again.result["counts"]["created"] == 0 and again.result["counts"]["duplicate"] == 5


def test_direct_write_statements_per_batch_are_bounded(twin_app: Any) -> None:
    """900 rows: the statements do not grow with the rows (COPY is one statement a table and batch;
    SQLite: one executemany for the records)."""
    lines = [HEADER.strip()] + [f"交易 {i},上海公司,d{i}@example.cn,{i},2026/5/{i % 28 + 1},,,,," for i in range(900)]
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    with count_queries(twin_app) as statements:
        job = _import(twin_app, "deal_a", data, "direct")
    counts = job.result["counts"]
    assert counts["created"] == 899 and counts["rejected"] == 1  # 交易 13: the amount the rule refuses
    mine = [s for s in statements if "crm_job" not in s]
    inserts = [s for s in mine if s.lstrip().upper().startswith("INSERT INTO DEAL_A")]
    with twin_app.app_context():
        state = twin_app.extensions["crm"]
        dialect = state.db.engine.dialect.name
    assert len(mine) - len(inserts) < 120, len(mine) - len(inserts)
    if dialect == "postgresql":  # ids from the sequence, the rows by COPY; SQLite: one in-process call a row
        assert not inserts and any("nextval" in s for s in mine)
    with twin_app.app_context():
        event = state.models.core["crm_event"]
        assert state.db.session.scalar(sa.select(sa.func.count()).select_from(event).where(
            event.c.entity == "deal_a")) == 1 + 899  # the fixture's record, then the file's
        state.db.session.remove()


def test_cells_read_by_column_and_by_cell_leave_the_same_records_events_and_errors(twin_app: Any) -> None:
    """The same file, its cells read a column at a time (`CRM_IMPORT_READ=columns`) into one entity
    and cell by cell into the other: the same records, events, stage history, log lines and
    messages; a company cell of spaces is a rejected row (required), not a failed job."""
    extra = ("寅 空公司,  ,yin@example.cn,\"1,234.5\",2026年7月8日,RENEWAL,,,,\r\n"
             "卯,上海公司,mao@example.cn,¥12.345,2026/2/30,其他,,,,\r\n"           # rejected: no such date
             "辰,上海公司,chen@example.cn,１２,2026/2/28,新业务,,,,\r\n")        # full-width digits
    data = (HEADER + ROWS + extra).encode("utf-8")
    columns = _import(twin_app, "deal_a", data, "direct", "columns")
    cells = _import(twin_app, "deal_b", data, "direct", "cells")
    assert columns.state == cells.state == "done"
    assert columns.result["counts"] == cells.result["counts"] == {
        "created": 4, "updated": 0, "unchanged": 0, "duplicate": 2, "rejected": 9}
    a, b = _snapshot(twin_app, "deal_a", columns.id), _snapshot(twin_app, "deal_b", cells.id)
    assert a == b
    by_row = {line[0]: line for line in a["lines"]}
    assert by_row[14][1] == "rejected" and by_row[14][4] == "公司"  # the company of spaces: required
    assert by_row[15][1] == "rejected" and by_row[15][4] == "成交日期"
    assert [r["amount"] for r in a["records"] if r["name"] == "辰"] == [12]


def _deals(numbers: Any) -> bytes:
    """A file of deals numbered `numbers`: every 17th repeats the e-mail of deal i-3 (often in the batch
    before), every 23rd has the amount 13 (the rule refuses it)."""
    lines = [HEADER.strip()]
    for i in numbers:
        email = f"d{i}@example.cn" if i % 17 else f"d{i - 3}@example.cn"
        amount = "13" if i % 23 == 0 else f'"¥{i},000.50"'
        lines.append(f"交易 {i} 𩸽,{'上海公司' if i % 2 else '北京 𩸽 公司'},{email},{amount},2026/5/{i % 28 + 1},"
                     f"{'续约' if i % 3 == 0 else ''},,,,")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _same_both_ways(app: Any, data: bytes, first: dict[str, str],
                    second: dict[str, str]) -> tuple[dict[str, int], dict[str, Any]]:
    """`data` imported into deal_a with the settings `first`, into deal_b with `second`: the same counts
    and the same records, events, stage history and log lines (their counts and deal_a's snapshot)."""
    jobs = []
    for entity, config in (("deal_a", first), ("deal_b", second)):
        app.config.update(config)
        jobs.append(_import(app, entity, data, "direct"))
    app.config.update({"CRM_IMPORT_OVERLAP": "on", "CRM_IMPORT_READ_AHEAD": "on"})
    counts = jobs[0].result["counts"]
    assert counts == jobs[1].result["counts"]
    a, b = _snapshot(app, "deal_a", jobs[0].id), _snapshot(app, "deal_b", jobs[1].id)
    assert a == b
    return counts, a


def test_overlapped_and_one_after_the_other_writes_leave_the_same_records_events_and_errors(
        plain_twin_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: batches written while the next is judged (`CRM_IMPORT_OVERLAP=on`, app/imports/overlap.py)
    into one entity, one after the other (`off`) into its twin: the same records (ids included), events,
    stage history, log lines and counter. Batches of 20 rows, so a row of one batch repeats (the e-mail of)
    a row of the batch before, judged while that batch was still being written."""
    from app.imports import run as import_run

    with plain_twin_app.app_context():
        if plain_twin_app.extensions["crm"].db.engine.dialect.name != "postgresql":
            pytest.skip("the overlap is PostgreSQL's (SQLite writes one after the other)")
    monkeypatch.setattr(import_run, "BATCH_ROWS", (20, 20))
    data = _deals(range(130))
    counts, a = _same_both_ways(plain_twin_app, data, {"CRM_IMPORT_OVERLAP": "on"}, {"CRM_IMPORT_OVERLAP": "off"})
    assert counts["duplicate"] >= 7 and counts["rejected"] >= 5 and counts["created"] > 100, counts
    assert [line[2] for line in a["lines"] if line[1] == "created"] == sorted(
        line[2] for line in a["lines"] if line[1] == "created")  # batches committed in file order
    again = _import(plain_twin_app, "deal_a", data, "direct")  # idempotent
    assert again.result["counts"]["created"] == 0


def test_keys_read_ahead_and_read_in_turn_leave_the_same_records_events_and_errors(
        plain_twin_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL with the overlap: each batch's key query read on a connection of its own while the
    batch before is judged (`CRM_IMPORT_READ_AHEAD=on`, overlap.py) into one entity, read in turn
    (`off`) into its twin. Both twins hold 40 records of an earlier import, repeated by rows of
    several batches (duplicates of a record), and rows repeat rows of the batch before (duplicates of
    a row, judged while that batch was being written): the same records, events, stage history, log
    lines and counts (a cancel with a batch read ahead: tests/test_import_commit.py)."""
    from app.imports import run as import_run

    with plain_twin_app.app_context():
        if plain_twin_app.extensions["crm"].db.engine.dialect.name != "postgresql":
            pytest.skip("the overlap is PostgreSQL's (SQLite writes one after the other)")
    monkeypatch.setattr(import_run, "BATCH_ROWS", (20, 20))
    earlier, data = _deals(range(0, 120, 3)), _deals(range(130))
    plain_twin_app.config["CRM_IMPORT_OVERLAP"] = "off"
    for entity in ("deal_a", "deal_b"):
        assert _import(plain_twin_app, entity, earlier, "direct").result["counts"]["created"] > 30
    counts, a = _same_both_ways(plain_twin_app, data, {"CRM_IMPORT_OVERLAP": "on", "CRM_IMPORT_READ_AHEAD": "on"},
                                {"CRM_IMPORT_OVERLAP": "on", "CRM_IMPORT_READ_AHEAD": "off"})
    assert counts["duplicate"] >= 40 and counts["rejected"] >= 3 and counts["created"] > 70, counts
    reasons = {line[5] for line in a["lines"] if line[1] == "duplicate"}
    assert any(r.startswith("Record #") for r in reasons) and any(r.startswith("Same as row") for r in reasons)


def test_overlap_applies_to_create_imports_on_postgresql_only(plain_twin_app: Any) -> None:
    """Which imports write a batch while they judge the next: create mode, the direct write,
    PostgreSQL, the setting not off."""
    from app.imports.mapping import ImportPlan
    from app.imports.overlap import overlap_ok
    from app.imports.run import Importer, import_tables
    from app.records.commands import RecordContext

    with plain_twin_app.app_context():
        state = plain_twin_app.extensions["crm"]
        ctx = RecordContext(state.db.session, state.models, "en", user_id=1)
        plan = {"entity": "deal_a", "mode": "create", "columns": ["名称"], "mapping": {"名称": "name"},
                "keys": [], "link_keys": {}}
        importer = Importer(ctx, ImportPlan.from_json(plan), import_tables(plain_twin_app), 0, "en")
        postgresql = state.db.engine.dialect.name == "postgresql"
        assert overlap_ok(importer, "on") is postgresql
        assert overlap_ok(importer, "off") is False
        upsert = Importer(ctx, ImportPlan.from_json({**plan, "mode": "upsert", "keys": ["name"]}),
                          import_tables(plain_twin_app), 0, "en")
        assert overlap_ok(upsert, "on") is False
        importer.direct = False  # the ORM's write: its flush is the importing session's
        assert overlap_ok(importer, "on") is False
        state.db.session.remove()


def test_overlap_leaves_out_entities_with_an_autonumber(twin_app: Any) -> None:
    """An autonumber is given after the batch is judged: the next batch could not see it, so such an
    entity's batches are written one after the other."""
    from app.imports.mapping import ImportPlan
    from app.imports.overlap import overlap_ok
    from app.imports.run import Importer, import_tables
    from app.records.commands import RecordContext

    for app, expected in ((twin_app, False),):  # the same entity without one: the test above
        with app.app_context():
            state = app.extensions["crm"]
            if state.db.engine.dialect.name != "postgresql":
                pytest.skip("the overlap is PostgreSQL's")
            ctx = RecordContext(state.db.session, state.models, "en", user_id=1)
            plan = {"entity": "deal_a", "mode": "create", "columns": ["名称"], "mapping": {"名称": "name"},
                    "keys": [], "link_keys": {}}
            importer = Importer(ctx, ImportPlan.from_json(plan), import_tables(app), 0, "en")
            assert overlap_ok(importer, "on") is expected
            state.db.session.remove()
