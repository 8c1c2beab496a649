"""A kept SELECT run as its compiled SQL on the driver's cursor (issue 18).

SQLAlchemy runs a statement whose compiled form it has cached in ~0.19 ms of CPU against
~0.11 ms for the driver alone: the statement's cache key walked again, an execution context,
the parameters' processing, the result's metadata and a `Row` per row. A list's two statements
are built once per request shape and kept (app/web/listread.py), so their compiled form can be
kept too. `DriverStatement` runs its statement through SQLAlchemy the first time on a dialect
and keeps what SQLAlchemy compiled when nothing of that run needs SQLAlchemy per call: no
result column with a type's processing (as the driver returns it is as SQLAlchemy returns it),
no expanding or literal-execute parameter (those rewrite the SQL per call), no schema
translation, nothing prefetched. Later runs build the parameters as SQLAlchemy's execution does
(`construct_params`, the types' bind processing, escaped names, positional order) and send the
kept SQL on a cursor of the same connection, returning the driver's tuples (read by position,
as `Row`s were).

What sits around SQLAlchemy's cursor call stays: the engine's `before_cursor_execute` and
`after_cursor_execute` listeners are called with the same arguments but the execution context
(None here; statement counting in tests and bench, the caches' write watchers), and a driver
error becomes SQLAlchemy's exception through the connection's own handler (a statement timeout
is the same `OperationalError`; a lost connection is invalidated). A statement or connection
where any of that does not hold runs through SQLAlchemy, as before; so does every run when
`CRM_REQUEST_FRAME` is not "lean" (the caller's choice, `sqlalchemy_only`) or the engine echoes
its SQL (`SQLALCHEMY_ECHO`: SQLAlchemy's log line per statement).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

NOT_KEPT = object()


class DriverStatement:
    """A SELECT and, per dialect, its compiled form when it may run on the driver (else None)."""

    __slots__ = ("statement", "dialect", "compiled")

    def __init__(self, statement: Any):
        self.statement = statement
        self.dialect: Any = None
        self.compiled: Any = NOT_KEPT

    def rows(self, connection: sa.Connection, params: dict[str, Any], sqlalchemy_only: bool = False) -> list[Any]:
        """The statement's rows for `params` (bound parameter keys as SQLAlchemy's `execute` takes them)."""
        dialect = connection.dialect
        if sqlalchemy_only or self.dialect is not dialect or self.compiled is None \
                or getattr(connection, "_echo", False):  # SQLALCHEMY_ECHO: SQLAlchemy logs each run
            result = connection.execute(self.statement, params)
            if not sqlalchemy_only and self.dialect is not dialect:
                self.compiled, self.dialect = plain_compiled(result), dialect
            return result.all()
        return run_compiled(connection, self.compiled, params)

    def scalar(self, connection: sa.Connection, params: dict[str, Any], sqlalchemy_only: bool = False) -> Any:
        """The one value of a one-row, one-column statement (as `scalar_one`)."""
        rows = self.rows(connection, params, sqlalchemy_only)
        if len(rows) != 1:
            raise sa.exc.NoResultFound("No row was found when one was required") if not rows else \
                sa.exc.MultipleResultsFound("Multiple rows were found when exactly one was required")
        return rows[0][0]


def plain_compiled(result: Any) -> Any:
    """What SQLAlchemy compiled for `result`'s statement when later runs may skip SQLAlchemy, else None.

    The checks read SQLAlchemy internals; a release that renamed one of them (an AttributeError
    here) keeps every statement on SQLAlchemy instead of failing the request."""
    try:
        return _plain_compiled(result)
    except AttributeError:
        return None


def _plain_compiled(result: Any) -> Any:
    context = getattr(result, "context", None)
    compiled = getattr(context, "compiled", None)
    metadata = getattr(result, "_metadata", None)
    if compiled is None or metadata is None or not getattr(metadata, "returns_rows", False):
        return None
    if compiled.literal_execute_params or compiled.post_compile_params or compiled.schema_translate_map \
            or compiled.insert_prefetch or compiled.update_prefetch or context.execution_options.get(
                "schema_translate_map") or compiled.isinsert or compiled.isupdate or compiled.isdelete:
        return None
    if metadata._tuplefilter is not None or metadata._effective_processors is not None:
        return None  # a column SQLAlchemy processes (or reorders): the driver's value would differ
    for name in ("_bind_processors", "construct_params", "escaped_bind_names", "positional", "string"):
        getattr(compiled, name)  # what driver_parameters and run_compiled read: there, or AttributeError
    if not callable(getattr(sa.engine.Connection, "_handle_dbapi_exception", None)):
        return None
    return compiled


def driver_parameters(compiled: Any, params: dict[str, Any]) -> Any:
    """The parameters SQLAlchemy would hand the driver for `params` (its `_init_compiled`)."""
    values = compiled.construct_params(params, escape_names=False)
    processors = compiled._bind_processors
    if processors:
        values = {key: processors[key](value) if key in processors else value for key, value in values.items()}
    if compiled.positional:
        return compiled.dialect.execute_sequence_format([values[key] for key in compiled.positiontup])
    escaped = compiled.escaped_bind_names
    return {escaped.get(key, key): value for key, value in values.items()} if escaped else values


def run_compiled(connection: sa.Connection, compiled: Any, params: dict[str, Any]) -> list[Any]:
    """`compiled` with `params` on a cursor of `connection`: the driver's rows."""
    statement = compiled.string
    parameters = driver_parameters(compiled, params)
    cursor = connection.connection.cursor()
    try:
        dispatch = connection.dispatch
        for listener in dispatch.before_cursor_execute:  # each returns (statement, parameters)
            statement, parameters = listener(connection, cursor, statement, parameters, None, False)
        cursor.execute(statement, parameters)
        for listener in dispatch.after_cursor_execute:
            listener(connection, cursor, statement, parameters, None, False)
        return cursor.fetchall()  # type: ignore[no-any-return]
    except BaseException as exc:
        connection._handle_dbapi_exception(exc, statement, parameters, cursor, None)
        raise
    finally:
        try:
            cursor.close()
        except Exception:  # noqa: S110 - a cursor of an invalidated connection: nothing to free
            pass
