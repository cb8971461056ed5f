"""Register fixtures: the same tests run on SQLite and on PostgreSQL.

- `database_url`: a fresh, empty database, parametrised `sqlite` (a file in tmp_path) and
  `postgresql` (a unique schema in GATE_TEST_POSTGRES_URL's database, selected through
  `search_path` in the URL, dropped afterwards; skips, or fails under RISKGATE_STRICT_SKIPS=1,
  when no server answers). Pass it to subprocesses or `--database` as is.
- `engine`: that database migrated to head (`register.db.upgrade`), as an `Engine`.
- `session`: a `Session` on `engine` (commit yourself).
Use `pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)` for one backend.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from register.db import make_engine, upgrade
from tests.conftest import POSTGRES_URL, postgres_available, require

_PG_STATE: dict[str, bool] = {}


def _postgres_up() -> bool:
    if "up" not in _PG_STATE:
        _PG_STATE["up"] = postgres_available(POSTGRES_URL)
    return _PG_STATE["up"]


def postgres_schema_url(schema: str) -> str:
    """The test server's URL with `search_path` set to `schema`."""
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty register database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'register.db'}"
        return
    require(_postgres_up(), f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"rg_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.schema.CreateSchema(schema))
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.schema.DropSchema(schema, cascade=True))
        admin.dispose()


@pytest.fixture()
def engine(database_url: str) -> Iterator[Engine]:
    """The database migrated to head."""
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
