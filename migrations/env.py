from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

import notes.models  # noqa: F401  (registers every table on the metadata)
from core.db import Base
from migrations import include_object

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True, include_object=include_object
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    # Plain `alembic` CLI use: a synchronous URL in sqlalchemy.url (e.g. postgresql+psycopg://...).
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _configure(connection)


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run them against a database")
run()
