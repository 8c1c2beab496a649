"""The compiled closures (app/expr/compiled.py) mean what the reference tree walk
(tests/expr_reference.py) and the SQL translation (app/expr/sql.py) mean: a table of
expressions run over records with empty values, Chinese text, Decimals, dates and datetimes,
in Python on the ORM objects and on plain dicts, and in SQL on the test database; values of
the wrong type (a mapping the type check never saw) raise the same error with the same message."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.expr import check, compile_python, compile_sql, compiled, evaluate, parse
from tests.expr_reference import evaluate as reference
from tests.test_expr import SCOPE, Account, Base, Deal

TZ = "Asia/Shanghai"
NOW = dt.datetime(2026, 5, 31, 20, 0, tzinfo=dt.UTC)  # already 1 June in Shanghai
COLUMNS = ("name", "stage", "amount", "probability", "quantity", "close_date", "created", "hot")

RECORDS: list[dict[str, Any]] = [
    dict(name="大单 Alpha", stage="won", amount=Decimal("1280.50"), probability=Decimal("35"), quantity=3,
         close_date=dt.date(2026, 3, 15), created=dt.datetime(2026, 1, 10, 8, 30), hot=True,
         account=("华为", "电信")),
    dict(name=None, stage=None, amount=None, probability=None, quantity=None, close_date=None, created=None,
         hot=None, account=None),
    dict(name="", stage="lost", amount=Decimal("0"), probability=Decimal("0"), quantity=0,
         close_date=dt.date(2026, 3, 15), created=dt.datetime(2026, 3, 15), hot=False, account=(None, None)),
    dict(name="深圳 𩸽 abc", stage="赢单", amount=Decimal("-2.35"), probability=Decimal("12.5"), quantity=-7,
         close_date=dt.date(2024, 2, 29), created=dt.datetime(2024, 2, 29, 23, 59, 59), hot=True,
         account=("阿里巴巴", "零售")),
    dict(name="小单", stage="won", amount=Decimal("2.67"), probability=Decimal("100"), quantity=1,
         close_date=None, created=dt.datetime(2026, 12, 31, 12), hot=None, account=("腾讯", None)),
]

# Every construct and function, type-checked against SCOPE: run by the reference, the closure and SQL.
EXPRESSIONS = [
    # arithmetic, Decimal and empty operands, division by zero
    "amount + quantity", "amount - probability", "amount * quantity", "-amount", "-(quantity * 2)",
    "amount * 1.5 + 2", "quantity - quantity", "(amount + 1) * (quantity - 1)", "amount + null",
    "amount / quantity", "quantity / 0", "amount / probability", "1 / 3", "quantity / 2", "amount / (quantity - 3)",
    # comparisons (a date against a datetime: the date at midnight)
    "amount > 1000", "amount = 0", "amount != 0", "quantity <= 0", "quantity >= 3", "amount < probability",
    "stage = 'won'", "stage != '赢单'", "name = '深圳 𩸽 abc'", "name = ''", "name > stage",
    "close_date = created", "created >= close_date", "created < close_date", "close_date <= created",
    "close_date > add_days(close_date, -1)", "hot = true", "hot != false", "amount = null",
    "amount != null", "null = null", "close_date != created", "add_days(created, 0) = created",
    # three-valued logic
    "hot and amount > 0", "hot or amount > 0", "not hot", "not (amount > 100)", "hot and stage = 'won'",
    "stage = 'won' or stage = 'lost'", "amount > 0 and quantity > 0 or hot", "not hot or null",
    "null and false", "null or true", "null and true", "null or false", "hot and null", "not null",
    "is_empty(name) or amount > 1000", "not is_empty(stage) and (hot or quantity < 0)",
    # in / not in
    "stage in [won, lost]", "stage not in [won, '赢单']", "quantity in [0, 3]", "amount in [1280.5, 0]",
    "quantity not in [1, -7]", "name in ['大单 Alpha', '']", "hot in [true]",
    "stage in [won, null]", "stage not in [null, won]", "quantity in [null]", "quantity not in [null]",
    # if
    "if(hot, amount, 0)", "if(amount > 1000, 'big', '小')", "if(null, 1, 2)", "if(hot, close_date, null)",
    "if(stage = 'won', quantity * 2, coalesce(quantity, -1))",
    # functions
    "days_between(close_date, created)", "days_between(created, close_date)", "add_days(close_date, quantity)",
    "add_days(created, 1)", "close_date < add_days(today(), 36500)", "created < now()",
    "round_half_up(amount * probability / 100, 2)", "round_half_up(amount, 0)", "round_half_up(-2.345, 2)",
    "round_half_up(amount / 3, 1)", "upper(name)", "lower(stage)", "upper(account.name)",
    "concat(amount)", "concat(hot)", "concat(close_date, ' ', created)", "concat(probability, '%')",
    "concat(name, '-', stage, '-', quantity)", "concat(account.industry, '/', account.name)", "concat(null)",
    "coalesce(amount, probability, 0)", "coalesce(name, stage, '无')", "coalesce(account.industry, '未知')",
    "is_empty(name)", "is_empty(amount)", "is_empty(account.industry)", "is_empty(close_date)",
    # links
    "account.industry = '电信'", "account.name", "account.industry", "account",
]

# Where the SQL translation differs from the Python meaning, by database: SQLite keeps decimals as
# floats and flags as 0/1, and SQLAlchemy stores its datetimes as text with microseconds, so text
# made of them reads 1280.5, 1 and '2026-01-10 08:30:00.000000' where Python (and PostgreSQL) say
# 1280.50, true and '2026-01-10 08:30:00'.
SQL_DIFFERS: dict[str, set[str]] = {
    "concat(amount)": {"sqlite"}, "concat(hot)": {"sqlite"}, "concat(close_date, ' ', created)": {"sqlite"},
    "concat(probability, '%')": {"sqlite"},
}


class Wrong:
    """An object record with an attribute of the wrong type."""

    amount = "¥12"
    created = dt.date(2026, 1, 1)


# Values no type check lets through a metadata expression, but a mapping can hold.
ODD_RECORDS: list[Any] = [
    {"amount": "abc", "quantity": 3, "name": 5, "close_date": "2026-01-01", "hot": 1, "stage": None},
    {"amount": 10.1, "quantity": 2.5, "name": ["a"], "close_date": dt.datetime(2026, 1, 1, 9), "hot": "yes"},
    {"amount": Decimal("NaN"), "quantity": Decimal("Infinity"), "probability": Decimal("-Infinity"),
     "created": dt.date(2026, 1, 1), "close_date": dt.datetime(2026, 1, 1), "stage": 0},
    {"amount": True, "quantity": False, "account": {"industry": 7, "name": {"x": 1}}, "hot": 0},
    {"account": 5, "close_date": "2026-02-30", "quantity": "3"},
    Wrong(), None,
]
ODD_EXPRESSIONS = EXPRESSIONS + [
    "amount * 2", "name + 1", "-name", "quantity / amount", "amount < 1", "stage > 1", "stage in [0, won]",
    "hot and true", "hot or false", "not hot", "upper(name)", "add_days(close_date, 1)",
    "days_between(close_date, created)", "round_half_up(quantity, amount)", "round_half_up(amount, 100000000)",
    "concat(amount, name, hot, created)", "account.industry + 1", "account.name.x", "if(amount, 1, 2)",
    "amount = amount", "amount != amount", "amount in [1]", "created = close_date", "created < close_date",
    "is_empty(name)", "coalesce(name, amount)", "add_days(close_date, amount)",
]


def outcome(run: Any) -> tuple[str, Any]:
    """('value', type and repr) or ('error', class and message): equal outcomes, exactly."""
    try:
        value = run()
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return "error", (type(exc).__name__, str(exc))
    return "value", (type(value).__name__, repr(value))


def as_dict(deal: Deal) -> dict[str, Any]:
    """The record as the record commands hand it to conditions: values by name, links as records."""
    return {**{name: getattr(deal, name) for name in COLUMNS}, "account": deal.account, "id": deal.id}


@pytest.fixture
def deals(database_url: str) -> Any:
    engine = sa.create_engine(database_url)
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        for number, values in enumerate(RECORDS, start=1):
            link = values["account"]
            company = Account(name=link[0], industry=link[1]) if link is not None else None
            db.add(Deal(id=number, account=company, **{k: v for k, v in values.items() if k != "account"}))
        db.commit()
        db.expire_all()  # Python reads what the database stored, as SQL does
        yield db, db.scalars(sa.select(Deal).order_by(Deal.id)).all()
    engine.dispose()


def same_value(python: Any, sql: Any) -> bool:
    """The SQL answer equals the Python one, as the database returns it (SQLite: floats for
    decimals, text for dates made by date(), 0/1 for flags)."""
    if python is None or sql is None:
        return python is None and sql is None
    if isinstance(python, bool) or isinstance(sql, bool):
        return bool(python) == bool(sql) and sql in (0, 1, True, False)
    if isinstance(python, (Decimal, int)) and isinstance(sql, (Decimal, int, float)):
        # a quotient's last digits: PostgreSQL's numeric keeps ~20, SQLite's float ~16 of which
        # SQLAlchemy returns 10 decimal places
        exact, other = Decimal(python), Decimal(str(sql))
        return abs(exact - other) <= max(abs(exact) * Decimal("1e-15"), Decimal("1e-10"))
    if isinstance(python, dt.date) and isinstance(sql, str):
        return sql == (python.isoformat(sep=" ") if isinstance(python, dt.datetime) else python.isoformat())
    return bool(python == sql)


def test_closures_reference_and_sql_agree_on_every_expression_and_record(deals: Any) -> None:
    db, records = deals
    dialect = db.get_bind().dialect.name
    mismatches = []
    for text in EXPRESSIONS:
        tree = parse(text)
        check(tree, SCOPE)  # every expression of the table is one metadata could hold
        run = compiled(text)
        sql = dict(db.execute(sa.select(Deal.id, compile_sql(tree, Deal, timezone=TZ)).order_by(Deal.id)).all())
        for deal in records:
            expected = outcome(lambda: reference(tree, deal, timezone=TZ, now=NOW))  # noqa: B023
            closure_on_object = outcome(lambda: run(deal, TZ, NOW))  # noqa: B023
            closure_on_dict = outcome(lambda: run(as_dict(deal), TZ, NOW))  # noqa: B023
            if not expected == closure_on_object == closure_on_dict:
                mismatches.append((text, deal.id, expected, closure_on_object, closure_on_dict))
            if "now()" in text or dialect in SQL_DIFFERS.get(text, ()):
                continue  # SQL's clock is the database's, not NOW
            python = reference(tree, deal, timezone=TZ, now=NOW)
            python = getattr(python, "id", python)  # a link reads as its id in SQL
            if not same_value(python, sql[deal.id]):
                mismatches.append((text, deal.id, "python", python, "sql", sql[deal.id]))
    assert not mismatches, "\n".join(map(repr, mismatches))


def test_closures_raise_what_the_reference_raises_for_values_of_the_wrong_type() -> None:
    mismatches, errors = [], 0
    for text in ODD_EXPRESSIONS:
        tree, run = parse(text), compiled(text)
        for record in ODD_RECORDS:
            expected = outcome(lambda: reference(tree, record, timezone=TZ, now=NOW))  # noqa: B023
            errors += expected[0] == "error"
            got = outcome(lambda: run(record, TZ, NOW))  # noqa: B023
            if got != expected:
                mismatches.append((text, record, expected, got))
    assert not mismatches, "\n".join(map(repr, mismatches))
    assert errors > 20  # the table does reach the operators' own errors (text + 1, text < 1, NaN < 1, ...)


def test_the_clock_is_read_per_evaluation_in_the_time_zone_given() -> None:
    run = compiled("today()")
    assert run({}, "Asia/Shanghai", NOW) == dt.date(2026, 6, 1)
    assert run({}, "UTC", NOW) == dt.date(2026, 5, 31)
    assert compiled("now()")({}, now=dt.datetime(2026, 5, 31, 20, 0)) == dt.datetime(2026, 5, 31, 20, 0)
    assert compiled("add_days(today(), 1) > today()")({}) is True  # the real clock when none is given


def test_a_text_is_compiled_once_and_evaluate_compiles_a_tree_on_the_spot() -> None:
    assert compiled("amount * 2") is compiled("amount * 2")
    tree = parse("concat(name, '：', amount / 3)")
    record = {"name": "订单", "amount": Decimal("10")}
    assert evaluate(tree, record) == compile_python(tree)(record) == reference(tree, record)
    assert evaluate(tree, record).startswith("订单：3.33333")
