"""`gate register project show|set`: a project's settings, owned by the register.

An upload through the service never changes a project's SLA days, criticality or acceptance
limit; an admin sets them here from a reviewed policy file (or over the API).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from gate.cli import handle_errors
from register.config import load_settings
from register.db import open_register, session_scope
from register.project_settings import configure_project, project_settings

database_option = click.option(
    "--database", envvar="GATE_DATABASE_URL", help="Register database URL (default: .riskgate/)."
)


@click.group("project")
def project_group() -> None:
    """A project's settings: SLA days, criticality, acceptance limit, money."""


@project_group.command("show")
@click.argument("name")
@database_option
@handle_errors
def project_show(name: str, database: str | None) -> None:
    """Print the project's settings as JSON."""
    engine = open_register(load_settings(database_url=database).database_url)
    try:
        with session_scope(engine) as session:
            context = project_settings(session, name)
    finally:
        engine.dispose()
    click.echo(json.dumps(context.model_dump(mode="json"), indent=2))


@project_group.command("set")
@click.argument("name")
@click.option("--policy", "policy_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Take the settings from this policy's context (asset, sla_days, money...).")
@database_option
@handle_errors
def project_set(name: str, policy_file: Path, database: str | None) -> None:
    """Create the project or replace its settings with those of a policy file."""
    from gate.policy.load import load_policy  # not on the path of the other commands

    context = load_policy(policy_file).risk_context()
    engine = open_register(load_settings(database_url=database).database_url)
    try:
        with session_scope(engine) as session:
            configure_project(session, name, context)
    finally:
        engine.dispose()
    click.echo(f"project {name}: settings taken from {policy_file} "
               f"(acceptance at most {context.acceptance_max_days} days)")
