"""The expression language: every function, in Python and in SQL (SQLite and PostgreSQL),
with the same answers; located errors for bad text, unknown fields and type mismatches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from app.expr import (
    SYNTAX,
    TYPE_MISMATCH,
    UNKNOWN_FIELD,
    ExprError,
    check,
    compile_sql,
    evaluate,
    fields_of,
    parse,
)

TZ = "Asia/Shanghai"


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "x_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(100))
    industry: Mapped[str | None] = mapped_column(sa.String(64))


class Deal(Base):
    __tablename__ = "x_deal"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(100))
    stage: Mapped[str | None] = mapped_column(sa.String(64))
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    probability: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 2))
    quantity: Mapped[int | None] = mapped_column(sa.Integer)
    close_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    created: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    hot: Mapped[bool | None] = mapped_column(sa.Boolean)
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("x_account.id"))
    account: Mapped[Account | None] = relationship()


SCOPE = {"name": "text", "stage": "text", "amount": "number", "probability": "number",
         "quantity": "number", "close_date": "date", "created": "datetime", "hot": "bool",
         "account": "number", "account.industry": "text", "account.name": "text"}


@pytest.fixture
def session(database_url: str) -> Any:
    engine = sa.create_engine(database_url)
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        account = Account(name="华为", industry="电信")
        db.add_all([
            Deal(id=1, name="大单 Alpha", stage="won", amount=Decimal("1280.50"), probability=Decimal("35"),
                 quantity=3, close_date=dt.date(2026, 3, 15), created=dt.datetime(2026, 1, 10, 8, 30),
                 hot=True, account=account),
            Deal(id=2, name=None, stage=None, amount=None, probability=Decimal("0"), quantity=0,
                 close_date=None, created=None, hot=None, account=None),
        ])
        db.commit()
        yield db
    engine.dispose()


def both(db: Session, text: str, deal_id: int = 1) -> tuple[Any, Any]:
    """(Python value, SQL value) of an expression for one deal, after type-checking it."""
    tree = parse(text)
    check(tree, SCOPE)
    deal = db.get(Deal, deal_id)
    python = evaluate(tree, deal, timezone=TZ)
    sql = db.execute(sa.select(compile_sql(tree, Deal, timezone=TZ)).where(Deal.id == deal_id)).scalar()
    return python, sql


def same(python: Any, sql: Any) -> Any:
    if isinstance(python, Decimal) or isinstance(sql, (Decimal, float)):
        assert sql is not None and python is not None
        assert Decimal(str(sql)) == python, (python, sql)
    elif isinstance(python, dt.date) and isinstance(sql, str):  # SQLite date arithmetic
        assert sql == python.isoformat()
    else:
        assert python == sql, (python, sql)
    return python


CASES = [
    ("amount * probability / 100", Decimal("448.175")),
    ("round_half_up(amount * probability / 100, 2)", Decimal("448.18")),
    ("round_half_up(2.675, 2)", Decimal("2.68")),
    ("round_half_up(-2.345, 2)", Decimal("-2.35")),
    ("round_half_up(1280.5, 0)", Decimal("1281")),
    ("amount + 1 - quantity", Decimal("1278.50")),
    ("-amount", Decimal("-1280.50")),
    ("amount / 0", None),
    ("amount / (quantity - 3)", None),
    ("quantity / 2", Decimal("1.5")),
    ("amount > 1000 and stage = 'won'", True),
    ("amount >= 2000 or hot", True),
    ("not hot", False),
    ("stage in [won, lost]", True),
    ("stage not in [won, lost]", False),
    ("stage != 'lost'", True),
    ("if(amount > 1000, 'big', 'small')", "big"),
    ("if(amount < 1000, 1, 2)", 2),
    ("days_between(created, close_date)", 64),
    ("days_between(close_date, add_days(close_date, 10))", 10),
    ("add_days(close_date, -15)", dt.date(2026, 2, 28)),
    ("close_date < add_days(today(), 36500)", True),
    ("created < now()", True),
    ("concat(name, ' / ', account.industry, ' / ', quantity)", "大单 Alpha / 电信 / 3"),
    ("upper(name)", "大单 ALPHA"),
    ("lower(name)", "大单 alpha"),
    ("coalesce(null, account.name, 'x')", "华为"),
    ("is_empty(name)", False),
    ("is_empty(stage) or is_empty(amount)", False),
    ("account.industry = '电信'", True),
    ("upper(account.industry)", "电信"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_every_function_gives_the_same_answer_in_python_and_sql(session: Session, text: str,
                                                                 expected: Any) -> None:
    python, sql = both(session, text)
    assert same(python, sql) == expected


EMPTY_CASES = [
    ("amount * probability", None),
    ("amount / probability", None),
    ("quantity / probability", None),
    ("round_half_up(amount, 2)", None),
    ("days_between(created, close_date)", None),
    ("add_days(close_date, 3)", None),
    ("upper(name)", None),
    ("concat(name, '-', stage)", "-"),
    ("coalesce(amount, 0)", 0),
    ("is_empty(name)", True),
    ("is_empty(amount)", True),
    ("if(amount > 5, 'a', 'b')", "b"),
    ("account.industry", None),
    ("amount > 5 or quantity = 0", True),
]


@pytest.mark.parametrize(("text", "expected"), EMPTY_CASES)
def test_empty_operands_and_division_by_zero_give_empty_not_an_error(session: Session, text: str,
                                                                       expected: Any) -> None:
    python, sql = both(session, text, deal_id=2)
    if expected is None:
        assert python is None and sql is None
    else:
        assert python == expected and (sql == expected or str(sql) == str(expected))


def test_today_is_the_date_in_the_crm_time_zone() -> None:
    late_utc = dt.datetime(2026, 5, 31, 20, 0, tzinfo=dt.UTC)  # already 1 June in Shanghai
    tree = parse("today()")
    assert evaluate(tree, {}, timezone="Asia/Shanghai", now=late_utc) == dt.date(2026, 6, 1)
    assert evaluate(tree, {}, timezone="UTC", now=late_utc) == dt.date(2026, 5, 31)
    assert evaluate(parse("now()"), {}, now=late_utc) == dt.datetime(2026, 5, 31, 20, 0)


def test_sql_today_is_read_at_execution_in_the_crm_time_zone(session: Session) -> None:
    expression = compile_sql(parse("today()"), Deal, timezone=TZ)
    value = session.execute(sa.select(expression)).scalar()
    assert same(dt.datetime.now(ZoneInfo(TZ)).date(), value)


def test_filter_and_sort_by_an_expression_in_sql(session: Session) -> None:
    weighted = compile_sql(parse("coalesce(amount, 0) * probability / 100"), Deal, timezone=TZ)
    rows = session.execute(sa.select(Deal.id).where(weighted > 10).order_by(weighted.desc())).all()
    assert [r.id for r in rows] == [1]


def test_evaluate_reads_plain_mappings_and_nested_links() -> None:
    record = {"amount": 10.1, "account": {"industry": "零售"}}
    assert evaluate(parse("amount * 2"), record) == Decimal("20.2")
    assert evaluate(parse("account.industry"), record) == "零售"
    assert evaluate(parse("account.industry"), {"account": None}) is None


def test_fields_of_lists_references_for_dependency_graphs() -> None:
    tree = parse("if(a > 1, account.industry, concat(b, c))")
    assert [f.dotted for f in fields_of(tree)] == ["a", "account.industry", "b", "c"]


@pytest.mark.parametrize(("text", "code", "pos", "words"), [
    ("amount *", SYNTAX, 9, "unexpected the end"),
    ("amount # 2", SYNTAX, 8, "unexpected character"),
    ("(amount", SYNTAX, 8, "expected ')'"),
    ("amount amount", SYNTAX, 8, "unexpected 'amount'"),
    ("", SYNTAX, 1, "empty"),
    ("stage in []", SYNTAX, 7, "empty"),
    ("stage in [-amount]", SYNTAX, 11, "must be values"),
    ("stage in [amount + 1]", SYNTAX, 18, "expected ','"),
    ("sqrt(amount)", SYNTAX, 1, "unknown function 'sqrt'"),
    ("amout * 2", UNKNOWN_FIELD, 1, "unknown field 'amout'"),
    ("account.industri", UNKNOWN_FIELD, 1, "unknown field 'account.industri'"),
    ("name * 2", TYPE_MISMATCH, 1, "needs number, got text"),
    ("amount > 'big'", TYPE_MISMATCH, 8, "cannot compare number with text"),
    ("amount and hot", TYPE_MISMATCH, 1, "needs bool"),
    ("if(amount, 1, 2)", TYPE_MISMATCH, 4, "needs bool"),
    ("if(hot, 1, 'x')", TYPE_MISMATCH, 12, "the others number"),
    ("upper(amount)", TYPE_MISMATCH, 7, "needs text"),
    ("round_half_up(amount)", TYPE_MISMATCH, 1, "takes 2 arguments"),
    ("add_days(name, 1)", TYPE_MISMATCH, 10, "needs date"),
    ("stage in [1, 2]", TYPE_MISMATCH, 11, "'in' compares text"),
])
def test_bad_expressions_give_a_located_error_with_a_stable_code(text: str, code: str, pos: int,
                                                                 words: str) -> None:
    with pytest.raises(ExprError) as caught:
        check(parse(text), SCOPE)
    assert caught.value.code == code
    assert caught.value.pos == pos
    assert words in str(caught.value)


def test_unknown_names_get_a_did_you_mean_hint() -> None:
    with pytest.raises(ExprError) as caught:
        check(parse("amout + 1"), SCOPE)
    assert caught.value.hint == "did you mean 'amount'?"
    with pytest.raises(ExprError) as caught:
        check(parse("upperr(name)"), SCOPE)
    assert "upper" in caught.value.hint


def test_check_accepts_a_resolver_function_and_returns_types() -> None:
    def scope(path: tuple[str, ...]) -> str | None:
        return {"amount": "number", "close_date": "date"}.get(".".join(path))

    assert check(parse("amount * 2"), scope) == "number"
    assert check(parse("add_days(close_date, 1) > today()"), scope) == "bool"
    assert check(parse("concat(amount, '元')"), scope) == "text"
    assert check(parse("coalesce(amount, 0)"), scope) == "number"
    with pytest.raises(ExprError):
        check(parse("nope"), scope)


def test_calls_to_anything_outside_the_function_table_are_refused() -> None:
    with pytest.raises(ExprError) as caught:
        check(parse("__import__('os')"), SCOPE)
    assert caught.value.code == SYNTAX
