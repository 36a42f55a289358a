"""Mechanical checks of the design: import directions, the committed schema, and authorization coverage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import strawberry

from api.policy import UnguardedFieldError, assert_every_field_guarded, policy, unguarded_fields
from api.schema import build_schema, printable_schema
from core.settings import ApiSettings

REPO = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    """api → notes → {transcription, nlp, authz} → core, engines and web libraries in their packages."""
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_committed_schema_matches_the_code() -> None:
    committed = (REPO / "schema.graphql").read_text()
    assert committed == printable_schema(), "schema.graphql is stale: run `ambient schema > schema.graphql`"


def test_every_root_field_and_resolver_declares_a_policy() -> None:
    schema = build_schema(ApiSettings(), introspection=True)
    assert unguarded_fields(schema) == []


@strawberry.type
class _Leaky:
    @strawberry.field
    def secret(self) -> str:
        return "x"


@strawberry.type
class _LeakyQuery:
    @strawberry.field(extensions=[policy("patient", "read")])  # type: ignore[untyped-decorator]  # sync resolver
    def guarded(self) -> _Leaky:
        return _Leaky()

    @strawberry.field
    def open_root(self) -> str:
        return "x"


def test_an_unguarded_resolver_is_refused() -> None:
    schema = strawberry.Schema(query=_LeakyQuery)
    missing = unguarded_fields(schema)
    assert len(missing) == 2 and "Leaky.secret" in missing and missing[1].endswith(".openRoot")
    with pytest.raises(UnguardedFieldError):
        assert_every_field_guarded(schema)


def test_migrations_produce_exactly_the_models(database_url: str) -> None:
    """No model change without its migration: autogenerate against the migrated database finds nothing."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    import notes.models  # noqa: F401  (every table on the metadata)
    from core.db import Base
    from migrations import include_object, psycopg_url

    engine = create_engine(psycopg_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
