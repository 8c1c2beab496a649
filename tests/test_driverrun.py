"""A kept SELECT run on the driver's cursor (app/models/driverrun.py) answers as SQLAlchemy does:
the same rows, the same listeners called, the same exceptions; statements SQLAlchemy must
process per call stay on SQLAlchemy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.models.driverrun import DriverStatement

metadata = sa.MetaData()
thing = sa.Table("drv_thing", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(40)), sa.Column("day", sa.Date), sa.Column("amount", sa.Numeric(12, 2)))


class Shouted(sa.types.TypeDecorator):
    """A type whose values SQLAlchemy changes on the way out: never run on the driver."""

    impl = sa.String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()


@pytest.fixture
def engine(database_url: str) -> Any:
    engine = sa.create_engine(database_url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(thing.insert(), [{"id": i, "name": f"n{i}", "day": dt.date(2026, 1, i), "amount": i * 1.5}
                                      for i in range(1, 6)])
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def _rows(engine: Any, kept: DriverStatement, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in kept.rows(conn, params)]


def test_rows_on_the_driver_are_sqlalchemys(engine: Any) -> None:
    stmt = sa.select(thing.c.id, thing.c.name).where(thing.c.id > sa.bindparam("low", type_=sa.Integer())) \
        .order_by(thing.c.id)
    kept = DriverStatement(stmt)
    first = _rows(engine, kept, low=2)  # through SQLAlchemy: the compiled form is kept
    assert kept.compiled is not None
    assert first == [(3, "n3"), (4, "n4"), (5, "n5")]
    assert _rows(engine, kept, low=3) == [(4, "n4"), (5, "n5")]  # on the driver, with this call's values
    with engine.connect() as conn:
        counted = DriverStatement(sa.select(sa.func.count()).select_from(thing).where(
            thing.c.id > sa.bindparam("low", type_=sa.Integer())))
        assert [counted.scalar(conn, {"low": n}) for n in (0, 1, 4)] == [5, 4, 1]


def test_listeners_see_each_run(engine: Any) -> None:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    kept = DriverStatement(sa.select(thing.c.id).where(thing.c.id == sa.bindparam("pk", type_=sa.Integer())))
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert _rows(engine, kept, pk=1) == [(1,)]
        assert _rows(engine, kept, pk=2) == [(2,)]
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 2 and seen[0][0] == seen[1][0]
    assert list(seen[1][1].values() if isinstance(seen[1][1], dict) else seen[1][1]) == [2]


def test_processed_columns_stay_on_sqlalchemy(engine: Any) -> None:
    shouted = sa.type_coerce(thing.c.name, Shouted())
    kept = DriverStatement(sa.select(thing.c.id, shouted).where(thing.c.id == sa.bindparam("pk", type_=sa.Integer())))
    assert _rows(engine, kept, pk=1) == [(1, "N1")]
    assert kept.compiled is None
    assert _rows(engine, kept, pk=2) == [(2, "N2")]
    # dates and decimals as SQLAlchemy returns them, whichever path the dialect allows
    typed = DriverStatement(sa.select(thing.c.day, thing.c.amount).where(thing.c.id == sa.bindparam("pk")))
    for pk in (2, 3):
        assert _rows(engine, typed, pk=pk) == [(dt.date(2026, 1, pk), pytest.approx(pk * 1.5))]
        with engine.connect() as conn:
            day, amount = typed.rows(conn, {"pk": pk})[0]
        assert type(day) is dt.date and isinstance(amount, Decimal)


def test_driver_errors_are_sqlalchemys(engine: Any) -> None:
    kept = DriverStatement(sa.select(thing.c.id).where(thing.c.name == sa.bindparam("name", type_=sa.String())))
    assert _rows(engine, kept, name="n1") == [(1,)]
    assert kept.compiled is not None
    with engine.connect() as conn, pytest.raises(sa.exc.StatementError) as on_driver:
        kept.rows(conn, {"name": object()})  # no driver can bind it
    with engine.connect() as conn, pytest.raises(sa.exc.StatementError) as on_sqlalchemy:
        kept.rows(conn, {"name": object()}, sqlalchemy_only=True)
    assert type(on_driver.value) is type(on_sqlalchemy.value)
    assert _rows(engine, kept, name="n2") == [(2,)]  # the pool's connections still work


def test_an_echoing_engine_logs_every_run(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    engine = sa.create_engine(database_url, echo=True)
    kept = DriverStatement(sa.select(sa.literal_column("1")).where(sa.bindparam("x", type_=sa.Integer()) > 0))
    try:
        with caplog.at_level("INFO", logger="sqlalchemy.engine"):
            for x in (1, 2, 3):
                with engine.connect() as conn:
                    assert [tuple(r) for r in kept.rows(conn, {"x": x})] == [(1,)]
        assert sum("SELECT 1" in r.getMessage() for r in caplog.records) == 3
    finally:
        engine.dispose()


def test_internals_a_sqlalchemy_release_renamed_keep_the_statement_on_sqlalchemy(engine: Any) -> None:
    """The driver path reads SQLAlchemy internals (its result metadata's processors, the compiled
    form's bind processors): a release without one of them failed every list with AttributeError."""
    from types import SimpleNamespace

    from app.models.driverrun import plain_compiled

    stmt = sa.select(thing.c.id).where(thing.c.id > sa.bindparam("low", type_=sa.Integer()))
    with engine.connect() as conn:
        result = conn.execute(stmt, {"low": 1})
        assert plain_compiled(result) is not None  # as this release has them
        renamed = SimpleNamespace(context=result.context, _metadata=SimpleNamespace(returns_rows=True))
        assert plain_compiled(renamed) is None  # no _tuplefilter / _effective_processors
        result.all()
