"""Glue between the register's rows and what the web shows: public shapes and project names.

Every database access goes through `register.queries`, except the one lookup of project
names for a page of entries, which lives here because only the web needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from register import queries, trends
from register.models import Project, RiskEntry, RiskEntryPublic, RiskEventPublic
from register.plan import exposure_summaries
from register.queries import ProjectSummary
from register.scoring import IMPACT_WORDS, LIKELIHOOD_WORDS
from register.web.schemas import (
    FindingDetail,
    MatrixPublic,
    MttpCellPublic,
    MttpPublic,
    MttpRowPublic,
    ProjectPublic,
    SlaPublic,
    TrendsPublic,
    TrendWeekPublic,
)

WEEKS = 26  # how far back the trends go


@dataclass(frozen=True, kw_only=True)
class Totals:
    """Counts over the shown projects, and the loss estimate when one currency is used."""

    open: int
    accepted: int
    overdue: int
    critical: int
    annual_loss_low: float | None
    annual_loss_high: float | None
    currency: str | None


def totals(summaries: list[ProjectSummary]) -> Totals:
    """Sum project summaries; money only when configured and in a single currency."""
    priced = [s for s in summaries if s.annual_loss_low is not None]
    currencies = {s.currency for s in priced}
    single = len(currencies) == 1
    return Totals(
        open=sum(s.open for s in summaries),
        accepted=sum(s.accepted for s in summaries),
        overdue=sum(s.overdue for s in summaries),
        critical=sum(s.critical for s in summaries),
        annual_loss_low=sum(s.annual_loss_low or 0 for s in priced) if single else None,
        annual_loss_high=sum(s.annual_loss_high or 0 for s in priced) if single else None,
        currency=next(iter(currencies)) if single else None,
    )


def project_names(session: Session, project_ids: Iterable[int]) -> dict[int, str]:
    """Names of the given projects by id (one query)."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    rows = session.exec(select(Project.id, Project.name).where(col(Project.id).in_(ids))).all()
    return {int(pid): name for pid, name in rows if pid is not None}


def all_project_names(session: Session) -> list[str]:
    """Every project's name, sorted (for pickers; no aggregation)."""
    return list(session.exec(select(Project.name).order_by(col(Project.name))).all())


def entries_public(session: Session, entries: list[RiskEntry]) -> list[RiskEntryPublic]:
    """Public shapes of entries, with their project names."""
    names = project_names(session, (e.project_id for e in entries))
    return [RiskEntryPublic.from_entry(e, project=names[e.project_id]) for e in entries]


def finding_detail(session: Session, entry: RiskEntry) -> FindingDetail:
    """An entry, its business words and its event log."""
    assert entry.id is not None  # noqa: S101 - stored entries have ids
    events = queries.entry_events(session, entry_id=entry.id)
    return FindingDetail(
        finding=entries_public(session, [entry])[0],
        likelihood=LIKELIHOOD_WORDS[entry.probability],
        impact=IMPACT_WORDS[entry.impact],
        events=[RiskEventPublic.model_validate(e.model_dump()) for e in events],
    )


def matrix_public(session: Session, *, project: str | None) -> MatrixPublic:
    """The 5×5 matrix of active entries with its axis words."""
    counts = queries.risk_matrix(session, project=project)
    return MatrixPublic(
        project=project,
        likelihood=[LIKELIHOOD_WORDS[i] for i in range(1, 6)],
        impact=[IMPACT_WORDS[i] for i in range(1, 6)],
        counts=counts,
        total=sum(map(sum, counts)),
    )


def _sla(row: queries.SlaRow) -> SlaPublic:
    return SlaPublic(
        group=row.group, fixed=row.fixed, within_sla=row.within_sla, percent=round(row.percent, 1)
    )


def _mttp_row(row: queries.MttpRow) -> MttpRowPublic:
    return MttpRowPublic(
        group=row.group, fixed=row.fixed, mean_days=row.mean_days, median_days=row.median_days
    )


def mttp_public(session: Session, *, project: str | None) -> MttpPublic:
    """Time to patch and SLA compliance in public shape."""
    report = queries.mttp(session, project=project)
    return MttpPublic(
        project=project,
        by_severity=[_mttp_row(r) for r in report.by_severity],
        by_month=[_mttp_row(r) for r in report.by_month],
        by_severity_month=[
            MttpCellPublic(
                severity=c.severity, month=c.month, fixed=c.fixed, mean_days=c.mean_days
            )
            for c in report.by_severity_month
        ],
        sla_overall=_sla(report.sla_overall),
        sla_by_severity=[_sla(r) for r in report.sla_by_severity],
    )


def sla_public(session: Session, *, project: str | None) -> SlaPublic:
    """SLA compliance of fixed entries."""
    return _sla(queries.sla_compliance(session, project=project))


def projects_public(session: Session) -> list[ProjectPublic]:
    """Every project's summary."""
    return [ProjectPublic.model_validate(s, from_attributes=True)
            for s in exposure_summaries(session)]


def trends_public(session: Session, *, project: str | None) -> TrendsPublic:
    """The trends page's figures as data: the same weeks and the same totals."""
    weeks = trends.weekly_trend(session, project=project, weeks=WEEKS, today=queries.today())
    total = totals([s for s in exposure_summaries(session) if project in (None, s.name)])
    return TrendsPublic(
        project=project, open=total.open, overdue=total.overdue,
        annual_loss_low=total.annual_loss_low, annual_loss_high=total.annual_loss_high,
        currency=total.currency,
        weeks=[TrendWeekPublic(
            week=w.week, open_by_band=w.open_by_band, accepted=w.accepted, overdue=w.overdue,
            priced=w.priced, loss_low=w.loss_low if w.priced else None,
            loss_high=w.loss_high if w.priced else None) for w in weeks],
    )
