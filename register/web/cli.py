"""`gate serve` (the register service under uvicorn) and `gate register token ...`.

`serve` checks the schema before starting any worker: an out-of-date database is one line
on stderr and exit 3, with the fix (`gate db upgrade`).
"""

from __future__ import annotations

import os
import sys

import click

from gate.cli import handle_errors
from gate.extras import require_server
from register.config import load_settings
from register.db import open_register, session_scope
from register.errors import SchemaOutOfDateError
from register.models import Role
from register.web.tokens import create_token, list_tokens, revoke_token

APP_FACTORY = "register.web.app:create_app"
database_option = click.option(
    "--database", envvar="GATE_DATABASE_URL", help="Register database URL (default: .riskgate/)."
)


@click.command("serve")
@database_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (set GATE_SECRET_KEY so sessions work across them).")
@handle_errors
def serve_command(database: str | None, host: str, port: int, workers: int) -> None:
    """Run the register service (API under /api/v1, pages for people) with uvicorn.

    Needs the `server` extra: pip install 'riskgate[server]'.
    """
    require_server("gate serve")
    import uvicorn

    settings = load_settings(database_url=database)
    try:
        open_register(settings.database_url).dispose()
    except SchemaOutOfDateError as exc:
        click.echo(f"gate: error: {exc}", err=True)
        sys.exit(3)
    # Workers build the app from the environment: pass the chosen database on.
    os.environ["GATE_DATABASE_URL"] = settings.database_url
    if workers > 1 and not settings.secret_key:
        click.echo("gate: warning: several workers without GATE_SECRET_KEY: "
                   "log-in sessions will not work", err=True)
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, log_level="info")


@click.group("token")
def token_group() -> None:
    """API tokens of the register service (the secret is printed once, only a hash is kept)."""


@token_group.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", required=True, help="Who or what holds the token (shown in the log).")
@click.option("--project", "projects", multiple=True,
              help="Uploader tokens: a project it may post runs for (repeat; default: any).")
@database_option
@handle_errors
def token_create(role: str, name: str, projects: tuple[str, ...], database: str | None) -> None:
    """Create a token and print its secret once."""
    engine = open_register(load_settings(database_url=database).database_url)
    try:
        with session_scope(engine) as session:
            row, secret = create_token(
                session, name=name, role=Role(role), projects=projects or None
            )
            token_id = row.id
    finally:
        engine.dispose()
    click.echo(secret)
    click.echo(f"token {token_id} ({role}, {name}) created; the secret above is not stored, "
               "keep it now", err=True)


@token_group.command("list")
@database_option
@handle_errors
def token_list(database: str | None) -> None:
    """List tokens (never their secrets)."""
    engine = open_register(load_settings(database_url=database).database_url)
    try:
        with session_scope(engine) as session:
            for row in list_tokens(session):
                state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
                scope = ",".join(row.projects) if row.projects is not None else "any project"
                click.echo(f"{row.id}\t{row.role}\t{row.name}\t{state}\tlast used {used}"
                           f"\t{scope}")
    finally:
        engine.dispose()


@token_group.command("revoke")
@click.argument("token_id", type=int)
@database_option
@handle_errors
def token_revoke(token_id: int, database: str | None) -> None:
    """Revoke a token by id; it stops working at once."""
    engine = open_register(load_settings(database_url=database).database_url)
    try:
        with session_scope(engine) as session:
            row = revoke_token(session, token_id)
            click.echo(f"token {row.id} ({row.role}, {row.name}) revoked")
    finally:
        engine.dispose()
