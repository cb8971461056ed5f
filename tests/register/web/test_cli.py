"""`gate serve` refusing an old schema, and `gate register token create/list/revoke`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from gate.cli import cli
from register.db import session_scope
from register.web.tokens import authenticate

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_serve_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"

    result = CliRunner().invoke(cli, ["serve", "--database", url, "--port", "1"])

    assert result.exit_code == 3
    assert "expected" in result.output and "run `gate db upgrade`" in result.output


@SQLITE_ONLY
def test_token_create_prints_the_secret_once_and_stores_a_hash(
    database_url: str, engine: Engine
) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["register", "token", "create", "--role", "triager",
                                  "--name", "alice", "--database", database_url])
    secret = created.stdout.strip()
    listed = runner.invoke(cli, ["register", "token", "list", "--database", database_url])
    revoked = runner.invoke(cli, ["register", "token", "revoke", "1", "--database", database_url])

    assert created.exit_code == 0 and secret.startswith("rg_")
    assert secret not in listed.output and "triager\talice\tactive" in listed.output
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    with session_scope(engine) as session:
        assert authenticate(session, secret) is None


@SQLITE_ONLY
def test_token_create_refuses_an_unknown_role(database_url: str, engine: Engine) -> None:
    result = CliRunner().invoke(cli, ["register", "token", "create", "--role", "root",
                                      "--name", "x", "--database", database_url])

    assert result.exit_code == 3 and "'root' is not one of" in result.output
