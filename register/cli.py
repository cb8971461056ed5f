"""`gate register ...` and `gate db ...`: thin commands over the register's core.

Every command takes `--database` (or `GATE_DATABASE_URL`); errors become one line on stderr
and an exit code (2 database unavailable or out of date, 3 bad input).
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlmodel import Session

from gate.cli import handle_errors
from gate.extras import require_server
from gate.spool import SpoolError, pending
from register import queries, triage
from register.config import load_settings
from register.db import current_revision, head_revision, make_engine, open_register, safe_url
from register.db import upgrade as upgrade_database
from register.decisions import triaged_dependencies
from register.errors import EntryNotFoundError, RegisterInputError
from register.evidence import evidence_fields
from register.filters import EntryFilter
from register.models import RiskEntry, RiskEntryPublic
from register.project_cli import project_group
from register.record_files import record_files
from register.scoring import IMPACT_WORDS, LIKELIHOOD_WORDS
from register.spool_replay import replay_database, replay_uploads
from register.web.cli import token_group

database_option = click.option(
    "--database", envvar="GATE_DATABASE_URL", help="Register database URL (default: .riskgate/)."
)
actor_option = click.option(
    "--actor",
    default=lambda: os.environ.get("GATE_ACTOR") or getpass.getuser(),
    show_default="current user",
    help="Who makes the change (event log).",
)
EXPORT_COLUMNS = (
    "id",
    "fingerprint",
    "kind",
    "rule_id",
    "title",
    "severity",
    "status",
    "probability",
    "impact",
    "score",
    "band",
    "owner",
    "due_date",
    "first_seen",
    "last_seen",
    "fixed_at",
    "path",
    "package",
    "version",
    "annual_loss_low",
    "annual_loss_high",
)


def _url(database: str | None) -> str:
    return load_settings(database_url=database).database_url


@contextmanager
def _session(database: str | None) -> Iterator[Session]:
    engine = open_register(_url(database))
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _console() -> Console:
    return Console(width=max(100, Console().width), soft_wrap=False, highlight=False)


def _print_table(title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    _console().print(table)


@click.group("register")
def register_group() -> None:
    """The risk register: record runs, triage risks, report MTTP and the 5×5 matrix."""


@click.group("db")
def db_group() -> None:
    """The register database schema (Alembic migrations)."""


@db_group.command("upgrade")
@database_option
@handle_errors
def db_upgrade(database: str | None) -> None:
    """Migrate the register database to the latest schema."""
    url = _url(database)
    click.echo(f"{safe_url(url)}: at revision {upgrade_database(url)}")


@db_group.command("current")
@database_option
@handle_errors
def db_current(database: str | None) -> None:
    """Print the database's schema revision and the one this code expects."""
    engine = make_engine(_url(database))
    try:
        current = current_revision(engine) or "none (empty)"
    finally:
        engine.dispose()
    click.echo(f"{safe_url(engine.url)}: revision {current}, expected {head_revision()}")


@register_group.command("record")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--project", help="Project name (default: the verdict's).")
@database_option
@actor_option
@handle_errors
def record(files: tuple[Path, ...], project: str | None, database: str | None, actor: str) -> None:
    """Record gate verdict JSON files (recording one twice changes nothing).

    Each file is read as a stream (header first, then one finding at a time), so memory stays
    flat however many findings it holds. While the database is down the runs not recorded are
    spooled (GATE_SPOOL_DIR) and the command exits 2; `gate register replay` records them.
    """
    settings = load_settings(database_url=database)
    record_files(files, url=settings.database_url, spool_dir=settings.spool_dir,
                 project=project, actor=actor, echo=click.echo)


@register_group.command("replay")
@click.option(
    "--spool-dir",
    type=click.Path(path_type=Path),
    envvar="GATE_SPOOL_DIR",
    help="Spool directory (default: .riskgate/spool).",
)
@database_option
@click.option("--token", envvar="GATE_TOKEN", help="API token for spooled uploads.")
@click.option(
    "--upload", "upload_url", envvar="GATE_UPLOAD_URL",
    help="Send spooled uploads (and the token) to this service, not to the address each "
         "spool file names.",
)
@actor_option
@handle_errors
def replay(
    spool_dir: Path | None, database: str | None, token: str | None, upload_url: str | None,
    actor: str,
) -> None:
    """Send runs spooled while the database or the service was down; each file goes once sent."""
    settings = load_settings(database_url=database)
    directory = spool_dir or settings.spool_dir
    database_files = pending(directory, kind="database")
    upload_files = pending(directory, kind="upload")
    if not database_files and not upload_files:
        click.echo("nothing to replay")
        return
    damaged: list[str] = []
    if database_files:
        replay_database(database_files, url=settings.database_url, actor=actor,
                        echo=click.echo, damaged=damaged)
    if upload_files:
        if not token:
            raise RegisterInputError(
                f"{len(upload_files)} spooled upload(s) in {directory} need --token (or GATE_TOKEN)"
            )
        for outcome in replay_uploads(upload_files, token=token, url=upload_url,
                                      damaged=damaged):
            click.echo(f"{outcome.path.name}: {outcome.message}")
    for line in damaged:
        click.echo(f"gate: error: {line}", err=True)
    if damaged:
        raise SpoolError(f"{len(damaged)} damaged spool file(s) set aside; every other run "
                         "was replayed")


def _entry_row(entry: RiskEntry) -> tuple[Any, ...]:
    where = entry.package or (
        f"{entry.path}:{entry.start_line}" if entry.start_line else entry.path
    )
    advisory = entry.rule_id if entry.kind == "dependency" else None
    cve = next((a for a in (entry.rule_id, *(entry.aliases or [])) if a.startswith("CVE-")), None)
    return (
        entry.id,
        entry.severity,
        entry.status,
        f"{entry.score} {entry.band}",
        entry.owner,
        entry.due_date,
        cve or advisory or "",
        entry.title[:60],
        where,
    )


@register_group.command("list")
@click.option("--project")
@click.option(
    "--status",
    type=click.Choice(["open", "fixed", "accepted", "false_positive", "active", "all"]),
)
@click.option("--owner")
@click.option(
    "--severity", type=click.Choice(["critical", "high", "medium", "low", "info", "unknown"])
)
@click.option("--overdue", is_flag=True, default=None, help="Only open entries past deadline.")
@click.option("--text", help="Text in the title, path, package or rule id.")
@click.option("--package")
@click.option("--advisory", help="An advisory or CVE id, or any alias.")
@click.option("--kev", is_flag=True, default=None, help="Only known-exploited (CISA KEV).")
@click.option("--scanner")
@click.option("--kind", type=click.Choice(["dependency", "code"]))
@click.option("--rule")
@click.option(
    "--sort",
    type=click.Choice(["score", "due_date", "last_seen", "severity", "id", "title", "owner"]),
    default="score",
)
@click.option("--limit", type=click.IntRange(1), default=50)
@click.option("--json", "as_json", is_flag=True, help="JSON (the API's entry shape) on stdout.")
@database_option
@handle_errors
def list_command(
    database: str | None, sort: Any, limit: int, as_json: bool, **filters: Any
) -> None:
    """List register entries (expired acceptances are reopened first)."""
    chosen = EntryFilter(**filters)
    with _session(database) as session:
        triage.expire_acceptances(session)
        entries, total = queries.filtered_entries(session, chosen, sort=sort, limit=limit)
        names = {e.project_id: queries.project_name(session, project_id=e.project_id)
                 for e in entries}
        items = [RiskEntryPublic.from_entry(e, project=names[e.project_id]) for e in entries]
    if as_json:
        payload = {"total": total, "items": [item.model_dump(mode="json") for item in items]}
        click.echo(json.dumps(payload, indent=2))
        return
    rows = [_entry_row(entry) for entry in entries]
    columns = ("id", "severity", "status", "score", "owner", "due", "advisory", "title", "where")
    _print_table(f"{len(rows)} of {total} entries", columns, rows)


@register_group.command("show")
@click.argument("entry_id", type=int)
@database_option
@handle_errors
def show(entry_id: int, database: str | None) -> None:
    """Show one entry: status, evidence, fix advice, score, sightings and event log."""
    with _session(database) as session:
        entry = queries.get_entry(session, entry_id=entry_id)
        if entry is None:
            raise EntryNotFoundError(entry_id)
        events = queries.entry_events(session, entry_id=entry_id)
        project = queries.project_name(session, project_id=entry.project_id)
        opened = next((e.run_id for e in events if e.kind == "opened" and e.run_id), "")
        runs = queries.runs_by_id(session, [opened, entry.last_run_id])
        fields = evidence_fields(entry, project=project, first_run=runs.get(opened),
                                 last_run=runs.get(entry.last_run_id), today=queries.today())
    _print_table(f"entry {entry_id} of {project}", ("field", "value"), fields)
    rows = [(e.at, e.actor, e.kind, e.run_id, e.detail, e.reason) for e in events]
    _print_table("events", ("at", "actor", "kind", "run", "detail", "reason"), rows)


def _as_date(_ctx: click.Context, _param: click.Parameter, value: Any) -> date | None:
    return value.date() if value is not None else None


def _triage_command(
    name: str, action: Callable[..., Any], *extra: Callable[[Any], Any]
) -> Callable[..., None]:
    """A command `NAME ENTRY_ID [options]` calling a `register.triage` function."""

    def command(database: str | None, **kwargs: Any) -> None:
        with _session(database) as session:
            action(session, **kwargs)
        click.echo(f"entry {kwargs['entry_id']}: {name} done")

    command.__doc__ = (action.__doc__ or name).splitlines()[0]
    for decorator in (
        handle_errors,
        database_option,
        actor_option,
        *extra,
        click.argument("entry_id", type=int),
    ):
        command = decorator(command)
    return register_group.command(name)(command)


_triage_command(
    "assign",
    triage.assign,
    click.argument("owner"),
    click.option("--reason", help="Why (event log)."),
)
_triage_command(
    "accept",
    triage.accept,
    click.option("--reason", required=True, help="Justification."),
    click.option(
        "--until",
        type=click.DateTime(["%Y-%m-%d"]),
        callback=_as_date,
        help="Expiry date YYYY-MM-DD (required, within the policy maximum).",
    ),
    click.option("--approver", required=True, help="Who approved the acceptance."),
)
_triage_command("reopen", triage.reopen, click.option("--reason", required=True))
_triage_command(
    "mark-false-positive", triage.mark_false_positive, click.option("--reason", required=True)
)


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A leading = + - @ would run as a formula in a spreadsheet: keep it as text.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@register_group.command("export")
@click.option("--csv", "as_csv", is_flag=True, help="Every entry as CSV.")
@click.option("--vex", "as_vex", is_flag=True,
              help="Accepted and false-positive dependency entries as OpenVEX (JSON).")
@click.option("--project")
@click.option("--status", help="Only entries of this status (CSV).")
@click.option("--author", default=None, help="The VEX document's author (default: your login).")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
@database_option
@handle_errors
def export(
    as_csv: bool,
    as_vex: bool,
    project: str | None,
    status: str | None,
    author: str | None,
    output: io.TextIOBase,
    database: str | None,
) -> None:
    """Export entries as CSV (formula-like cells quoted) or decisions as OpenVEX."""
    if as_csv == as_vex:
        raise RegisterInputError("name one format: --csv or --vex")
    if as_vex:
        # Imported here: VEX brings the gate's policy and YAML modules, which recording
        # (the command that runs most) does not need (~0.1 s of every `gate register` start).
        from register.vex import vex_document

        with _session(database) as session:
            triaged = triaged_dependencies(session.connection(), project=project)
        if not triaged:
            raise RegisterInputError(
                "nothing to export: no accepted or false-positive dependency entries"
                + (f" in project {project!r}" if project else "")
            )
        document = vex_document(
            triaged, author=author or os.environ.get("GATE_ACTOR") or getpass.getuser()
        )
        output.write(json.dumps(document, indent=2) + "\n")
        return
    writer = csv.writer(output)
    writer.writerow(EXPORT_COLUMNS)
    with _session(database) as session:
        entries, _ = queries.list_entries(
            session, project=project, status=status, sort="id", limit=sys.maxsize
        )
        writer.writerows([_csv_cell(getattr(e, c)) for c in EXPORT_COLUMNS] for e in entries)


@register_group.command("mttp")
@click.option("--project")
@database_option
@handle_errors
def mttp(project: str | None, database: str | None) -> None:
    """Mean and median time to patch by severity and month, and SLA compliance."""
    with _session(database) as session:
        report = queries.mttp(session, project=project)
    columns = ("group", "fixed", "mean days", "median days")
    for title, rows in (("by severity", report.by_severity), ("by month", report.by_month)):
        _print_table(
            f"time to patch {title}",
            columns,
            [(r.group, r.fixed, r.mean_days, r.median_days) for r in rows],
        )
    sla = [report.sla_overall, *report.sla_by_severity]
    _print_table(
        "SLA compliance (fixed within deadline)",
        ("group", "fixed", "within", "%"),
        [(r.group, r.fixed, r.within_sla, f"{r.percent:.1f}") for r in sla],
    )


@register_group.command("matrix")
@click.option("--project")
@database_option
@handle_errors
def matrix(project: str | None, database: str | None) -> None:
    """The 5×5 matrix of open and accepted risks (probability × impact)."""
    with _session(database) as session:
        triage.expire_acceptances(session)
        counts = queries.risk_matrix(session, project=project)
    columns = ("probability \\ impact", *(f"{i} {IMPACT_WORDS[i]}" for i in range(1, 6)))
    rows = [(f"{p} {LIKELIHOOD_WORDS[p]}", *counts[p - 1]) for p in range(5, 0, -1)]
    _print_table("risk matrix", columns, rows)


@register_group.command("plan")
@click.option("--project", help="One project (default: all).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="Upgrades to list.")
@database_option
@handle_errors
def plan_command(project: str | None, limit: int, database: str | None) -> None:
    """Upgrades ranked by risk removed: one per vulnerable component, and what has no fix."""
    from register.plan import plan_currency, register_plan, unrated_count

    with _session(database) as session:
        triage.expire_acceptances(session)
        steps = register_plan(session, project=project)
        currency = plan_currency(session, project=project)
        unrated = unrated_count(session, project=project)
    click.echo(f"Remediation plan ({project or 'all projects'}): {len(steps.upgrades)} upgrades, "
               f"{len(steps.unfixed)} components without a fixed version")
    for number, line in enumerate(steps.lines(currency, limit=limit), start=1):
        click.echo(f"{number:>3}. {line}")
    if unrated:
        click.echo(f"{unrated} active risks are unrated (unknown severity); their score "
                   "assumes the policy's unknown_severity")


@register_group.command("report")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              required=True, help="Write the one-page board report (self-contained HTML) here.")
@click.option("--project", help="One project (default: all).")
@database_option
@handle_errors
def report(html_file: Path, project: str | None, database: str | None) -> None:
    """The one-page report for executives: figures in business words, trend, matrix, owners.

    Needs the `server` extra (its templates): pip install 'riskgate[server]'.
    """
    require_server("gate register report")
    from register.web.pages.report import render_report_file

    with _session(database) as session:
        triage.expire_acceptances(session)
        html = render_report_file(session, project)
    html_file.write_text(html, encoding="utf-8")
    click.echo(f"report written to {html_file}")


register_group.add_command(token_group)
register_group.add_command(project_group)
