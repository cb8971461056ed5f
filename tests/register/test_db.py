"""Migrations build the schema from empty, and an out-of-date schema is refused clearly."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from pydantic import ValidationError

from gate.cli import cli
from register.config import Settings
from register.db import (
    check_schema_current,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    open_register,
    scripts_head,
    upgrade,
)
from register.errors import DatabaseUnavailableError, SchemaOutOfDateError, UnknownSchemaError

TABLES = {"project", "scan_run", "risk_entry", "risk_acceptance", "risk_event", "api_token"}


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    assert upgrade(database_url) == head_revision()
    engine = make_engine(database_url)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    check_schema_current(engine)
    engine.dispose()


def test_the_expected_revision_is_the_newest_migration() -> None:
    assert head_revision() == scripts_head()


def test_the_stored_revision_is_read_as_alembic_reads_it(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None  # empty: no version table
        for revision in ("0001", "0007", "head", "0011", "base"):
            (downgrade if revision in ("0011", "base") else upgrade)(database_url, revision)
            with engine.connect() as connection:
                alembic_says = MigrationContext.configure(connection).get_current_revision()
            assert current_revision(engine) == alembic_says
        with engine.begin() as connection:  # two heads: not a line of revisions we know
            connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('0003'), ('0004')")
        with pytest.raises(UnknownSchemaError, match="several revisions"):
            open_register(database_url)
    finally:
        engine.dispose()


def test_recording_and_the_register_commands_load_without_alembic() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, gate.cli, register.cli, register.record_files, "
         "register.web.app; print(sorted(m for m in sys.modules if m.startswith('alembic')))"],
        capture_output=True, text=True, check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_empty_or_old_schema_is_refused_with_the_fix(database_url: str) -> None:
    with pytest.raises(SchemaOutOfDateError, match=r"revision none \(empty\).*gate db upgrade"):
        open_register(database_url)
    upgrade(database_url)
    assert downgrade(database_url, "base") == "base"
    with pytest.raises(SchemaOutOfDateError, match="run `gate db upgrade`"):
        open_register(database_url)


def test_cli_refuses_then_upgrades(database_url: str) -> None:
    runner = CliRunner()
    refused = runner.invoke(cli, ["register", "list", "--database", database_url])
    assert refused.exit_code == 2 and "run `gate db upgrade`" in refused.output
    upgraded = runner.invoke(cli, ["db", "upgrade", "--database", database_url])
    assert upgraded.exit_code == 0 and f"at revision {head_revision()}" in upgraded.output
    current = runner.invoke(cli, ["db", "current", "--database", database_url])
    assert f"revision {head_revision()}, expected {head_revision()}" in current.output


def test_unreachable_database_is_exit_2_naming_it_without_password() -> None:
    url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test"
    with pytest.raises(DatabaseUnavailableError, match=r"127\.0\.0\.1:1/test unavailable") as exc:
        open_register(url)
    assert "s3cret" not in str(exc.value)
    result = CliRunner().invoke(cli, ["register", "matrix", "--database", url])
    assert result.exit_code == 2 and "s3cret" not in result.output


def test_postgresql_pool_follows_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_DB_POOL_SIZE", "12")
    monkeypatch.setenv("GATE_DB_MAX_OVERFLOW", "3")
    settings = Settings()
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1/test",
                         pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    assert (engine.pool.size(), engine.pool._max_overflow) == (12, 3)  # type: ignore[attr-defined]
    monkeypatch.setenv("GATE_DB_POOL_SIZE", "0")
    with pytest.raises(ValidationError, match="db_pool_size"):
        Settings()
