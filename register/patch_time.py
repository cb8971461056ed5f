"""Mean time to patch (MTTP) and SLA compliance of fixed entries, on SQLite and PostgreSQL.

One grouped, index-only scan of the fixed entries by (severity, month of the fix) gives every
count, mean and SLA figure: the tables by severity and by month are sums of those few cells.
Medians read the middle one or two rows of each group from an index ordered by time to patch
(OFFSET n/2), never sorting every fixed entry. The indexes are partial (fixed entries only):
PostgreSQL's come from migration 0002, SQLite's expression indexes from migration 0007, and
each expression below is spelled exactly as its index so the planner matches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from register.filters import project_condition
from register.models import RiskEntry

ENTRY: sa.Table = RiskEntry.__table__  # type: ignore[attr-defined]
# Literals, not bound parameters, so that both databases match the partial/expression indexes.
FIXED: ColumnElement[str] = sa.literal_column("'fixed'")
SECONDS_PER_DAY = 86400.0
# SQLite's cells: the planner (without statistics) prefers the status index and reads every
# row; the covering expression index of migration 0007 answers from the index alone.
_SQLITE_CELLS = """
SELECT severity, strftime('%Y-%m', fixed_at) AS month, count(*),
  sum(julianday(fixed_at) - julianday(first_seen)), sum(date(fixed_at) <= due_date)
FROM risk_entry INDEXED BY ix_risk_entry_fixed_cells
WHERE status = 'fixed' {project}
GROUP BY severity, month
"""
_SQLITE_PROJECT = "AND project_id IN (SELECT id FROM project WHERE name = :project)"


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
class _Cell:
    """Fixed entries of one severity fixed in one month: count, summed days, SLA hits."""

    severity: str
    month: str
    month_key: Any  # the month as indexed: a timestamp on PostgreSQL, `YYYY-MM` on SQLite
    fixed: int
    days: float
    within_sla: int


def mttp(session: Session, *, project: str | None = None) -> MttpReport:
    """Mean and median days from first seen to fixed, by severity and by month, plus SLA."""
    dialect = _Dialect(session.get_bind().dialect.name)
    cells = dialect.cells(session, project)
    by_severity = _rollup(session, dialect, cells, project=project, month=False)
    sla_by_severity = tuple(
        SlaRow(group=row.group, fixed=row.fixed, within_sla=within) for row, within in by_severity
    )
    return MttpReport(
        by_severity=tuple(row for row, _ in by_severity),
        by_month=tuple(row for row, _ in _rollup(session, dialect, cells, project=project,
                                                 month=True)),
        by_severity_month=tuple(
            MttpCell(severity=cell.severity, month=cell.month, fixed=cell.fixed,
                     mean_days=round(cell.days / cell.fixed, 2))
            for cell in sorted(cells, key=lambda c: (c.month, c.severity))
        ),
        sla_overall=SlaRow(
            group="all",
            fixed=sum(row.fixed for row in sla_by_severity),
            within_sla=sum(row.within_sla for row in sla_by_severity),
        ),
        sla_by_severity=sla_by_severity,
    )


class _Dialect:
    """The spelling of months, time to patch and the cell scan in one database."""

    def __init__(self, name: str) -> None:
        self.postgresql = name == "postgresql"

    def month(self) -> ColumnElement[Any]:
        """The month of the fix, as indexed (PostgreSQL: a timestamp; SQLite: `YYYY-MM`)."""
        if self.postgresql:
            return sa.func.date_trunc(sa.literal_column("'month'"), ENTRY.c.fixed_at)
        return sa.func.strftime(sa.literal_column("'%Y-%m'"), ENTRY.c.fixed_at)

    def to_patch(self) -> ColumnElement[Any]:
        """Time to patch, as indexed (PostgreSQL: an interval; SQLite: days)."""
        if self.postgresql:
            return ENTRY.c.fixed_at - ENTRY.c.first_seen
        return sa.func.julianday(ENTRY.c.fixed_at) - sa.func.julianday(ENTRY.c.first_seen)

    def days(self, to_patch: ColumnElement[Any]) -> ColumnElement[Any]:
        """`to_patch` in days."""
        if self.postgresql:
            # date_part is double precision; EXTRACT is numeric since 14 (3× slower to sum).
            epoch = sa.func.date_part(sa.literal_column("'epoch'"), to_patch, type_=sa.Float)
            return epoch / SECONDS_PER_DAY
        return to_patch

    def cells(self, session: Session, project: str | None) -> list[_Cell]:
        """One grouped index-only scan of the fixed entries by (severity, month)."""
        if self.postgresql:
            month = self.month()
            in_sla = sa.func.count().filter(sa.cast(ENTRY.c.fixed_at, sa.Date) <= ENTRY.c.due_date)
            query = (
                sa.select(ENTRY.c.severity, month, sa.func.count(),
                          sa.func.sum(self.days(self.to_patch())), in_sla)
                .where(ENTRY.c.status == FIXED, project_condition(project))
                .group_by(ENTRY.c.severity, month)
            )
            rows = session.execute(query).all()
        else:
            text = _SQLITE_CELLS.format(project=_SQLITE_PROJECT if project is not None else "")
            rows = session.execute(sa.text(text), {"project": project}).all()
        return [
            _Cell(severity=severity, month=key if isinstance(key, str) else key.strftime("%Y-%m"),
                  month_key=key, fixed=n, days=float(days), within_sla=int(ok))
            for severity, key, n, days, ok in rows
        ]


def _rollup(
    session: Session, dialect: _Dialect, cells: list[_Cell], *, project: str | None, month: bool
) -> list[tuple[MttpRow, int]]:
    """MTTP rows by month or by severity from the cells, each with its SLA hits."""
    groups: dict[str, list[_Cell]] = {}
    for cell in cells:
        groups.setdefault(cell.month if month else cell.severity, []).append(cell)
    rows = []
    for key in sorted(groups):
        members = groups[key]
        fixed = sum(cell.fixed for cell in members)
        indexed = members[0].month_key if month else key
        median = _median_days(session, dialect, indexed, n=fixed, project=project, month=month)
        row = MttpRow(
            group=key,
            fixed=fixed,
            mean_days=round(sum(cell.days for cell in members) / fixed, 2),
            median_days=round(median, 2),
        )
        rows.append((row, sum(cell.within_sla for cell in members)))
    return rows


def _median_days(
    session: Session, dialect: _Dialect, key: Any, *, n: int, project: str | None, month: bool
) -> float:
    """The middle one or two times to patch of one group, read in index order (OFFSET n/2).

    PostgreSQL refuses a correlated OFFSET, hence one small query per group (severities, months).
    """
    to_patch = dialect.to_patch()
    same_group = dialect.month() == key if month else ENTRY.c.severity == key
    middle = (
        sa.select(to_patch.label("d"))
        .where(ENTRY.c.status == FIXED, same_group, project_condition(project))
        .order_by(to_patch)
        .offset((n - 1) // 2)
        .limit(2 - n % 2)
        .subquery("middle")
    )
    return float(session.execute(sa.select(sa.func.avg(dialect.days(middle.c.d)))).scalar_one())
