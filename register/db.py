"""Engines, sessions and the schema check: SQLite (WAL, busy timeout) or PostgreSQL.

The schema is managed by the Alembic migrations packaged in `register/migrations`;
`upgrade(url)` runs them to head and `open_register(url)` refuses a database that is not there.
Alembic is imported only to migrate: opening the register reads the stored revision with one
query and compares it with `SCHEMA_HEAD` (importing Alembic and its scripts cost every
`gate register` command about a fifth of a second).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session

from register.errors import (
    DatabaseUnavailableError,
    RegisterInputError,
    SchemaOutOfDateError,
    UnknownSchemaError,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision: the schema this code reads and writes. A test checks that
# it is the head of the packaged scripts (`scripts_head`), so a new migration must move it.
SCHEMA_HEAD = "0012"
_VERSION_TABLE = "alembic_version"
BUSY_TIMEOUT_SECONDS = 30.0
SQLITE_BEGIN_OPTION = "sqlite_begin"


def parse_url(url: str) -> URL:
    """A SQLAlchemy URL, or a one-line error naming the bad value (exit 3)."""
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise RegisterInputError(f"invalid database URL {url!r}: {exc}") from exc


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and spool files."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.render_as_string(hide_password=True)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database, or SQLite in memory)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    name = parsed.database
    if name == ":memory:" or (name.startswith("file:") and "mode=memory" in name):
        return None
    return Path(name.removeprefix("file:").split("?", 1)[0])


def make_engine(
    url: str, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS, pool_size: int = 5,
    max_overflow: int = 5,
) -> Engine:
    """An engine for `url`: SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL a pool
    of `pool_size` connections plus up to `max_overflow` more under load (per process)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_timeout)
    return sa.create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
    )


def _sqlite_engine(url: URL, busy_timeout: float) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from pysqlite so `BEGIN IMMEDIATE` is possible (see on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # Writers ask for IMMEDIATE so they queue on the busy timeout instead of failing on upgrade.
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN DEFERRED")


def writer_engine(engine: Engine) -> Engine:
    """The same engine, asking SQLite for `BEGIN IMMEDIATE` (a no-op on PostgreSQL)."""
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configured in code, pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision the code expects."""
    return SCHEMA_HEAD


def scripts_head() -> str | None:
    """The head revision of the packaged migration scripts, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, None for an empty database (Alembic's version table,
    read as Alembic reads it)."""
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(_VERSION_TABLE):
                return None
            version = sa.table(_VERSION_TABLE, sa.column("version_num", sa.String))
            versions = connection.execute(sa.select(version.c.version_num)).scalars().all()
    except SQLAlchemyError as exc:
        raise unavailable(engine.url, exc) from exc
    if len(versions) > 1:
        raise UnknownSchemaError(
            f"database at {safe_url(engine.url)} is at several revisions ({', '.join(versions)});"
            f" this riskgate knows one line of revisions up to {SCHEMA_HEAD}"
        )
    return versions[0] if versions else None


def upgrade(url: str, revision: str = "head") -> str:
    """Run the migrations on `url` up to `revision`; returns the revision reached."""
    from alembic import command

    return _migrate(url, command.upgrade, revision)


def downgrade(url: str, revision: str) -> str:
    """Revert the migrations on `url` down to `revision` ("base" empties the schema)."""
    from alembic import command

    return _migrate(url, command.downgrade, revision)


def _migrate(url: str, step: Callable[[Config, str], None], revision: str) -> str:
    from alembic.util.exc import CommandError

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            step(alembic_config(connection), revision)
        return current_revision(engine) or "base"
    except SQLAlchemyError as exc:
        raise unavailable(engine.url, exc) from exc
    except CommandError as exc:  # a revision no migration of ours knows (a newer riskgate's)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnknownSchemaError(
            f"database at {safe_url(engine.url)}: {detail} (this riskgate knows revisions up to "
            f"{head_revision()}; was the database migrated by a newer riskgate?)"
        ) from exc
    finally:
        engine.dispose()


def check_schema_current(engine: Engine) -> None:
    """Refuse a database whose schema is not at the head revision."""
    current, expected = current_revision(engine), head_revision()
    if current != expected:
        raise SchemaOutOfDateError(
            f"database at {safe_url(engine.url)} is at revision {current or 'none (empty)'}, "
            f"expected {expected}: run `gate db upgrade`"
        )


def open_register(url: str) -> Engine:
    """An engine for a reachable database whose schema is current."""
    engine = make_engine(url)
    try:
        check_schema_current(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def unavailable(url: URL, exc: BaseException) -> DatabaseUnavailableError:
    """A one-line error naming the database and the driver's first line."""
    first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = first_line[0] if first_line else type(exc).__name__
    return DatabaseUnavailableError(f"database {safe_url(url)} unavailable: {detail}")
