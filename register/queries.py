"""Read-side queries of the register: lists, the 5×5 matrix, MTTP and SLA compliance.

Aggregates run in SQL (GROUP BY and window functions), never as Python loops over rows. The
median is portable SQL: rows numbered per group, the middle one or two averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from register.models import EntryStatus, Project, RiskEntry, RiskEvent, ScanRun

ACTIVE_STATUSES = (EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value)
SortKey = Literal["score", "due_date", "last_seen", "first_seen", "severity", "id"]
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
class MttpReport:
    """Mean and median time to patch by severity and by month, and SLA compliance."""

    by_severity: tuple[MttpRow, ...]
    by_month: tuple[MttpRow, ...]
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


def _project_filter(project: str | None) -> ColumnElement[bool]:
    if project is None:
        return sa.true()
    return col(RiskEntry.project_id).in_(select(Project.id).where(col(Project.name) == project))


def overdue_clause(on: date) -> ColumnElement[bool]:
    """Open entries past their deadline on `on`."""
    return sa.and_(col(RiskEntry.status) == EntryStatus.OPEN.value, col(RiskEntry.due_date) < on)


def _severity_rank() -> sa.Case[Any]:
    return sa.case({s: i for i, s in enumerate(_SEVERITY_ORDER)}, value=RiskEntry.severity)


_SORTS: dict[str, Any] = {
    "score": (col(RiskEntry.score).desc(), col(RiskEntry.due_date).asc()),
    "due_date": (col(RiskEntry.due_date).asc(), col(RiskEntry.score).desc()),
    "last_seen": (col(RiskEntry.last_seen).desc(),),
    "first_seen": (col(RiskEntry.first_seen).asc(),),
    "id": (col(RiskEntry.id).asc(),),
}


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
    conditions = [_project_filter(project)]
    conditions += [col(RiskEntry.probability) == probability] if probability else []
    conditions += [col(RiskEntry.impact) == impact] if impact else []
    conditions += [col(RiskEntry.status) == status] if status else []
    conditions += [col(RiskEntry.owner) == owner] if owner else []
    conditions += [col(RiskEntry.severity) == severity] if severity else []
    if overdue is not None:
        clause = overdue_clause(on or today())
        conditions.append(clause if overdue else sa.not_(clause))
    where = sa.and_(*conditions)
    total = session.exec(select(sa.func.count()).select_from(RiskEntry).where(where)).one()
    order = (_severity_rank(), col(RiskEntry.score).desc()) if sort == "severity" else _SORTS[sort]
    query = select(RiskEntry).where(where).order_by(*order, col(RiskEntry.id)).offset(offset)
    return list(session.exec(query.limit(limit)).all()), int(total)


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
    query = (
        select(RiskEntry.probability, RiskEntry.impact, sa.func.count())
        .where(col(RiskEntry.status).in_(statuses), _project_filter(project))
        .group_by(col(RiskEntry.probability), col(RiskEntry.impact))
    )
    matrix = [[0] * 5 for _ in range(5)]
    for probability, impact, count in session.exec(query).all():
        matrix[probability - 1][impact - 1] = count
    return matrix


def top_risks(session: Session, *, project: str | None = None, limit: int = 10) -> list[RiskEntry]:
    """The highest-scoring open entries."""
    entries, _ = list_entries(session, project=project, status="open", sort="score", limit=limit)
    return entries


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
    """Fixed entries and how many were fixed by their deadline (without the MTTP medians)."""
    overall = _sla_rows(session, by_severity=False, project=project)
    return overall[0] if overall else SlaRow(group="all", fixed=0, within_sla=0)


def mttp(session: Session, *, project: str | None = None) -> MttpReport:
    """Mean and median days from first seen to fixed, by severity and by month, plus SLA."""
    dialect = session.get_bind().dialect.name
    overall = _sla_rows(session, by_severity=False, project=project)
    return MttpReport(
        by_severity=tuple(_mttp_rows(session, col(RiskEntry.severity), project)),
        by_month=tuple(_mttp_rows(session, _fix_month(dialect), project)),
        sla_overall=overall[0] if overall else SlaRow(group="all", fixed=0, within_sla=0),
        sla_by_severity=tuple(_sla_rows(session, by_severity=True, project=project)),
    )


def project_summaries(session: Session, *, on: date | None = None) -> list[ProjectSummary]:
    """Per project: open, accepted, overdue, critical/high-band counts and expected loss."""

    def count_if(condition: ColumnElement[bool]) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    active = col(RiskEntry.status).in_(ACTIVE_STATUSES)
    query = (
        sa.select(
            col(Project.name),
            count_if(col(RiskEntry.status) == EntryStatus.OPEN.value),
            count_if(col(RiskEntry.status) == EntryStatus.ACCEPTED.value),
            count_if(overdue_clause(on or today())),
            count_if(sa.and_(active, col(RiskEntry.band) == "critical")),
            count_if(sa.and_(active, col(RiskEntry.band) == "high")),
            sa.func.sum(sa.case((active, RiskEntry.annual_loss_low))),
            sa.func.sum(sa.case((active, RiskEntry.annual_loss_high))),
            col(Project.currency),
        )
        .select_from(Project)
        .outerjoin(RiskEntry, col(RiskEntry.project_id) == Project.id)
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
