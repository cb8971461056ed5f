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
The project's settings (SLA days, criticality, acceptance limit, money) come from the verdict's
context when recording straight into the database, and from the register for an upload.
The run time is the verdict's `started_at`; for a run received over the API (`received_at`)
it is never later than its receipt, so a verdict dated in the future cannot fix entries that
later runs would then fail to reopen. Concurrent writers of one project are serialised:
SQLite by `BEGIN IMMEDIATE`, PostgreSQL by a lock on the project's row.
"""

from __future__ import annotations

import functools
import gc
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from gate.models import (
    Action,
    EvaluatedFinding,
    RiskContext,
    ScanScope,
    Severity,
    Verdict,
)
from register import trends
from register.column_limits import entry_limits, refuse_overlong_entry, refuse_overlong_run
from register.db import unavailable, writer_engine
from register.errors import RegisterInputError
from register.identity import Continuity
from register.models import (
    EntryStatus,
    EventKind,
    Project,
    RiskEntry,
    RiskEvent,
    ScanRun,
    UTCDateTime,
    utc_now,
)
from register.overlap import Overlapped
from register.project_settings import SETTING_COLUMNS, column_values, context_of
from register.scoring import Scorer, due_date_for
from register.staged_row import (
    ACCEPTED,
    AT,
    BRANCH,
    CHANGE_AT,
    DUE,
    ENTRY_AT,
    FINGERPRINT,
    FIRST,
    FIXED,
    LAST,
    LAST_RUN,
    OWNER,
    REOPENED,
    SEQ_AT,
    STATUS,
    Row,
)
from register.staging import (
    EVENT_FIELDS,
    Converter,
    Merger,
    aware,
    batches,
    dialect_insert,
    drop_staging,
    event_columns,
    may_thread,
    run_words,
)
from register.triage import expire_acceptances

ENTRY = RiskEntry.__table__  # type: ignore[attr-defined]
RUN = ScanRun.__table__  # type: ignore[attr-defined]
PROJECT = Project.__table__  # type: ignore[attr-defined]
EVENT = RiskEvent.__table__  # type: ignore[attr-defined]
ACTIVE = (EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value)
_OPEN = EntryStatus.OPEN.value
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
    "message",
    "snippet",
    "cwe",
    "owasp",
    "help_url",
    "cvss_vector",
    "remediation_target",
)
# NUL (PostgreSQL text cannot hold it) and lone surrogates (no UTF-8 encodes them).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
# PostgreSQL's program limits (an index entry over 2,704 bytes...): the input's fault, not the
# database's, so never "unavailable, try again" (the bounded columns are refused before this).
_TOO_LARGE_SQLSTATES = frozenset({"54000", "54001"})
_TEXT_AT = tuple(AT[key] for key in _TEXT_KEYS)
_LIMITS = entry_limits(AT)
SEVERITY, ACTION = AT["severity"], AT["action"]
_RANK = {severity.value: severity.rank for severity in Severity}
_BATCH_ROWS = 4096  # rows staged and merged at a time


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


class _Known(NamedTuple):
    """What recording reads of a stored entry (a tuple: the register holds up to 1M)."""

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


def record_run(
    session: Session, verdict: Verdict, *, project: str | None = None, actor: str = "gate"
) -> RecordResult:
    """Record `verdict` in the session's transaction (the caller commits)."""
    return record_findings(session, verdict, verdict.findings, project=project, actor=actor)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a run streams through.

    Each finding makes short-lived objects that survive a young collection while their batch
    is alive, which triggers repeated full collections (about a tenth of recording's time at
    100k findings). Reference counting still frees every row: the stream holds no cycles, so
    memory stays flat (measured: the same peak RSS). Concurrent recordings leave it enabled
    once the first that paused it is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def record_findings(
    session: Session,
    header: Verdict,
    findings: Iterable[EvaluatedFinding],
    *,
    project: str | None = None,
    actor: str = "gate",
    may_hold_nul: bool = True,
    received_at: datetime | None = None,
    adopt_context: bool = True,
) -> RecordResult:
    """Record a run whose findings arrive one by one (a streamed verdict file).

    `header` gives every field of the verdict but its findings (those it holds are ignored).
    Findings are consumed once, staged and merged a batch at a time (the database merges one
    batch while the next is read), so memory does not grow with their number.
    `may_hold_nul=False` (the file holds no `\\u0000`) skips the per-row NUL check.
    `received_at` (uploads) caps the run's times at its receipt. `adopt_context=False`
    (uploads) scores with the project's stored settings and leaves them as they are;
    otherwise the verdict's context becomes the project's settings.
    """
    with _collector_paused():
        try:
            return _record_findings(
                session, header, findings, project=project, actor=actor,
                may_hold_nul=may_hold_nul, received_at=received_at, adopt_context=adopt_context,
            )
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in _TOO_LARGE_SQLSTATES:
                raise
            reason = str(exc.orig).strip().splitlines()[0]
            raise RegisterInputError(
                f"invalid verdict: a value is too large for the register ({reason})"
            ) from exc


def _record_findings(
    session: Session,
    header: Verdict,
    findings: Iterable[EvaluatedFinding],
    *,
    project: str | None,
    actor: str,
    may_hold_nul: bool,
    received_at: datetime | None,
    adopt_context: bool,
) -> RecordResult:
    if received_at is not None:
        header = no_later_than(header, received_at)
    name = project or header.project
    if not name:
        raise RegisterInputError(f"run {header.run_id}: the verdict names no project (--project)")
    refuse_overlong_run(header, name)
    connection = session.connection()
    project_id, context = _lock_project(connection, name, header.context, adopt=adopt_context)
    if context != header.context:
        header = header.model_copy(update={"context": context})
    if not _insert_run(connection, header, project_id=project_id, actor=actor):
        return RecordResult(run_id=header.run_id, project=name, already_recorded=True)
    expire_acceptances(session, now=utc_now(), project_id=project_id)
    tally = _Tally()
    known = _known_entries(connection, project_id)
    edits = Continuity.of_project(connection, project_id)
    rows = _entry_rows(
        _finding_rows(findings, verdict=header, project_id=project_id, check_nul=may_hold_nul),
        known, tally=tally, edits=edits,
    )
    merger = Merger(connection=connection, project_id=project_id, verdict=header, actor=actor,
                    superseded=tally.superseded)
    with Overlapped(threaded=may_thread(connection)) as overlap:
        for batch in batches(rows, _BATCH_ROWS):  # read while the batch before is merged
            merger.add(batch, overlap)
        overlap.wait()
        merger.let_held_replace(edits)
        merger.add(_held_rows(connection, edits, known, tally), overlap)
    if merger.staged:
        edits.log(connection, run_id=header.run_id, at=aware(header.started_at), actor=actor)
    fixed = 0
    if _may_fix(header):
        fixed = _auto_fix(connection, header, project_id=project_id, actor=actor)
    if merger.staged:
        drop_staging(connection)
    result = RecordResult(
        run_id=header.run_id,
        project=name,
        already_recorded=False,
        findings=tally.unique,
        opened=tally.changes["opened"],
        reopened=tally.changes["reopened"],
        fixed=fixed,
        seen=tally.changes["seen"],
    )
    _store_counts(connection, result, tally)
    at = aware(header.started_at)
    trends.snapshot(connection, project_id=project_id, at=at)
    trends.refresh_owners(connection, project_id=project_id, at=at)
    return result


def no_later_than(verdict: Verdict, moment: datetime) -> Verdict:
    """`verdict` with its start and finish times capped at `moment`."""
    cap = aware(moment)
    started, finished = aware(verdict.started_at), aware(verdict.finished_at)
    if started <= cap and finished <= cap:
        return verdict
    return verdict.model_copy(
        update={"started_at": min(started, cap), "finished_at": min(finished, cap)}
    )


def _lock_project(
    connection: Connection, name: str, context: RiskContext, *, adopt: bool
) -> tuple[int, RiskContext]:
    """Create the project if needed and hold its row lock until commit (PostgreSQL).

    The project's id and the context to score with: `context`, stored as the project's
    settings, when `adopt`; otherwise the register's stored settings (the defaults for a
    project this run creates), left unchanged.
    """
    values = column_values(context if adopt else RiskContext())
    stamps = {"created_at": utc_now(), "updated_at": utc_now()}
    insert = dialect_insert(connection)(PROJECT).values({"name": name, **values, **stamps})
    connection.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
    columns = [PROJECT.c.id, *(PROJECT.c[key] for key in SETTING_COLUMNS)]
    select = sa.select(*columns).where(PROJECT.c.name == name).with_for_update()
    row = connection.execute(select).one()._mapping
    project_id = int(row["id"])
    if not adopt:
        return project_id, context_of(dict(row))
    update = {**values, "updated_at": stamps["updated_at"]}
    connection.execute(sa.update(PROJECT).where(PROJECT.c.id == project_id).values(update))
    return project_id, context


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
        "started_at": aware(verdict.started_at),
        "finished_at": aware(verdict.finished_at),
        "recorded_at": utc_now(),
        "recorded_by": actor,
    }
    insert = dialect_insert(connection)(RUN).values(values)
    insert = insert.on_conflict_do_nothing(index_elements=["run_id"])
    return connection.execute(insert.returning(RUN.c.id)).first() is not None


@dataclass(kw_only=True)
class _Tally:
    """What the stream held: counts for the run row, changes, and duplicates to drop."""

    # (action, severity) values -> findings of the stream (duplicates included)
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)
    # fingerprint -> (severity rank, staging sequence) of the row kept for it
    best: dict[str, tuple[int, int]] = field(default_factory=dict)
    # (staging sequence, fingerprint) of each streamed row a worse duplicate replaced
    superseded: list[tuple[int, str]] = field(default_factory=list)

    @property
    def unique(self) -> int:
        """Distinct fingerprints seen."""
        return len(self.best)

    @property
    def total(self) -> int:
        """Findings the stream held."""
        return sum(self.kinds.values())

    def counts(self) -> dict[str, dict[str, int]]:
        """The run row's counts, every action and severity present."""
        by_action: Counter[str] = Counter()
        by_severity: Counter[str] = Counter()
        for (action, severity), count in self.kinds.items():
            by_action[action] += count
            by_severity[severity] += count
        return {
            "action": {a.value: by_action.get(a.value, 0) for a in Action},
            "severity": {s.value: by_severity.get(s.value, 0) for s in Severity},
        }


def _known_entries(connection: Connection, project_id: int) -> dict[str, _Known]:
    """The project's entries by fingerprint.

    Rows come raw from the driver's cursor (SQLAlchemy's result rows cost as much as the
    reading) and each column goes through its type's own result processor once per distinct
    stored value: times and dates repeat (a run's time, its deadlines), and parsing them row
    by row took most of a 100k re-run's reading.
    """
    columns = [ENTRY.c[name] for name in _Known._fields]
    query = sa.select(ENTRY.c.fingerprint, *columns).where(ENTRY.c.project_id == project_id)
    dialect = connection.dialect
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    conversions = [(i, fn) for i, column in enumerate(columns)
                   if (fn := _cached_result(column.type, dialect)) is not None]
    driver: Any = connection.connection.driver_connection  # sqlite3's or psycopg's connection
    known = {}
    make = _Known._make
    with closing(driver.cursor()) as cursor:
        cursor.execute(sql)
        for fingerprint, *values in cursor:
            for index, fn in conversions:
                value = values[index]
                if value is not None:
                    values[index] = fn(value)
            known[fingerprint] = make(values)
    return known


def _cached_result(kind: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> Converter | None:
    """The type's result processor, memoised for times and dates (None: stored as read)."""
    processor: Converter | None = kind.dialect_impl(dialect).result_processor(dialect, None)
    if processor is None or not isinstance(kind, sa.DateTime | sa.Date | UTCDateTime):
        return processor
    return functools.lru_cache(maxsize=4096)(processor)


def _finding_rows(
    findings: Iterable[EvaluatedFinding],
    *,
    verdict: Verdict,
    project_id: int,
    check_nul: bool = True,
) -> Iterator[Row]:
    """Each finding's row (`_finding_row`), in order; a finding whose bounded value is too
    long for its column is refused (`RegisterInputError`), a less severe duplicate too.
    A row depends on nothing but the finding, the verdict and the project's id."""
    run_time = aware(verdict.started_at)
    scorer = Scorer(context=verdict.context)
    due_dates: dict[int, date] = {}  # by SLA days: every row of a run opens at its time
    for seq, item in enumerate(findings):
        row = _finding_row(
            item, verdict=verdict, project_id=project_id, run_time=run_time, scorer=scorer,
            check_nul=check_nul, due_dates=due_dates,
        )
        refuse_overlong_entry(row, seq, _LIMITS)
        yield row


def _entry_rows(
    rows: Iterable[Row],
    known: dict[str, _Known],
    *,
    tally: _Tally,
    edits: Continuity | None = None,
) -> Iterator[Row]:
    """The upsert rows, each with its change (opened, reopened or seen) and staging sequence.

    One row per fingerprint: when a run reports one twice the most severe wins, so a later,
    worse duplicate is staged too and the earlier row given up: its staging sequence marked
    superseded, or, when it was held, dropped (a duplicate naming another rule or file may be
    held where the first was not, or the other way round). A new
    code finding where the register has code entries of its rule and file is held by `edits`
    (it may be an edit of one of them) and staged after the stream (`_held_rows`).
    """
    kinds, best = tally.kinds, tally.best
    if edits is not None and not edits.may_hold():
        edits = None  # nothing to continue: no row is held
    for seq, row in enumerate(rows):
        severity, fingerprint = row[SEVERITY], row[FINGERPRINT]
        kinds[row[ACTION], severity] += 1
        rank = _RANK[severity]
        previous = best.get(fingerprint)
        if previous is not None and rank <= previous[0]:
            continue
        change = _apply_history(row, known.get(fingerprint))
        best[fingerprint] = (rank, seq)
        row[SEQ_AT], row[CHANGE_AT] = seq, change
        # The earlier row of a worse duplicate gives way, streamed (superseded) or held.
        was_held = previous is not None and edits is not None and edits.holds(fingerprint)
        if change == "opened" and edits is not None and edits.hold(row):
            if previous is not None and not was_held:  # it was counted when streamed
                tally.superseded.append((previous[1], fingerprint))
                tally.changes[change] -= 1
            continue  # counted when released; a worse duplicate replaces the held row
        if was_held and edits is not None:
            edits.drop(fingerprint)
            tally.changes[change] += 1
        elif previous is None:
            tally.changes[change] += 1
        else:
            tally.superseded.append((previous[1], fingerprint))
        yield row


def _held_rows(
    connection: Connection, edits: Continuity, known: dict[str, _Known], tally: _Tally
) -> list[Row]:
    """The held rows, each opened or continuing the entry whose code it is an edit of."""
    rows = []
    for row, continued in edits.release(connection, seen=tally.best):
        change = "opened" if continued is None else _apply_history(row, known[continued])
        tally.changes[change] += 1
        row[CHANGE_AT] = change
        rows.append(row)
    return rows


def _finding_row(
    item: EvaluatedFinding,
    *,
    verdict: Verdict,
    project_id: int,
    run_time: datetime,
    scorer: Scorer | None = None,
    check_nul: bool = True,
    due_dates: dict[int, date] | None = None,
) -> Row:
    """The finding's values in `COLUMNS` order, its sequence and change left None
    (`due_dates`: deadlines already worked out for this run time, by SLA days)."""
    finding, context = item.finding, verdict.context
    probability, impact, figures = (scorer or Scorer(context=context)).levels(finding)
    sla = figures.sla_days
    due = None if due_dates is None else due_dates.get(sla)
    if due is None:
        due = due_date_for(finding, opened_at=run_time, sla_days=sla)
        if due_dates is not None:
            due_dates[sla] = due
    where = finding.location
    row = [
        project_id,
        finding.fingerprint,
        finding.kind._value_,
        finding.scanner,
        finding.rule_id,
        finding.aliases,
        finding.title,
        finding.severity._value_,
        finding.cvss_score,
        where.path,
        where.start_line,
        where.package,
        where.version,
        where.manifest,
        finding.fix_versions,
        finding.known_exploited,
        finding.kev_due_date,
        finding.epss,
        finding.epss_percentile,
        finding.confidence,
        item.action._value_,
        _OPEN,  # status
        probability.value,
        impact.value,
        figures.score,
        figures.band,
        probability.reason,
        impact.reason,
        item.owner or context.default_owner,
        sla,
        due,
        None,  # accepted_until
        run_time,  # first_seen
        run_time,  # last_seen
        None,  # fixed_at
        0,  # reopened_count
        verdict.branch,
        verdict.run_id,
        figures.loss_low,
        figures.loss_high,
        finding.message or None,
        finding.snippet,
        where.end_line,
        finding.cwe,
        finding.owasp,
        finding.help_url,
        finding.cvss_vector,
        finding.remediation_target,
        where.scope,
        None,  # staging sequence
        None,  # change
        None,  # entry id
    ]
    if check_nul:
        for at in _TEXT_AT:
            if _has_nul(row[at]):
                row[at] = _clean(row[at])
    return row


def _has_nul(value: Any) -> bool:
    """Whether a text or a list of texts holds NUL or a lone surrogate."""
    if isinstance(value, str):
        return bool(UNSTORABLE.search(value))
    return isinstance(value, tuple) and any(isinstance(t, str) and UNSTORABLE.search(t)
                                            for t in value)


def _clean(value: Any) -> Any:
    """Strings are stored as given, except NUL, which PostgreSQL text cannot hold, and lone
    surrogates, which no UTF-8 encodes (each → U+FFFD)."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, tuple):
        return tuple(_clean(item) for item in value)
    return value


def _apply_history(row: Row, known: _Known | None) -> str:
    """Adjust a fresh row for what the register already knows; return the change kind."""
    if known is None:
        return "opened"
    row[ENTRY_AT] = known.id
    run_time: datetime = row[LAST]
    row[FIRST] = known.first_seen
    row[OWNER] = known.owner or row[OWNER]
    if known.status == EntryStatus.FIXED.value and known.fixed_at and run_time > known.fixed_at:
        row[REOPENED] = 1  # added to the stored count by the upsert
        return "reopened"
    row[STATUS], row[FIXED], row[DUE] = known.status, known.fixed_at, known.due_date
    row[ACCEPTED] = known.accepted_until
    if run_time < known.last_seen:  # an older run recorded late must not move time back
        row[LAST], row[BRANCH] = known.last_seen, known.branch
        row[LAST_RUN] = known.last_run_id
    return "seen"


def _may_fix(verdict: Verdict) -> bool:
    return verdict.scope is ScanScope.FULL


def _auto_fix(connection: Connection, verdict: Verdict, *, project_id: int, actor: str) -> int:
    """Fix active entries of this project and branch last seen before this full run."""
    run_time = aware(verdict.started_at)
    stale = (
        ENTRY.c.project_id == project_id,
        ENTRY.c.status.in_(ACTIVE),
        ENTRY.c.branch.is_not_distinct_from(verdict.branch),
        ENTRY.c.last_seen < run_time,
    )
    detail = sa.literal(f"not seen by {run_words(verdict)}", EVENT.c.detail.type)
    kind = sa.literal(EventKind.FIXED.value, EVENT.c.kind.type)
    events = sa.select(ENTRY.c.id, *event_columns(verdict, actor), kind, detail).where(*stale)
    connection.execute(sa.insert(EVENT).from_select(EVENT_FIELDS, events.order_by(ENTRY.c.id)))
    fix = (
        sa.update(ENTRY)
        .where(*stale)
        .values(status=EntryStatus.FIXED.value, fixed_at=run_time, accepted_until=None)
    )
    return int(connection.execute(fix).rowcount)


def _store_counts(connection: Connection, result: RecordResult, tally: _Tally) -> None:
    values = {
        "opened": result.opened,
        "seen": result.seen,
        "reopened": result.reopened,
        "fixed": result.fixed,
        "counts": tally.counts(),
        "finding_count": tally.total,
    }
    connection.execute(sa.update(RUN).where(RUN.c.run_id == result.run_id).values(values))


def _retryable(exc: DBAPIError) -> bool:
    state = getattr(exc.orig, "sqlstate", None)
    return state in _RETRYABLE_SQLSTATES or "database is locked" in str(exc.orig)


def record_verdict_in(
    engine: Engine,
    verdict: Verdict,
    *,
    findings: Callable[[], Iterable[EvaluatedFinding]] | None = None,
    project: str | None = None,
    actor: str = "gate",
    attempts: int = 5,
    may_hold_nul: bool = True,
) -> RecordResult:
    """Record in its own transaction, retrying deadlocks, serialisation failures and locks.

    `findings`, when given, streams the findings afresh for each attempt (a verdict file read
    with `register.verdict_stream`); otherwise they are the verdict's own.
    """
    for attempt in range(1, attempts + 1):
        try:
            with Session(writer_engine(engine)) as session, session.begin():
                items = findings() if findings else verdict.findings
                return record_findings(
                    session, verdict, items, project=project, actor=actor,
                    may_hold_nul=may_hold_nul,
                )
        except DBAPIError as exc:
            if attempt == attempts or not _retryable(exc):
                if isinstance(exc, OperationalError):
                    raise unavailable(engine.url, exc) from exc
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover
