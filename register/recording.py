"""Record a verdict in the register: one transaction, bulk statements, idempotent per run.

Semantics (also in the README):
- every finding of the verdict is recorded, whatever the policy's action (the action is kept
  on the entry, so `ignore`d findings stay visible as risks);
- a new fingerprint opens an entry due `run time + SLA` (KEV: the policy's KEV SLA if sooner);
  a known one updates last seen; a fixed one seen again after its fix reopens with a fresh
  deadline; accepted and false-positive entries keep their status;
- a `full` run auto-fixes the project's open or accepted entries last seen on the same branch
  before this run (fixed at = the run's start); `diff` and `partial` runs never fix anything;
- the run's `run_id` is unique: recording it again changes nothing.
The run time is the verdict's `started_at`. Concurrent writers of one project are serialised:
SQLite by `BEGIN IMMEDIATE`, PostgreSQL by a lock on the project's row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from gate.models import EvaluatedFinding, RiskContext, ScanScope, Verdict
from register.db import unavailable, writer_engine
from register.errors import RegisterInputError
from register.models import EntryStatus, EventKind, Project, RiskEntry, RiskEvent, ScanRun, utc_now
from register.scoring import due_date_for, expected_annual_loss, score_finding, sla_days_of
from register.triage import expire_acceptances

T = TypeVar("T")
ENTRY = RiskEntry.__table__  # type: ignore[attr-defined]
RUN = ScanRun.__table__  # type: ignore[attr-defined]
PROJECT = Project.__table__  # type: ignore[attr-defined]
EVENT = RiskEvent.__table__  # type: ignore[attr-defined]
ACTIVE = (EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value)
# Columns a later sighting must not overwrite.
_KEEP_ON_UPDATE = frozenset({"id", "project_id", "fingerprint", "first_seen"})
_TEXT_KEYS = (
    "scanner",
    "rule_id",
    "title",
    "path",
    "package",
    "version",
    "manifest",
    "confidence",
    "owner",
    "branch",
    "aliases",
    "fix_versions",
)
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
_LOAD = "risk_entry_load"


@dataclass(frozen=True, kw_only=True)
class RecordResult:
    """What recording one run changed."""

    run_id: str
    project: str
    already_recorded: bool
    findings: int = 0
    opened: int = 0
    seen: int = 0
    reopened: int = 0
    fixed: int = 0

    def summary(self) -> str:
        """One line for the CLI."""
        if self.already_recorded:
            return f"run {self.run_id} of {self.project} was already recorded: nothing changed"
        return (
            f"run {self.run_id} of {self.project}: {self.findings} findings, "
            f"{self.opened} opened, {self.seen} seen, {self.reopened} reopened, {self.fixed} fixed"
        )


@dataclass(frozen=True, kw_only=True)
class _Known:
    id: int
    status: str
    first_seen: datetime
    last_seen: datetime
    fixed_at: datetime | None
    due_date: date
    owner: str | None
    accepted_until: date | None
    branch: str | None
    last_run_id: str


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _insert(connection: Connection) -> Callable[[Any], Any]:
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


def record_run(
    session: Session, verdict: Verdict, *, project: str | None = None, actor: str = "gate"
) -> RecordResult:
    """Record `verdict` in the session's transaction (the caller commits)."""
    name = project or verdict.project
    if not name:
        raise RegisterInputError(f"run {verdict.run_id}: the verdict names no project (--project)")
    connection = session.connection()
    project_id = _lock_project(connection, name, verdict.context)
    if not _insert_run(connection, verdict, project_id=project_id, actor=actor):
        return RecordResult(run_id=verdict.run_id, project=name, already_recorded=True)
    expire_acceptances(session, now=utc_now(), project_id=project_id)
    findings = _unique_findings(verdict.findings)
    known = _known_entries(connection, project_id)
    rows, kinds = _entry_rows(findings, known, verdict=verdict, project_id=project_id)
    ids = _upsert_entries(connection, rows, project_id)
    fixed = _auto_fix(connection, verdict, project_id=project_id) if _may_fix(verdict) else []
    _insert_events(connection, verdict, actor, ids=ids, kinds=kinds, fixed=fixed)
    counts = {kind: sum(1 for k in kinds.values() if k == kind) for kind in ("opened", "reopened")}
    result = RecordResult(
        run_id=verdict.run_id,
        project=name,
        already_recorded=False,
        findings=len(findings),
        opened=counts["opened"],
        reopened=counts["reopened"],
        fixed=len(fixed),
        seen=len(findings) - counts["opened"] - counts["reopened"],
    )
    _store_counts(connection, result)
    return result


def _lock_project(connection: Connection, name: str, context: RiskContext) -> int:
    """Create the project if needed and hold its row lock until commit (PostgreSQL)."""
    values = {
        "name": name,
        "business_criticality": context.business_criticality.value,
        "data_classification": context.data_classification.value,
        "default_owner": context.default_owner,
        "acceptance_max_days": context.acceptance_max_days,
        "sla_days": {str(k): v for k, v in context.sla_days.items()},
        "currency": context.money.currency if context.money else None,
        "created_at": utc_now(),
        "updated_at": utc_now(),
    }
    insert = _insert(connection)(PROJECT).values(values)
    connection.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
    select = sa.select(PROJECT.c.id).where(PROJECT.c.name == name).with_for_update()
    project_id = int(connection.execute(select).scalar_one())
    update = {k: v for k, v in values.items() if k not in ("name", "created_at")}
    connection.execute(sa.update(PROJECT).where(PROJECT.c.id == project_id).values(update))
    return project_id


def _insert_run(connection: Connection, verdict: Verdict, *, project_id: int, actor: str) -> bool:
    """Insert the run row; False when this run id is already recorded."""
    values = {
        "run_id": verdict.run_id,
        "project_id": project_id,
        "commit": verdict.commit,
        "branch": verdict.branch,
        "scope": verdict.scope.value,
        "decision": verdict.decision.value,
        "policy_name": verdict.policy_name,
        "policy_digest": verdict.policy_digest,
        "scanner_versions": {run.name: run.version for run in verdict.scanners},
        "counts": {"action": verdict.count_by_action(), "severity": verdict.count_by_severity()},
        "finding_count": len(verdict.findings),
        "started_at": _aware(verdict.started_at),
        "finished_at": _aware(verdict.finished_at),
        "recorded_at": utc_now(),
        "recorded_by": actor,
    }
    insert = (
        _insert(connection)(RUN).values(values).on_conflict_do_nothing(index_elements=["run_id"])
    )
    return connection.execute(insert.returning(RUN.c.id)).first() is not None


def _unique_findings(findings: Sequence[EvaluatedFinding]) -> list[EvaluatedFinding]:
    """One finding per fingerprint: the most severe when a run reports one twice."""
    best: dict[str, EvaluatedFinding] = {}
    for item in findings:
        current = best.get(item.finding.fingerprint)
        if current is None or item.finding.severity.rank > current.finding.severity.rank:
            best[item.finding.fingerprint] = item
    return list(best.values())


def _known_entries(connection: Connection, project_id: int) -> dict[str, _Known]:
    columns = tuple(_Known.__dataclass_fields__)
    query = sa.select(ENTRY.c.fingerprint, *(ENTRY.c[c] for c in columns)).where(
        ENTRY.c.project_id == project_id
    )
    return {
        row[0]: _Known(**dict(zip(columns, row[1:], strict=True)))
        for row in connection.execute(query)
    }


def _entry_rows(
    findings: Sequence[EvaluatedFinding],
    known: dict[str, _Known],
    *,
    verdict: Verdict,
    project_id: int,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The upsert rows, and how each fingerprint changes: opened, reopened or seen."""
    run_time = _aware(verdict.started_at)
    rows: list[dict[str, Any]] = []
    kinds: dict[str, str] = {}
    for item in findings:
        row = _finding_row(item, verdict=verdict, project_id=project_id, run_time=run_time)
        kinds[item.finding.fingerprint] = _apply_history(row, known.get(item.finding.fingerprint))
        rows.append(row)
    return rows, kinds


def _finding_row(
    item: EvaluatedFinding, *, verdict: Verdict, project_id: int, run_time: datetime
) -> dict[str, Any]:
    finding, context = item.finding, verdict.context
    score = score_finding(finding, context)
    sla = sla_days_of(finding, context)
    loss = expected_annual_loss(
        probability=score.probability, impact=score.impact, money=context.money
    )
    where = finding.location
    row: dict[str, Any] = {
        "project_id": project_id,
        "fingerprint": finding.fingerprint,
        "kind": finding.kind.value,
        "scanner": finding.scanner,
        "rule_id": finding.rule_id,
        "aliases": list(finding.aliases),
        "title": finding.title,
        "severity": finding.severity.value,
        "cvss_score": finding.cvss_score,
        "path": where.path,
        "start_line": where.start_line,
        "package": where.package,
        "version": where.version,
        "manifest": where.manifest,
        "fix_versions": list(finding.fix_versions),
        "known_exploited": finding.known_exploited,
        "kev_due_date": finding.kev_due_date,
        "epss": finding.epss,
        "epss_percentile": finding.epss_percentile,
        "confidence": finding.confidence,
        "action": item.action.value,
        "status": EntryStatus.OPEN.value,
        "probability": score.probability,
        "impact": score.impact,
        "score": score.score,
        "band": score.band,
        "probability_reason": score.probability_reason,
        "impact_reason": score.impact_reason,
        "owner": item.owner or context.default_owner,
        "sla_days": sla,
        "due_date": due_date_for(finding, opened_at=run_time, sla_days=sla),
        "accepted_until": None,
        "first_seen": run_time,
        "last_seen": run_time,
        "fixed_at": None,
        "reopened_count": 0,
        "branch": verdict.branch,
        "last_run_id": verdict.run_id,
        "annual_loss_low": loss.low if loss else None,
        "annual_loss_high": loss.high if loss else None,
    }
    for key in _TEXT_KEYS:
        if _has_nul(row[key]):
            row[key] = _clean(row[key])
    return row


def _has_nul(value: Any) -> bool:
    """Whether a text or a list of texts holds NUL (checked for every row: kept cheap)."""
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list) and any(isinstance(t, str) and "\x00" in t for t in value)


def _clean(value: Any) -> Any:
    """Strings are stored as given, except NUL, which PostgreSQL text cannot hold (→ U+FFFD)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def _apply_history(row: dict[str, Any], known: _Known | None) -> str:
    """Adjust a fresh row for what the register already knows; return the change kind."""
    if known is None:
        return "opened"
    run_time: datetime = row["last_seen"]
    row["first_seen"] = known.first_seen
    row["owner"] = known.owner or row["owner"]
    if known.status == EntryStatus.FIXED.value and known.fixed_at and run_time > known.fixed_at:
        row["reopened_count"] = 1  # added to the stored count by the upsert
        return "reopened"
    row["status"], row["fixed_at"], row["due_date"] = known.status, known.fixed_at, known.due_date
    row["accepted_until"] = known.accepted_until
    if run_time < known.last_seen:  # an older run recorded late must not move time back
        row["last_seen"], row["branch"] = known.last_seen, known.branch
        row["last_run_id"] = known.last_run_id
    return "seen"


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert_entries(
    connection: Connection, rows: list[dict[str, Any]], project_id: int
) -> dict[str, int]:
    """Insert or update every entry in bulk; returns fingerprint → entry id."""
    if not rows:
        return {}
    columns = list(rows[0])
    statement = _insert(connection)(ENTRY)
    excluded = statement.excluded
    updates = {
        key: (ENTRY.c.reopened_count + excluded.reopened_count)
        if key == "reopened_count"
        else excluded[key]
        for key in columns
        if key not in _KEEP_ON_UPDATE
    }
    if connection.dialect.name == "postgresql":
        return _pg_copy_upsert(connection, rows, columns, statement, updates)
    _sqlite_staged_upsert(connection, rows, columns, statement, updates)
    query = sa.select(ENTRY.c.fingerprint, ENTRY.c.id).where(ENTRY.c.project_id == project_id)
    return dict(connection.execute(query).all())


def _sqlite_staged_upsert(
    connection: Connection,
    rows: list[dict[str, Any]],
    columns: list[str],
    statement: Any,
    updates: dict[str, Any],
) -> None:
    """Stage the rows in a temporary table, then ONE upsert statement from it.

    SQLite runs a multi-row VALUES insert into a table with triggers (the summary's, migration
    0002) through a temporary copy row by row; a staged INSERT ... SELECT avoids that (2× faster).
    """
    load = sa.Table(
        _LOAD, sa.MetaData(), *(sa.Column(key, ENTRY.c[key].type) for key in columns),
        prefixes=["TEMPORARY"],
    )
    load.create(connection)
    for chunk in _chunks(rows, 20_000):
        connection.execute(sa.insert(load), list(chunk))
    # `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint.
    source = sa.select(*load.c).where(sa.true())
    upsert = statement.from_select(columns, source).on_conflict_do_update(
        index_elements=["project_id", "fingerprint"], set_=updates
    )
    connection.execute(upsert)
    load.drop(connection)


def _pg_copy_upsert(
    connection: Connection,
    rows: list[dict[str, Any]],
    columns: list[str],
    statement: Any,
    updates: dict[str, Any],
) -> dict[str, int]:
    """COPY the rows into a temporary table, then ONE upsert statement from it.

    One statement instead of one per row: far fewer round trips, and the summary's
    statement-level triggers (migration 0002) fire once per recording.
    """
    names = ", ".join(columns)
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {_LOAD} ON COMMIT DROP AS"  # noqa: S608 - fixed names
        f" SELECT {names} FROM risk_entry WITH NO DATA"
    )
    driver: Any = connection.connection.driver_connection  # psycopg's connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {_LOAD} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_copy_value(row[key]) for key in columns])
    load = sa.table(_LOAD, *(sa.column(key) for key in columns))
    upsert = statement.from_select(columns, sa.select(*load.c)).on_conflict_do_update(
        index_elements=["project_id", "fingerprint"], set_=updates
    )
    ids = dict(connection.execute(upsert.returning(ENTRY.c.fingerprint, ENTRY.c.id)).all())
    connection.exec_driver_sql(f"DROP TABLE {_LOAD}")
    return ids


def _copy_value(value: Any) -> Any:
    """A value as COPY text expects it: JSON lists as text, timestamps naive UTC."""
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _may_fix(verdict: Verdict) -> bool:
    return verdict.scope is ScanScope.FULL


def _auto_fix(connection: Connection, verdict: Verdict, *, project_id: int) -> list[int]:
    """Fix active entries of this project and branch last seen before this full run."""
    run_time = _aware(verdict.started_at)
    statement = (
        sa.update(ENTRY)
        .where(
            ENTRY.c.project_id == project_id,
            ENTRY.c.status.in_(ACTIVE),
            ENTRY.c.branch.is_not_distinct_from(verdict.branch),
            ENTRY.c.last_seen < run_time,
        )
        .values(status=EntryStatus.FIXED.value, fixed_at=run_time, accepted_until=None)
        .returning(ENTRY.c.id)
    )
    return list(connection.execute(statement).scalars().all())


def _insert_events(
    connection: Connection,
    verdict: Verdict,
    actor: str,
    *,
    ids: dict[str, int],
    kinds: dict[str, str],
    fixed: list[int],
) -> None:
    at = _aware(verdict.started_at)
    where = f"run {verdict.run_id} ({verdict.scope.value} scan"
    where += f" of {verdict.branch})" if verdict.branch else ")"
    base = {"run_id": verdict.run_id, "at": at, "actor": actor, "reason": None}
    events = [
        {**base, "entry_id": ids[fp], "kind": kind, "detail": f"{kind} by {where}"}
        for fp, kind in kinds.items()
        if kind != "seen"
    ]
    events += [
        {
            **base,
            "entry_id": entry_id,
            "kind": EventKind.FIXED.value,
            "detail": f"not seen by {where}",
        }
        for entry_id in fixed
    ]
    for chunk in _chunks(events, 20_000):
        connection.execute(sa.insert(EVENT), list(chunk))


def _store_counts(connection: Connection, result: RecordResult) -> None:
    values = {
        "opened": result.opened,
        "seen": result.seen,
        "reopened": result.reopened,
        "fixed": result.fixed,
    }
    connection.execute(sa.update(RUN).where(RUN.c.run_id == result.run_id).values(values))


def _retryable(exc: DBAPIError) -> bool:
    state = getattr(exc.orig, "sqlstate", None)
    return state in _RETRYABLE_SQLSTATES or "database is locked" in str(exc.orig)


def record_verdict_in(
    engine: Engine,
    verdict: Verdict,
    *,
    project: str | None = None,
    actor: str = "gate",
    attempts: int = 5,
) -> RecordResult:
    """Record in its own transaction, retrying deadlocks, serialisation failures and locks."""
    for attempt in range(1, attempts + 1):
        try:
            with Session(writer_engine(engine)) as session, session.begin():
                return record_run(session, verdict, project=project, actor=actor)
        except DBAPIError as exc:
            if attempt == attempts or not _retryable(exc):
                if isinstance(exc, OperationalError):
                    raise unavailable(engine.url, exc) from exc
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover
