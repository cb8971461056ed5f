"""Read-side queries of the register: lists, the 5×5 matrix, MTTP and SLA compliance.

Aggregates run in SQL (GROUP BY and window functions), never as Python loops over rows.
Counts of entries (overview, matrix, triage totals) read `risk_summary`, which triggers keep
exact (migration 0002); lists and time to patch read `risk_entry` through the indexes of 0002.
The median is portable SQL on SQLite (rows numbered per group, the middle one or two averaged);
PostgreSQL reads the middle rows of each group from an index ordered by time to patch.
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
class MttpRow:
    """Time to patch of one group (a severity or a month `YYYY-MM` of the fix)."""

    group: str
    fixed: int
    mean_days: float
    median_days: float


@dataclass(frozen=True, kw_only=True)
class SlaRow:
    """How many fixed entries of a group were fixed by their deadline."""

    group: str
    fixed: int
    within_sla: int

    @property
    def percent(self) -> float:
        """Share fixed within the deadline, 0-100."""
        return 100.0 * self.within_sla / self.fixed if self.fixed else 0.0


@dataclass(frozen=True, kw_only=True)
class MttpCell:
    """Mean time to patch of one severity in one month of the fix (`YYYY-MM`)."""

    severity: str
    month: str
    fixed: int
    mean_days: float


@dataclass(frozen=True, kw_only=True)
class MttpReport:
    """Mean and median time to patch by severity and by month, and SLA compliance."""

    by_severity: tuple[MttpRow, ...]
    by_month: tuple[MttpRow, ...]
    by_severity_month: tuple[MttpCell, ...]
    sla_overall: SlaRow
    sla_by_severity: tuple[SlaRow, ...]


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


def _days_to_fix(dialect: str) -> ColumnElement[Any]:
    fixed, first = col(RiskEntry.fixed_at), col(RiskEntry.first_seen)
    if dialect == "sqlite":
        return sa.func.julianday(fixed) - sa.func.julianday(first)
    return sa.extract("epoch", fixed - first) / 86400.0


def _fix_month(dialect: str) -> ColumnElement[str]:
    if dialect == "sqlite":
        return sa.func.strftime("%Y-%m", RiskEntry.fixed_at)
    return sa.func.to_char(RiskEntry.fixed_at, "YYYY-MM")


def _mttp_rows(session: Session, group: Any, project: str | None) -> list[MttpRow]:
    dialect = session.get_bind().dialect.name
    days = _days_to_fix(dialect).label("days")
    base = (
        select(
            group.label("g"),
            days,
            sa.func.row_number().over(partition_by=group, order_by=days).label("rn"),
            sa.func.count().over(partition_by=group).label("n"),
        )
        .where(col(RiskEntry.status) == EntryStatus.FIXED.value, _project_filter(project))
        .subquery()
    )
    middle = sa.or_(base.c.rn == (base.c.n + 1) // 2, base.c.rn == (base.c.n + 2) // 2)
    median = sa.func.avg(sa.case((middle, base.c.days))).label("median")
    query = select(base.c.g, sa.func.count(), sa.func.avg(base.c.days), median).group_by(base.c.g)
    return [
        MttpRow(group=g, fixed=n, mean_days=round(float(mean), 2), median_days=round(float(med), 2))
        for g, n, mean, med in session.execute(query.order_by(base.c.g)).all()
    ]


def _mttp_cells(session: Session, project: str | None) -> list[MttpCell]:
    """Mean days to patch per (month of the fix, severity): the portable form."""
    dialect = session.get_bind().dialect.name
    month = _fix_month(dialect).label("month")
    query = (
        select(col(RiskEntry.severity), month, sa.func.count(), sa.func.avg(_days_to_fix(dialect)))
        .where(col(RiskEntry.status) == EntryStatus.FIXED.value, _project_filter(project))
        .group_by(col(RiskEntry.severity), month)
        .order_by(month, col(RiskEntry.severity))
    )
    return [
        MttpCell(severity=severity, month=when, fixed=n, mean_days=round(float(mean), 2))
        for severity, when, n, mean in session.execute(query).all()
    ]


def _sla_rows(session: Session, *, by_severity: bool, project: str | None) -> list[SlaRow]:
    within = sa.func.sum(
        sa.case((sa.func.date(RiskEntry.fixed_at) <= RiskEntry.due_date, 1), else_=0)
    )
    group = col(RiskEntry.severity) if by_severity else sa.literal("all")
    query = (
        select(group.label("g"), sa.func.count(), within)
        .where(col(RiskEntry.status) == EntryStatus.FIXED.value, _project_filter(project))
        .group_by(sa.text("g"))
    )
    return [
        SlaRow(group=g, fixed=n, within_sla=int(w or 0)) for g, n, w in session.execute(query).all()
    ]


def sla_compliance(session: Session, *, project: str | None = None) -> SlaRow:
    """Fixed entries and how many were fixed by their deadline, read from `risk_summary`."""
    query = sa.select(sa.func.sum(SUMMARY.c.entries), sa.func.sum(SUMMARY.c.on_time)).where(
        SUMMARY.c.status == _FIXED, project_condition(project, SUMMARY)
    )
    fixed, within = session.execute(query).one()
    return SlaRow(group="all", fixed=int(fixed or 0), within_sla=int(within or 0))


def mttp(session: Session, *, project: str | None = None) -> MttpReport:
    """Mean and median days from first seen to fixed, by severity and by month, plus SLA."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        cells = _pg_mttp_cells(session, project)
        by_severity = _pg_rollup(session, cells, project=project, month=False)
        sla_by_severity = tuple(
            SlaRow(group=row.group, fixed=row.fixed, within_sla=within)
            for row, within in by_severity
        )
        by_month = _pg_rollup(session, cells, project=project, month=True)
        return MttpReport(
            by_severity=tuple(row for row, _ in by_severity),
            by_month=tuple(row for row, _ in by_month),
            by_severity_month=tuple(
                MttpCell(
                    severity=cell.severity,
                    month=cell.month.strftime("%Y-%m"),
                    fixed=cell.fixed,
                    mean_days=round(cell.seconds / cell.fixed / 86400.0, 2),
                )
                for cell in sorted(cells, key=lambda c: (c.month, c.severity))
            ),
            sla_overall=_sla_total(sla_by_severity),
            sla_by_severity=sla_by_severity,
        )
    overall = _sla_rows(session, by_severity=False, project=project)
    return MttpReport(
        by_severity=tuple(_mttp_rows(session, col(RiskEntry.severity), project)),
        by_month=tuple(_mttp_rows(session, _fix_month(dialect), project)),
        by_severity_month=tuple(_mttp_cells(session, project)),
        sla_overall=overall[0] if overall else SlaRow(group="all", fixed=0, within_sla=0),
        sla_by_severity=tuple(_sla_rows(session, by_severity=True, project=project)),
    )


def _sla_total(rows: tuple[SlaRow, ...]) -> SlaRow:
    """The overall row from the per-severity rows SQL aggregated (five numbers, not entries)."""
    return SlaRow(
        group="all", fixed=sum(r.fixed for r in rows), within_sla=sum(r.within_sla for r in rows)
    )


def _pg_month(table: sa.FromClause) -> ColumnElement[Any]:
    # Spelled as in the index of migration 0002 (a literal unit, not a parameter).
    return sa.func.date_trunc(sa.literal_column("'month'"), table.c.fixed_at)


@dataclass(frozen=True, kw_only=True)
class _PgCell:
    """Fixed entries of one severity fixed in one month: count, summed seconds, SLA hits."""

    severity: str
    month: Any
    fixed: int
    seconds: float
    within_sla: int


def _pg_mttp_cells(session: Session, project: str | None) -> list[_PgCell]:
    """One grouped index-only scan of the fixed entries by (severity, month of the fix).

    Both MTTP tables are sums of these few cells (severities × months), which halves the
    work of two separate scans over every fixed entry.
    """
    month = _pg_month(ENTRY)
    seconds = _pg_seconds(ENTRY.c.fixed_at - ENTRY.c.first_seen)
    in_sla = sa.func.count().filter(sa.cast(ENTRY.c.fixed_at, sa.Date) <= ENTRY.c.due_date)
    query = (
        sa.select(ENTRY.c.severity, month, sa.func.count(), sa.func.sum(seconds), in_sla)
        .where(ENTRY.c.status == _FIXED, _project_filter(project))
        .group_by(ENTRY.c.severity, month)
    )
    return [
        _PgCell(severity=severity, month=when, fixed=n, seconds=float(total), within_sla=within)
        for severity, when, n, total, within in session.execute(query).all()
    ]


def _pg_rollup(
    session: Session, cells: list[_PgCell], *, project: str | None, month: bool
) -> list[tuple[MttpRow, int]]:
    """MTTP rows by month or by severity from the cells, each with its SLA hits."""
    groups: dict[Any, list[_PgCell]] = {}
    for cell in cells:
        groups.setdefault(cell.month if month else cell.severity, []).append(cell)
    rows = []
    for key in sorted(groups):
        members = groups[key]
        fixed = sum(cell.fixed for cell in members)
        mean = sum(cell.seconds for cell in members) / fixed / 86400.0
        median = _pg_median(session, key, n=fixed, project=project, month=month)
        row = MttpRow(
            group=key.strftime("%Y-%m") if month else key,
            fixed=fixed,
            mean_days=round(mean, 2),
            median_days=round(median, 2),
        )
        rows.append((row, sum(cell.within_sla for cell in members)))
    return rows


def _pg_seconds(interval: ColumnElement[Any]) -> ColumnElement[float]:
    # date_part is double precision; EXTRACT is numeric since PostgreSQL 14 (3× slower to avg).
    return sa.func.date_part(sa.literal_column("'epoch'"), interval, type_=sa.Float)


def _pg_median(session: Session, key: Any, *, n: int, project: str | None, month: bool) -> float:
    """The middle one or two days to patch of one group, read in index order (OFFSET n/2).

    PostgreSQL refuses a correlated OFFSET, hence one small query per group (severities, months).
    """
    to_patch = ENTRY.c.fixed_at - ENTRY.c.first_seen
    same_group = (_pg_month(ENTRY) if month else ENTRY.c.severity) == key
    middle = (
        sa.select(to_patch.label("d"))
        .where(ENTRY.c.status == _FIXED, same_group, _project_filter(project))
        .order_by(to_patch)
        .offset((n - 1) // 2)
        .limit(2 - n % 2)
        .subquery("middle")
    )
    seconds = sa.select(sa.func.avg(_pg_seconds(middle.c.d)))
    return float(session.execute(seconds).scalar_one()) / 86400.0


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
