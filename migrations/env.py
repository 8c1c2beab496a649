"""Alembic environment for MetaCRM: runs the revisions `flask crm apply` writes.

Revisions are generated from the metadata (not hand-written), kept in git
next to it, and run on the connection the CLI hands over (or the configured
database when run as `alembic upgrade head`).
"""

from alembic import context
from sqlalchemy import create_engine

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    from app.settings import load_settings

    engine = create_engine(config.get_main_option("sqlalchemy.url") or load_settings()["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        _migrate(conn)


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite",
                      transactional_ddl=connection.dialect.name != "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run()
