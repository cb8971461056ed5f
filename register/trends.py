"""Trends for executives: weekly snapshots of the register, written when a run is recorded.

A snapshot is the project's state after a run (open, accepted and overdue entries, expected
loss by exposure, per band), taken from `risk_summary` (a few rows) and the project's active
component entries, and replaces that project's rows of the run's week. Reading the trend
sums the snapshots of the shown projects per week; a project
without a run in a week carries its last snapshot forward, so totals do not dip when a
project skips a week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from register.filters import project_condition
from register.models import EntryStatus, RiskEntry, UTCDateTime

BANDS = ("critical", "high", "medium", "low")
TREND = sa.Table(
    "risk_trend",
    sa.MetaData(),
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("week", sa.Date, primary_key=True),
    sa.Column("band", sa.String(20), primary_key=True),
    sa.Column("open", sa.Integer),
    sa.Column("accepted", sa.Integer),
    sa.Column("overdue", sa.Integer),
    sa.Column("priced", sa.Integer),
    sa.Column("loss_low", sa.Float),
    sa.Column("loss_high", sa.Float),
)
SUMMARY = sa.table(
    "risk_summary", sa.column("project_id"), sa.column("status"), sa.column("band"),
    sa.column("due_date"), sa.column("entries"), sa.column("priced"), sa.column("loss_low"),
    sa.column("loss_high"),
)


def week_of(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def snapshot(connection: Connection, *, project_id: int, at: datetime) -> None:
    """Replace the project's rows for the week of `at` with its state now."""
    week, on = week_of(at.date()), at.date()
    connection.execute(
        sa.delete(TREND).where(TREND.c.project_id == project_id, TREND.c.week == week)
    )
    entries, status = SUMMARY.c.entries, SUMMARY.c.status

    def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, entries), else_=0)), 0)

    source = (
        sa.select(
            sa.literal(project_id, sa.Integer), sa.literal(week, sa.Date), SUMMARY.c.band,
            count_if(status == EntryStatus.OPEN.value),
            count_if(status == EntryStatus.ACCEPTED.value),
            count_if(sa.and_(status == EntryStatus.OPEN.value, SUMMARY.c.due_date < on)),
            sa.func.coalesce(sa.func.sum(SUMMARY.c.priced), 0),
            sa.func.coalesce(sa.func.sum(SUMMARY.c.loss_low), 0.0),
            sa.func.coalesce(sa.func.sum(SUMMARY.c.loss_high), 0.0),
        )
        .where(SUMMARY.c.project_id == project_id,
               status.in_((EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value)))
        .group_by(SUMMARY.c.band)
    )
    columns = ["project_id", "week", "band", "open", "accepted", "overdue", "priced",
               "loss_low", "loss_high"]
    connection.execute(sa.insert(TREND).from_select(columns, source))
    _loss_by_exposure(connection, project_id=project_id, week=week)


def _loss_by_exposure(connection: Connection, *, project_id: int, week: date) -> None:
    """Count each vulnerable component's loss once, as the overview does: its risks' summed
    loss is replaced by the largest of them, shared equally among them (so per band too).

    Nothing to share when no active risk is priced (the project configures no money): the
    snapshot's `priced` says so without reading every entry again. Recording sets an entry's
    low and high loss together, so an unpriced entry has neither.
    """
    from register.plan import component_condition

    priced = sa.select(sa.func.coalesce(sa.func.sum(TREND.c.priced), 0)).where(
        TREND.c.project_id == project_id, TREND.c.week == week)
    if not connection.execute(priced).scalar():
        return

    entry: sa.Table = RiskEntry.__table__  # type: ignore[attr-defined]
    component = (entry.c.package, entry.c.version)
    members = sa.func.count().over(partition_by=component)
    inner = (
        sa.select(
            entry.c.band.label("band"),
            (sa.func.max(entry.c.annual_loss_low).over(partition_by=component) / members
             - entry.c.annual_loss_low).label("low"),
            (sa.func.max(entry.c.annual_loss_high).over(partition_by=component) / members
             - entry.c.annual_loss_high).label("high"),
        )
        .where(entry.c.project_id == project_id,
               entry.c.status.in_((EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value)),
               component_condition())
        .subquery("component_share")
    )
    query = sa.select(inner.c.band, sa.func.sum(inner.c.low), sa.func.sum(inner.c.high)).group_by(
        inner.c.band)
    for band, low, high in connection.execute(query).all():
        if low is None and high is None:
            continue
        connection.execute(
            sa.update(TREND)
            .where(TREND.c.project_id == project_id, TREND.c.week == week, TREND.c.band == band)
            .values(loss_low=TREND.c.loss_low + float(low or 0.0),
                    loss_high=TREND.c.loss_high + float(high or 0.0))
        )


@dataclass(frozen=True, kw_only=True)
class TrendWeek:
    """The register's state in one week: open risks per band, overdue, accepted, loss."""

    week: date
    open_by_band: dict[str, int]
    accepted: int
    overdue: int
    priced: int
    loss_low: float
    loss_high: float

    @property
    def open(self) -> int:
        """Open risks of every band."""
        return sum(self.open_by_band.values())


def weekly_trend(
    session: Session, *, project: str | None = None, weeks: int = 26, today: date
) -> list[TrendWeek]:
    """The last `weeks` weeks up to `today`'s, oldest first (empty before the first snapshot)."""
    last = week_of(today)
    first = last - timedelta(weeks=weeks - 1)
    query = (
        sa.select(TREND.c.project_id, TREND.c.week, TREND.c.band, TREND.c.open,
                  TREND.c.accepted, TREND.c.overdue, TREND.c.priced, TREND.c.loss_low,
                  TREND.c.loss_high)
        .where(project_condition(project, TREND), TREND.c.week <= last)
        .order_by(TREND.c.week)
    )
    latest: dict[int, dict[str, tuple[int, ...] | tuple[float, ...]]] = {}
    by_week: dict[date, list[tuple[int, str, tuple[float, ...]]]] = {}
    for project_id, week, band, *values in session.execute(query).all():
        by_week.setdefault(week, []).append((project_id, band, tuple(values)))
    return _carry_forward(by_week, latest, first=first, last=last)


def _carry_forward(
    by_week: dict[date, list[tuple[int, str, tuple[float, ...]]]],
    latest: dict[int, dict[str, tuple[float, ...]]],
    *, first: date, last: date,
) -> list[TrendWeek]:
    """Each week's totals, where a project keeps its last snapshot until it has a new one."""
    result: list[TrendWeek] = []
    weeks = sorted(by_week)
    week, index = min([first, *weeks[:1]]), 0
    while week <= last:
        while index < len(weeks) and weeks[index] <= week:
            fresh: dict[int, dict[str, tuple[float, ...]]] = {}
            for project_id, band, values in by_week[weeks[index]]:
                fresh.setdefault(project_id, {})[band] = values
            latest.update(fresh)
            index += 1
        if week >= first and latest:
            result.append(_total(week, latest))
        week += timedelta(weeks=1)
    return result


def _total(week: date, latest: dict[int, dict[str, tuple[float, ...]]]) -> TrendWeek:
    open_by_band = dict.fromkeys(BANDS, 0)
    sums = [0.0] * 5
    for bands in latest.values():
        for band, (opened, *rest) in bands.items():
            open_by_band[band] = open_by_band.get(band, 0) + int(opened)
            sums = [a + float(b) for a, b in zip(sums, rest, strict=True)]
    accepted, overdue, priced, low, high = sums
    return TrendWeek(week=week, open_by_band=open_by_band, accepted=int(accepted),
                     overdue=int(overdue), priced=int(priced), loss_low=low, loss_high=high)


OWNERS = sa.Table(
    "risk_owner_summary",
    sa.MetaData(),
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("owner", sa.String(200), primary_key=True),
    sa.Column("open", sa.Integer),
    sa.Column("overdue", sa.Integer),
    sa.Column("accepted", sa.Integer),
    sa.Column("severe", sa.Integer),
    sa.Column("earliest_due", sa.Date),
    sa.Column("as_of", UTCDateTime),
)
NO_OWNER = "(no owner)"


def refresh_owners(connection: Connection, *, project_id: int, at: datetime) -> None:
    """Recount one project's active risks per owner (index on project and status)."""
    entry: sa.Table = RiskEntry.__table__  # type: ignore[attr-defined]
    connection.execute(sa.delete(OWNERS).where(OWNERS.c.project_id == project_id))
    is_open = entry.c.status == EntryStatus.OPEN.value

    def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    owner = sa.func.coalesce(entry.c.owner, NO_OWNER)
    source = (
        sa.select(
            sa.literal(project_id, sa.Integer), owner, count_if(is_open),
            count_if(sa.and_(is_open, entry.c.due_date < at.date())),
            count_if(entry.c.status == EntryStatus.ACCEPTED.value),
            count_if(sa.and_(is_open, entry.c.band.in_(("critical", "high")))),
            sa.func.min(sa.case((is_open, entry.c.due_date))),
            sa.literal(at, UTCDateTime()),
        )
        .where(entry.c.project_id == project_id,
               entry.c.status.in_((EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value)))
        .group_by(owner)
    )
    columns = ["project_id", "owner", "open", "overdue", "accepted", "severe", "earliest_due",
               "as_of"]
    connection.execute(sa.insert(OWNERS).from_select(columns, source))


def refresh_owners_of(connection: Connection, *, entry_ids: list[int], at: datetime) -> None:
    """Recount the owners of the projects these entries belong to (after triage)."""
    entry: sa.Table = RiskEntry.__table__  # type: ignore[attr-defined]
    query = sa.select(entry.c.project_id).where(entry.c.id.in_(entry_ids)).distinct()
    for project_id in connection.execute(query).scalars().all():
        refresh_owners(connection, project_id=int(project_id), at=at)


@dataclass(frozen=True, kw_only=True)
class OwnerRow:
    """One owner's active risks over the shown projects."""

    owner: str
    open: int
    overdue: int
    accepted: int
    severe: int
    earliest_due: date | None


def owner_table(session: Session, *, project: str | None = None, limit: int = 25) -> list[OwnerRow]:
    """Owners with the most open risks first."""
    query = (
        sa.select(OWNERS.c.owner, sa.func.sum(OWNERS.c.open), sa.func.sum(OWNERS.c.overdue),
                  sa.func.sum(OWNERS.c.accepted), sa.func.sum(OWNERS.c.severe),
                  sa.func.min(OWNERS.c.earliest_due))
        .where(project_condition(project, OWNERS))
        .group_by(OWNERS.c.owner)
        .order_by(sa.func.sum(OWNERS.c.overdue).desc(), sa.func.sum(OWNERS.c.open).desc(),
                  OWNERS.c.owner)
        .limit(limit)
    )
    return [
        OwnerRow(owner=o, open=int(n), overdue=int(late), accepted=int(acc), severe=int(sev),
                 earliest_due=due)
        for o, n, late, acc, sev, due in session.execute(query).all()
    ]


@dataclass(frozen=True, kw_only=True)
class OnTime:
    """SLA compliance that counts the backlog: fixed in time over fixed plus open overdue."""

    fixed: int
    within_sla: int
    overdue_open: int

    @property
    def counted(self) -> int:
        """Risks whose deadline outcome is known: every fix, and every open risk already late."""
        return self.fixed + self.overdue_open

    @property
    def percent(self) -> float | None:
        """Share handled within the deadline, 0-100 (None when nothing counts yet)."""
        return 100.0 * self.within_sla / self.counted if self.counted else None


def sla_targets(sla_days: dict[str, int] | None) -> dict[str, float]:
    """Days to patch per severity from a project's policy, else the default policy's."""
    from gate.policy.schema import SlaDays

    defaults = SlaDays().model_dump()
    chosen = {**defaults, **(sla_days or {})}
    return {s: float(chosen[s]) for s in ("critical", "high", "medium", "low") if chosen.get(s)}
