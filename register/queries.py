"""Read-side queries of the register: lists, the 5×5 matrix and SLA compliance.

Aggregates run in SQL, never as Python loops over rows. Counts of entries (overview, matrix,
triage totals, fixes within SLA) read `risk_summary`, which triggers keep exact (migrations
0002 and 0006); lists read `risk_entry` through the indexes of 0002. MTTP is `patch_time`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from register.filters import (
    EntryFilter,
    entry_conditions,
    overdue_condition,
    project_condition,
    summary_conditions,
)
from register.models import EntryStatus, Project, RiskEntry, RiskEvent, ScanRun
from register.patch_time import MttpCell, MttpReport, MttpRow, SlaRow, mttp

__all__ = ["MttpCell", "MttpReport", "MttpRow", "SlaRow", "mttp"]  # MTTP lives in patch_time

ACTIVE_STATUSES = (EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value)
ENTRY: sa.Table = RiskEntry.__table__  # type: ignore[attr-defined]
# Maintained by the triggers of migration 0002: one row per count key, never written here.
SUMMARY = sa.Table(
    "risk_summary",
    sa.MetaData(),
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(20), primary_key=True),
    sa.Column("probability", sa.Integer, primary_key=True),
    sa.Column("impact", sa.Integer, primary_key=True),
    sa.Column("band", sa.String(20), primary_key=True),
    sa.Column("due_date", sa.Date, primary_key=True),
    sa.Column("entries", sa.Integer),
    sa.Column("priced", sa.Integer),
    sa.Column("loss_low", sa.Float),
    sa.Column("loss_high", sa.Float),
    sa.Column("on_time", sa.Integer),
)
# A literal (not a bound parameter), so PostgreSQL matches the partial indexes in any plan.
_FIXED: ColumnElement[str] = sa.literal_column("'fixed'")
SortKey = Literal[
    "score", "due_date", "last_seen", "first_seen", "severity", "id", "title", "owner", "status",
    "package",
]
_SEVERITY_ORDER = ("critical", "high", "medium", "low", "info", "unknown")


@dataclass(frozen=True, kw_only=True)
class ProjectSummary:
    """Counts and expected loss of one project's active risks."""

    name: str
    open: int
    accepted: int
    overdue: int
    critical: int
    high: int
    annual_loss_low: float | None
    annual_loss_high: float | None
    currency: str | None


def today() -> date:
    """The current UTC date (the reference for 'overdue')."""
    from register.models import utc_now

    return utc_now().date()


def _project_filter(project: str | None, table: sa.FromClause = ENTRY) -> ColumnElement[bool]:
    return project_condition(project, table)


def overdue_clause(on: date, table: sa.FromClause = ENTRY) -> ColumnElement[bool]:
    """Open entries past their deadline on `on` (of `risk_entry` or of the summary)."""
    return overdue_condition(on, table)


def _severity_rank() -> sa.Case[Any]:
    return sa.case({s: i for i, s in enumerate(_SEVERITY_ORDER)}, value=RiskEntry.severity)


_SORTS: dict[str, Any] = {
    "score": (col(RiskEntry.score).desc(), col(RiskEntry.due_date).asc()),
    "due_date": (col(RiskEntry.due_date).asc(), col(RiskEntry.score).desc()),
    "last_seen": (col(RiskEntry.last_seen).desc(),),
    "first_seen": (col(RiskEntry.first_seen).asc(),),
    "id": (col(RiskEntry.id).asc(),),
    "title": (col(RiskEntry.title).asc(),),
    "owner": (col(RiskEntry.owner).asc(), col(RiskEntry.score).desc()),
    "status": (col(RiskEntry.status).asc(), col(RiskEntry.score).desc()),
    "package": (col(RiskEntry.package).asc(), col(RiskEntry.score).desc()),
}


def count_entries(session: Session, chosen: EntryFilter, *, on: date | None = None) -> int:
    """How many entries match (from `risk_summary` when the filter allows it)."""
    on = on or today()
    if chosen.summary_countable():
        counted = select(sa.func.coalesce(sa.func.sum(SUMMARY.c.entries), 0))
        return int(session.execute(
            counted.where(*summary_conditions(chosen, SUMMARY, on=on))).scalar_one())
    where = sa.and_(*entry_conditions(chosen, on=on))
    return int(session.exec(select(sa.func.count()).select_from(RiskEntry).where(where)).one())


def filtered_entries(
    session: Session,
    chosen: EntryFilter,
    *,
    sort: SortKey = "score",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
    on: date | None = None,
) -> tuple[list[RiskEntry], int]:
    """A page of the entries matching `chosen` and their total; `descending` reverses the sort."""
    on = on or today()
    order = (_severity_rank(), col(RiskEntry.score).desc()) if sort == "severity" else _SORTS[sort]
    order = (*order, col(RiskEntry.id))
    if descending:
        order = tuple(_reversed(clause) for clause in order)
    where = sa.and_(*entry_conditions(chosen, on=on))
    query = select(RiskEntry).where(where).order_by(*order).offset(offset)
    return list(session.exec(query.limit(limit)).all()), count_entries(session, chosen, on=on)


def _reversed(clause: Any) -> Any:
    modifier = getattr(clause, "modifier", None)
    if modifier is sa.sql.operators.desc_op:
        return clause.element.asc()
    if modifier is sa.sql.operators.asc_op:
        return clause.element.desc()
    return clause.desc()


def matching_ids(session: Session, chosen: EntryFilter, *, limit: int) -> list[int]:
    """Ids of the entries matching `chosen`, at most `limit` (bulk triage), lowest first."""
    where = sa.and_(*entry_conditions(chosen, on=today()))
    query = select(col(RiskEntry.id)).where(where).order_by(col(RiskEntry.id)).limit(limit)
    return [int(i) for i in session.exec(query).all() if i is not None]


def list_entries(
    session: Session,
    *,
    project: str | None = None,
    status: str | None = None,
    owner: str | None = None,
    severity: str | None = None,
    overdue: bool | None = None,
    on: date | None = None,
    sort: SortKey = "score",
    limit: int = 50,
    offset: int = 0,
    probability: int | None = None,
    impact: int | None = None,
) -> tuple[list[RiskEntry], int]:
    """Entries matching the filters (page of them) and the total count."""
    chosen = EntryFilter(project=project, status=status, owner=owner, severity=severity,
                         overdue=overdue, probability=probability, impact=impact)
    return filtered_entries(session, chosen, sort=sort, limit=limit, offset=offset, on=on)


def get_entry(session: Session, *, entry_id: int) -> RiskEntry | None:
    """One entry by id."""
    return session.get(RiskEntry, entry_id)


def project_name(session: Session, *, project_id: int) -> str:
    """The name of a project by id."""
    return session.exec(select(Project.name).where(col(Project.id) == project_id)).one()


def get_project(session: Session, *, name: str) -> Project | None:
    """One project by name."""
    return session.exec(select(Project).where(col(Project.name) == name)).first()


def entry_events(session: Session, *, entry_id: int) -> list[RiskEvent]:
    """The event log of one entry, oldest first."""
    query = select(RiskEvent).where(col(RiskEvent.entry_id) == entry_id)
    return list(session.exec(query.order_by(col(RiskEvent.at), col(RiskEvent.id))).all())


def runs_by_id(session: Session, run_ids: list[str]) -> dict[str, ScanRun]:
    """Recorded runs by their run id (the first and last sighting of an entry)."""
    wanted = sorted({run_id for run_id in run_ids if run_id})
    if not wanted:
        return {}
    rows = session.exec(select(ScanRun).where(col(ScanRun.run_id).in_(wanted))).all()
    return {run.run_id: run for run in rows}


def list_runs(
    session: Session, *, project: str | None = None, limit: int = 50, offset: int = 0
) -> list[tuple[ScanRun, str]]:
    """Recorded runs, newest first, with their project's name."""
    query = select(ScanRun, Project.name).join(Project, col(Project.id) == ScanRun.project_id)
    if project is not None:
        query = query.where(col(Project.name) == project)
    query = query.order_by(col(ScanRun.started_at).desc(), col(ScanRun.id).desc())
    return [(run, name) for run, name in session.exec(query.offset(offset).limit(limit)).all()]


def risk_matrix(
    session: Session, *, project: str | None = None, statuses: tuple[str, ...] = ACTIVE_STATUSES
) -> list[list[int]]:
    """5×5 counts: `matrix[probability - 1][impact - 1]` over entries with these statuses."""
    cells = SUMMARY.c.probability, SUMMARY.c.impact
    query = (
        sa.select(*cells, sa.func.sum(SUMMARY.c.entries))
        .where(SUMMARY.c.status.in_(statuses), _project_filter(project, SUMMARY))
        .group_by(*cells)
    )
    matrix = [[0] * 5 for _ in range(5)]
    for probability, impact, count in session.execute(query).all():
        matrix[probability - 1][impact - 1] = int(count)
    return matrix


def top_risks(session: Session, *, project: str | None = None, limit: int = 10) -> list[RiskEntry]:
    """The highest-scoring open entries (no total count)."""
    query = (
        select(RiskEntry)
        .where(col(RiskEntry.status) == EntryStatus.OPEN.value, _project_filter(project))
        .order_by(*_SORTS["score"], col(RiskEntry.id))
    )
    return list(session.exec(query.limit(limit)).all())


def sla_compliance(session: Session, *, project: str | None = None) -> SlaRow:
    """Fixed entries and how many were fixed by their deadline, read from `risk_summary`."""
    query = sa.select(sa.func.sum(SUMMARY.c.entries), sa.func.sum(SUMMARY.c.on_time)).where(
        SUMMARY.c.status == _FIXED, project_condition(project, SUMMARY)
    )
    fixed, within = session.execute(query).one()
    return SlaRow(group="all", fixed=int(fixed or 0), within_sla=int(within or 0))


def project_summaries(session: Session, *, on: date | None = None) -> list[ProjectSummary]:
    """Per project: open, accepted, overdue, critical/high-band counts and expected loss."""
    entries = SUMMARY.c.entries

    def count_if(condition: ColumnElement[bool]) -> Any:
        return sa.func.sum(sa.case((condition, entries), else_=0))

    def loss(column: sa.Column[Any]) -> Any:
        return sa.case((sa.func.sum(SUMMARY.c.priced) > 0, sa.func.sum(column)))

    joined = sa.and_(SUMMARY.c.project_id == Project.id, SUMMARY.c.status.in_(ACTIVE_STATUSES))
    query = (
        sa.select(
            col(Project.name),
            count_if(SUMMARY.c.status == EntryStatus.OPEN.value),
            count_if(SUMMARY.c.status == EntryStatus.ACCEPTED.value),
            count_if(overdue_clause(on or today(), SUMMARY)),
            count_if(SUMMARY.c.band == "critical"),
            count_if(SUMMARY.c.band == "high"),
            loss(SUMMARY.c.loss_low),
            loss(SUMMARY.c.loss_high),
            col(Project.currency),
        )
        .select_from(Project)
        .outerjoin(SUMMARY, joined)
        .group_by(col(Project.id), col(Project.name), col(Project.currency))
        .order_by(col(Project.name))
    )
    return [_summary(row) for row in session.execute(query).all()]


def _summary(row: Any) -> ProjectSummary:
    name, opened, accepted, overdue, critical, high, low, high_loss, currency = row
    return ProjectSummary(
        name=name,
        open=int(opened or 0),
        accepted=int(accepted or 0),
        overdue=int(overdue or 0),
        critical=int(critical or 0),
        high=int(high or 0),
        annual_loss_low=None if low is None else float(low),
        annual_loss_high=None if high_loss is None else float(high_loss),
        currency=currency,
    )


@dataclass(frozen=True, kw_only=True)
class GroupRow:
    """Matching entries sharing one package or rule: how many, the worst score, the deadline."""

    key: str
    entries: int
    top_score: int
    earliest_due: date
    known_exploited: int


def group_entries(
    session: Session, chosen: EntryFilter, *, by: Literal["package", "rule"], limit: int = 100
) -> list[GroupRow]:
    """The matching entries grouped by package or by rule id, worst groups first."""
    key = ENTRY.c.package if by == "package" else ENTRY.c.rule_id
    kev = sa.func.sum(sa.case((ENTRY.c.known_exploited.is_(sa.true()), 1), else_=0))
    query = (
        sa.select(key, sa.func.count(), sa.func.max(ENTRY.c.score),
                  sa.func.min(ENTRY.c.due_date), kev)
        .where(*entry_conditions(chosen, on=today()), key.is_not(None))
        .group_by(key)
        .order_by(sa.func.max(ENTRY.c.score).desc(), sa.func.count().desc(), key)
        .limit(limit)
    )
    return [
        GroupRow(key=name, entries=int(n), top_score=int(top), earliest_due=due,
                 known_exploited=int(exploited or 0))
        for name, n, top, due, exploited in session.execute(query).all()
    ]
