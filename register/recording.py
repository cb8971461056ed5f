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
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
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
from register.triage import expire_acceptances

T = TypeVar("T")
ENTRY = RiskEntry.__table__  # type: ignore[attr-defined]
RUN = ScanRun.__table__  # type: ignore[attr-defined]
PROJECT = Project.__table__  # type: ignore[attr-defined]
EVENT = RiskEvent.__table__  # type: ignore[attr-defined]
ACTIVE = (EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value)
_OPEN = EntryStatus.OPEN.value
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
_LOAD = "risk_entry_load"
_SEQ, _CHANGE, _ENTRY = "load_seq", "load_change", "load_entry"  # staging-only columns
# The staged entry columns, in the order of a row's values; a row then holds its staging
# sequence, its change and its entry's id (a list: building and encoding 100k dicts cost a
# second).
_COLUMNS = (
    "project_id", "fingerprint", "kind", "scanner", "rule_id", "aliases", "title", "severity",
    "cvss_score", "path", "start_line", "package", "version", "manifest", "fix_versions",
    "known_exploited", "kev_due_date", "epss", "epss_percentile", "confidence", "action",
    "status", "probability", "impact", "score", "band", "probability_reason", "impact_reason",
    "owner", "sla_days", "due_date", "accepted_until", "first_seen", "last_seen", "fixed_at",
    "reopened_count", "branch", "last_run_id", "annual_loss_low", "annual_loss_high", "message",
    "snippet", "end_line", "cwe", "owasp", "help_url", "cvss_vector", "remediation_target",
    "scope",
)
_AT = {name: index for index, name in enumerate(_COLUMNS)}
_SEQ_AT, _CHANGE_AT, _ENTRY_AT = len(_COLUMNS), len(_COLUMNS) + 1, len(_COLUMNS) + 2
_TEXT_AT = tuple(_AT[key] for key in _TEXT_KEYS)
_LIMITS = entry_limits(_AT)
_OWNER, _STATUS, _DUE = _AT["owner"], _AT["status"], _AT["due_date"]
_ACCEPTED, _FIRST, _LAST = _AT["accepted_until"], _AT["first_seen"], _AT["last_seen"]
_FIXED, _REOPENED = _AT["fixed_at"], _AT["reopened_count"]
_BRANCH, _LAST_RUN = _AT["branch"], _AT["last_run_id"]
Row = list[Any]  # a staged row: the values of `_COLUMNS`, then sequence, change, entry id
_DATETIME_COLUMNS = frozenset({"first_seen", "last_seen", "fixed_at"})
_SIGHTING = ("last_seen", "last_run_id")  # what a re-run of an unchanged finding changes
Converter = Callable[[Any], Any]
_JSON_STRING: Callable[[str], str] = json.encoder.encode_basestring_ascii  # json.dumps's
_EVENT_FIELDS = ["entry_id", "run_id", "at", "actor", "kind", "detail"]
_FINGERPRINT = _AT["fingerprint"]
# A row whose entry this run already merged from an earlier, less severe duplicate.
_REPLACED = "replaced"
_LOGGED_CHANGES = ("opened", "reopened")  # the changes that log an event
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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _insert(connection: Connection) -> Callable[[Any], Any]:
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


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
    Findings are consumed once, staged in bulk and merged by one upsert statement, so memory
    does not grow with their number. `may_hold_nul=False` (the file holds no `\\u0000`)
    skips the per-row NUL check. `received_at` (uploads) caps the run's times at its receipt.
    `adopt_context=False` (uploads) scores with the project's stored settings and leaves them
    as they are; otherwise the verdict's context becomes the project's settings.
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
        findings, known, verdict=header, project_id=project_id, tally=tally,
        check_nul=may_hold_nul, edits=edits,
    )
    merger = _Merger(connection=connection, verdict=header, actor=actor, tally=tally)
    with Overlapped(threaded=_may_thread(connection)) as overlap:
        for batch in _batches(rows, _BATCH_ROWS):  # read while the batch before is merged
            merger.add(batch, overlap)
        overlap.wait()
        merger.let_held_replace(edits)
        merger.add(_held_rows(connection, edits, known, tally), overlap)
    if merger.staged:
        edits.log(connection, run_id=header.run_id, at=_aware(header.started_at), actor=actor)
    fixed = 0
    if _may_fix(header):
        fixed = _auto_fix(connection, header, project_id=project_id, actor=actor)
    if merger.staged:
        _drop_staged(connection)
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
    at = _aware(header.started_at)
    trends.snapshot(connection, project_id=project_id, at=at)
    trends.refresh_owners(connection, project_id=project_id, at=at)
    return result


def no_later_than(verdict: Verdict, moment: datetime) -> Verdict:
    """`verdict` with its start and finish times capped at `moment`."""
    cap = _aware(moment)
    started, finished = _aware(verdict.started_at), _aware(verdict.finished_at)
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
    insert = _insert(connection)(PROJECT).values({"name": name, **values, **stamps})
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
        "started_at": _aware(verdict.started_at),
        "finished_at": _aware(verdict.finished_at),
        "recorded_at": utc_now(),
        "recorded_by": actor,
    }
    insert = (
        _insert(connection)(RUN).values(values).on_conflict_do_nothing(index_elements=["run_id"])
    )
    return connection.execute(insert.returning(RUN.c.id)).first() is not None


@dataclass(kw_only=True)
class _Tally:
    """What the stream held: counts for the run row, changes, and duplicates to drop."""

    # (action, severity) -> findings of the stream (duplicates included)
    kinds: Counter[tuple[Action, Severity]] = field(default_factory=Counter)
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
        by_action: Counter[Action] = Counter()
        by_severity: Counter[Severity] = Counter()
        for (action, severity), count in self.kinds.items():
            by_action[action] += count
            by_severity[severity] += count
        return {
            "action": {a.value: by_action.get(a, 0) for a in Action},
            "severity": {s.value: by_severity.get(s, 0) for s in Severity},
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


def _entry_rows(
    findings: Iterable[EvaluatedFinding],
    known: dict[str, _Known],
    *,
    verdict: Verdict,
    project_id: int,
    tally: _Tally,
    check_nul: bool = True,
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
    run_time = _aware(verdict.started_at)
    scorer = Scorer(context=verdict.context)
    kinds, best = tally.kinds, tally.best
    for seq, item in enumerate(findings):
        finding = item.finding
        kinds[item.action, finding.severity] += 1
        rank, fingerprint = finding.severity.rank, finding.fingerprint
        previous = best.get(fingerprint)
        if previous is not None and rank <= previous[0]:
            continue
        row = _finding_row(
            item, verdict=verdict, project_id=project_id, run_time=run_time, scorer=scorer,
            check_nul=check_nul,
        )
        refuse_overlong_entry(row, seq, _LIMITS)
        change = _apply_history(row, known.get(fingerprint))
        best[fingerprint] = (rank, seq)
        row[_SEQ_AT], row[_CHANGE_AT] = seq, change
        # The earlier row of a worse duplicate gives way, streamed (superseded) or held.
        was_held = previous is not None and edits is not None and edits.holds(fingerprint)
        if change == "opened" and edits is not None and edits.hold(finding, row):
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
        change = _apply_history(row, known[continued]) if continued else "opened"
        tally.changes[change] += 1
        row[_CHANGE_AT] = change
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
) -> Row:
    """The finding's values in `_COLUMNS` order, its sequence and change left None."""
    finding, context = item.finding, verdict.context
    probability, impact, figures = (scorer or Scorer(context=context)).levels(finding)
    sla = figures.sla_days
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
        due_date_for(finding, opened_at=run_time, sla_days=sla),
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
    row[_ENTRY_AT] = known.id
    run_time: datetime = row[_LAST]
    row[_FIRST] = known.first_seen
    row[_OWNER] = known.owner or row[_OWNER]
    if known.status == EntryStatus.FIXED.value and known.fixed_at and run_time > known.fixed_at:
        row[_REOPENED] = 1  # added to the stored count by the upsert
        return "reopened"
    row[_STATUS], row[_FIXED], row[_DUE] = known.status, known.fixed_at, known.due_date
    row[_ACCEPTED] = known.accepted_until
    if run_time < known.last_seen:  # an older run recorded late must not move time back
        row[_LAST], row[_BRANCH] = known.last_seen, known.branch
        row[_LAST_RUN] = known.last_run_id
    return "seen"


@dataclass(kw_only=True)
class _Merger:
    """Merges batches of rows into the register through the staging table.

    Each batch is staged, then upserted and its opened and reopened entries logged (on the
    worker of `Overlapped`, while the next batch is read). A worse duplicate replaces its
    earlier row: dropped from its batch before staging when both are in it; otherwise the
    entry is already merged from the earlier row, and the later one updates it as a
    "replaced" change (no second event, no second reopening).
    """

    connection: Connection
    verdict: Verdict
    actor: str
    tally: _Tally
    staged: bool = False  # the staging table exists
    handled: int = 0  # superseded rows of the tally already applied
    replaced: set[str] = field(default_factory=set)  # merged from a row since superseded
    opened_ids: dict[str, int] = field(default_factory=dict)  # fingerprint -> its new entry
    next_id: int | None = None  # SQLite: the next entry id (the transaction writes alone)

    def add(self, rows: list[Row], overlap: Overlapped) -> None:
        """Stage `rows` once the batch before is merged, and merge them on the worker."""
        rows = self._without_superseded(rows)
        if not rows:
            return
        opened = []
        for row in rows:
            if row[_FINGERPRINT] in self.replaced:
                row[_REOPENED] = 0  # the earlier row's merge counted the reopening
                if row[_CHANGE_AT] != "seen":
                    row[_CHANGE_AT] = _REPLACED
                if row[_ENTRY_AT] is None:  # the entry its earlier row opened
                    row[_ENTRY_AT] = self.opened_ids[row[_FINGERPRINT]]
            elif row[_CHANGE_AT] == "opened":
                opened.append(row)
        seen = any(row[_CHANGE_AT] == "seen" for row in rows)
        overlap.wait()
        for row, entry_id in zip(opened, self._new_ids(len(opened)), strict=True):
            row[_ENTRY_AT] = self.opened_ids[row[_FINGERPRINT]] = entry_id
        if self.staged:
            _clear_staging(self.connection)
        else:
            _create_staging(self.connection)
            self.staged = True
        _load_rows(self.connection, rows)
        merge = functools.partial(self._merge, opened=bool(opened),
                                  known=len(opened) < len(rows), seen=seen)
        overlap.submit(merge)

    def _new_ids(self, count: int) -> Sequence[int]:
        """Ids for `count` new entries, in order: the staged rows carry them, so events and
        inserts need no lookup by fingerprint."""
        if not count:
            return []
        if self.connection.dialect.name == "postgresql":
            sequence = sa.func.pg_get_serial_sequence(ENTRY.name, "id")
            query = sa.select(sa.func.nextval(sequence)).select_from(
                sa.func.generate_series(1, count))
            return sorted(self.connection.execute(query).scalars())
        if self.next_id is None:  # SQLite gives max + 1, and no one else writes meanwhile
            top = self.connection.execute(sa.select(sa.func.max(ENTRY.c.id))).scalar()
            self.next_id = (top or 0) + 1
        first, self.next_id = self.next_id, self.next_id + count
        return range(first, first + count)

    def let_held_replace(self, edits: Continuity) -> None:
        """Remove the entries merged this run from a row whose worse duplicate is held.

        The held row may continue another entry, as when both had come in one statement;
        the entry and its event were written by this transaction, so no reader saw them.
        """
        self._without_superseded([])  # those the stream's last findings replaced
        held = sorted(fingerprint for fingerprint in self.replaced if edits.holds(fingerprint))
        if not held:
            return
        self.replaced.difference_update(held)
        project_id = self.connection.execute(
            sa.select(RUN.c.project_id).where(RUN.c.run_id == self.verdict.run_id)).scalar_one()
        for chunk in _chunks(held, 500):
            ids = sa.select(ENTRY.c.id).where(ENTRY.c.project_id == project_id,
                                              ENTRY.c.fingerprint.in_(chunk))
            self.connection.execute(sa.delete(EVENT).where(
                EVENT.c.entry_id.in_(ids), EVENT.c.run_id == self.verdict.run_id))
            self.connection.execute(sa.delete(ENTRY).where(ENTRY.c.id.in_(ids)))

    def _without_superseded(self, rows: list[Row]) -> list[Row]:
        """`rows` less those a worse duplicate since replaced; a replaced row of an earlier
        batch (already merged) marks its fingerprint `replaced`."""
        superseded = self.tally.superseded[self.handled:]
        self.handled = len(self.tally.superseded)
        if not superseded:
            return rows
        here = {row[_SEQ_AT] for row in rows}
        dropped = {seq for seq, _ in superseded if seq in here}
        self.replaced.update(fingerprint for seq, fingerprint in superseded if seq not in here)
        return [row for row in rows if row[_SEQ_AT] not in dropped] if dropped else rows

    def _merge(self, *, opened: bool, known: bool, seen: bool) -> None:
        if opened:
            _insert_opened(self.connection)
        if known:
            _upsert_staged(self.connection, list(_COLUMNS), seen=seen)
        _insert_change_events(self.connection, self.verdict, self.actor)


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _may_thread(connection: Connection) -> bool:
    """Whether the connection may be used from the merge worker: sqlite3 refuses a
    connection made in another thread unless asked not to check (SQLAlchemy's default)."""
    check = str(connection.engine.url.query.get("check_same_thread", "false")).lower()
    return connection.dialect.name != "sqlite" or check in ("false", "0", "no")


def _create_staging(connection: Connection) -> None:
    """The temporary staging table: the entry columns, then sequence and change."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_LOAD} ON COMMIT DROP AS"  # noqa: S608 - fixed names
            f" SELECT {', '.join(_COLUMNS)}, 0 AS {_SEQ}, CAST('' AS varchar(20)) AS {_CHANGE},"
            f" id AS {_ENTRY} FROM risk_entry WITH NO DATA"
        )
    else:  # untyped columns: they keep the stand-ins for NULL as bound (`_SQLITE_NULLS`)
        names = ", ".join((*_COLUMNS, _SEQ, _CHANGE, _ENTRY))
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {_LOAD} ({names})")


def _clear_staging(connection: Connection) -> None:
    """Empty the staging table for the next batch."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"TRUNCATE {_LOAD}")
    else:
        connection.exec_driver_sql(f"DELETE FROM {_LOAD}")  # noqa: S608 - a fixed name


def _load_rows(connection: Connection, rows: Iterable[Row]) -> None:
    """Append rows to the staging table (each row is encoded in place, then not used again)."""
    if connection.dialect.name == "postgresql":
        _pg_copy(connection, rows)
    else:
        _sqlite_executemany(connection, rows)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load_table(columns: Sequence[str]) -> sa.Table:
    """The staging table: the entry columns staged, plus sequence and change."""
    return sa.Table(
        _LOAD,
        sa.MetaData(),
        *(sa.Column(key, ENTRY.c[key].type) for key in columns),
        sa.Column(_SEQ, sa.Integer),
        sa.Column(_CHANGE, sa.String(20)),
        sa.Column(_ENTRY, sa.Integer),
        prefixes=["TEMPORARY"],
    )


def _encoder(
    convert: Callable[[str], Converter | None], nulls: dict[str, Any] | None = None
) -> Callable[[Row], Row]:
    """A row → its staged values, converting in place only the columns that need it, and
    putting `nulls`' stand-in in place of each None of their columns."""
    conversions = [(i, fn) for i, key in enumerate(_COLUMNS) if (fn := convert(key)) is not None]
    stand_ins = [(_AT[key], value) for key, value in (nulls or {}).items()]

    def encode(row: Row) -> Row:
        for index, fn in conversions:
            value = row[index]
            if value is not None:
                row[index] = fn(value)
        for index, value in stand_ins:
            if row[index] is None:
                row[index] = value
        return row

    return encode


def _sqlite_null_stand_ins() -> dict[str, Any]:
    """What SQLite staging binds for NULL in each nullable column, by what it stores.

    sqlite3 binds None through its adaptation protocol (a registry lookup and two attribute
    lookups), which was half of staging's time; an int and a str bind directly. A column
    stored as text takes 0, a numeric one '' (a value of the other type it never holds); the
    untyped staging table keeps them as bound, and the merge's `NULLIF` turns them back.
    """
    return {key: 0 if _stored_as_text(ENTRY.c[key].type) else ""
            for key in _COLUMNS if ENTRY.c[key].nullable}


def _stored_as_text(kind: sa.types.TypeEngine[Any]) -> bool:
    return not isinstance(kind, sa.Integer | sa.Float | sa.Boolean | sa.Numeric)


_SQLITE_NULLS = _sqlite_null_stand_ins()


def _sqlite_executemany(connection: Connection, rows: Iterable[Row]) -> None:
    """Stage with the driver's `executemany` over an iterator (flat memory).

    Values are converted by the column types' own SQLAlchemy bind processors, so they are
    stored exactly as an ORM insert would store them. A staged INSERT ... SELECT is also what
    keeps SQLite fast with the summary's triggers (migration 0002).
    """
    dialect = connection.dialect

    def convert(key: str) -> Converter | None:
        kind = ENTRY.c[key].type
        if isinstance(kind, sa.JSON):
            return _json_list
        if key in _DATETIME_COLUMNS:
            return _sqlite_datetime
        if isinstance(kind, sa.Date):
            return _sqlite_date
        if isinstance(kind, sa.Boolean):
            return int  # as its processor would; a bool binds through adaptation (slow)
        if isinstance(kind, sa.Float):
            return None  # sqlite3 binds floats as their processor would (REAL)
        processor: Converter | None = kind.dialect_impl(dialect).bind_processor(dialect)
        return processor

    encode = _encoder(convert, _SQLITE_NULLS)
    marks = ", ".join("?" for _ in range(_ENTRY_AT + 1))
    driver: Any = connection.connection.driver_connection  # sqlite3's connection
    driver.executemany(
        f"INSERT INTO {_LOAD} VALUES ({marks})",  # noqa: S608 - fixed names, placeholders
        map(encode, rows),
    )


def _pg_copy(connection: Connection, rows: Iterable[Row]) -> None:
    """Stage with a binary COPY into the temporary table (one round trip for all rows).

    Binary: numbers, dates and times go as they are instead of as text to parse (a third less
    time than text COPY for 100k rows). JSON columns are sent as their text (`json`'s binary
    form is its text), encoded as SQLAlchemy's JSON type writes it.
    """
    types = connection.exec_driver_sql(
        "SELECT CASE WHEN atttypid = 'json'::regtype THEN 'text'::regtype ELSE atttypid END"  # noqa: S608
        f" FROM pg_attribute WHERE attrelid = '{_LOAD}'::regclass AND attnum > 0"
        " AND NOT attisdropped ORDER BY attnum"
    ).scalars().all()

    def convert(key: str) -> Converter | None:
        if isinstance(ENTRY.c[key].type, sa.JSON):
            return _json_list
        if key in _DATETIME_COLUMNS:
            return _naive_utc
        return None

    encode = _encoder(convert)
    driver: Any = connection.connection.driver_connection  # psycopg's connection
    names = ", ".join((*_COLUMNS, _SEQ, _CHANGE, _ENTRY))
    statement = f"COPY {_LOAD} ({names}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(encode(row))


def _json_list(value: Sequence[str]) -> str:
    """A JSON array of texts (aliases, fix versions), as SQLAlchemy's JSON type writes it.

    That is `json.dumps`, whose text for a string is `encode_basestring_ascii`'s, joined here
    directly: `json.dumps` itself cost about 0.2 s for 100k findings' distinct alias lists.
    """
    if not value:  # most CWE and OWASP lists
        return "[]"
    try:
        return "[" + ", ".join(map(_JSON_STRING, value)) + "]"
    except TypeError:  # an item that is no text: the general encoder
        return json.dumps(list(value))


@functools.lru_cache(maxsize=1024)  # most rows share the run's time
def _sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format (naive UTC, microseconds always shown)."""
    return _naive_utc(value).isoformat(" ", "microseconds")


@functools.lru_cache(maxsize=1024)  # deadlines repeat across findings
def _sqlite_date(value: date) -> str:
    """SQLAlchemy's SQLite DATE storage format."""
    return value.isoformat()


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _upsert_staged(connection: Connection, columns: list[str], *, seen: bool) -> None:
    """The staged rows into the register: one upsert (SQLite: then the sightings it skipped).

    On SQLite a known entry whose finding is unchanged (a re-run) differs only in when and by
    which run it was last seen: the upsert leaves such a row alone, and one narrow UPDATE then
    writes those two columns, which no index and no summary trigger reads (rewriting every
    column touched all seven indexes: a 100k re-run's upsert took ~2.6 s, now ~1.3 s). The
    register ends as a full update leaves it. PostgreSQL writes a new row version either way
    and its bulk-loaded pages leave no room for index-free updates: there the split was
    slower, so every sighting is a full update as before.
    """
    load = _load_table(columns)
    statement = _insert(connection)(ENTRY)
    excluded = statement.excluded
    updates = {
        key: (ENTRY.c.reopened_count + excluded.reopened_count)
        if key == "reopened_count"
        else excluded[key]
        for key in columns
        if key not in _KEEP_ON_UPDATE
    }
    split = seen and connection.dialect.name == "sqlite"
    # SQLite stores -0.0 as 0.0 and JSON as its text, so `IS` compares what it stores.
    unchanged = sa.and_(
        excluded.reopened_count == 0,
        *(ENTRY.c[key].is_not_distinct_from(excluded[key])
          for key in updates if key not in (*_SIGHTING, "reopened_count")),
    )
    # `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint.
    source = sa.select(*_staged_values(connection, load, columns)).where(
        load.c[_CHANGE] != "opened")
    upsert = statement.from_select(columns, source).on_conflict_do_update(
        index_elements=["project_id", "fingerprint"], set_=updates,
        where=sa.not_(unchanged) if split else None,
    )
    connection.execute(upsert)
    if not split:
        return
    sighted = (
        sa.update(ENTRY)
        .values({key: load.c[key] for key in _SIGHTING})
        .where(ENTRY.c.id == load.c[_ENTRY], load.c[_CHANGE] == "seen")
        .where(sa.or_(*(ENTRY.c[key].is_distinct_from(load.c[key]) for key in _SIGHTING)))
    )
    connection.execute(sighted)


def _staged_values(
    connection: Connection, load: sa.Table, columns: Sequence[str]
) -> list[sa.ColumnElement[Any]]:
    """The staged columns as the register stores them (SQLite: NULL for its stand-ins)."""
    if connection.dialect.name != "sqlite":
        return [load.c[key] for key in columns]
    return [
        sa.func.nullif(load.c[key], sa.literal_column(repr(_SQLITE_NULLS[key]))).label(key)
        if key in _SQLITE_NULLS else load.c[key]
        for key in columns
    ]


def _where(verdict: Verdict) -> str:
    where = f"run {verdict.run_id} ({verdict.scope.value} scan"
    return where + (f" of {verdict.branch})" if verdict.branch else ")")


def _event_columns(verdict: Verdict, actor: str) -> list[Any]:
    """The constant part of a recording's events: run id, time, actor."""
    return [
        sa.literal(verdict.run_id, EVENT.c.run_id.type),
        sa.literal(_aware(verdict.started_at), EVENT.c.at.type),
        sa.literal(actor, EVENT.c.actor.type),
    ]


def _insert_opened(connection: Connection) -> None:
    """The staged new entries, with the ids they were given (no conflict is possible: the
    project's entries were read under its lock, and a fingerprint is staged once)."""
    load = _load_table(_COLUMNS)
    source = sa.select(load.c[_ENTRY], *_staged_values(connection, load, _COLUMNS)).where(
        load.c[_CHANGE] == "opened")
    connection.execute(sa.insert(ENTRY).from_select(["id", *_COLUMNS], source))


def _insert_change_events(connection: Connection, verdict: Verdict, actor: str) -> None:
    """One event per opened or reopened entry, in the order the findings came."""
    load = sa.table(_LOAD, sa.column(_ENTRY), sa.column(_SEQ), sa.column(_CHANGE, sa.String))
    detail = load.c[_CHANGE] + sa.literal(f" by {_where(verdict)}", sa.String)
    source = (
        sa.select(load.c[_ENTRY], *_event_columns(verdict, actor), load.c[_CHANGE], detail)
        .where(load.c[_CHANGE].in_(_LOGGED_CHANGES))
        .order_by(load.c[_SEQ])
    )
    connection.execute(sa.insert(EVENT).from_select(_EVENT_FIELDS, source))


def _drop_staged(connection: Connection) -> None:
    connection.exec_driver_sql(f"DROP TABLE {_LOAD}")


def _may_fix(verdict: Verdict) -> bool:
    return verdict.scope is ScanScope.FULL


def _auto_fix(connection: Connection, verdict: Verdict, *, project_id: int, actor: str) -> int:
    """Fix active entries of this project and branch last seen before this full run."""
    run_time = _aware(verdict.started_at)
    stale = (
        ENTRY.c.project_id == project_id,
        ENTRY.c.status.in_(ACTIVE),
        ENTRY.c.branch.is_not_distinct_from(verdict.branch),
        ENTRY.c.last_seen < run_time,
    )
    detail = sa.literal(f"not seen by {_where(verdict)}", EVENT.c.detail.type)
    kind = sa.literal(EventKind.FIXED.value, EVENT.c.kind.type)
    events = sa.select(ENTRY.c.id, *_event_columns(verdict, actor), kind, detail).where(*stale)
    connection.execute(sa.insert(EVENT).from_select(_EVENT_FIELDS, events.order_by(ENTRY.c.id)))
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
