"""Glue between the register's rows and what the web shows: public shapes and project names.

Every database access goes through `register.queries`, except the one lookup of project
names for a page of entries, which lives here because only the web needs it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from register import queries
from register.models import Project, RiskEntry, RiskEntryPublic, RiskEventPublic
from register.scoring import IMPACT_WORDS, LIKELIHOOD_WORDS
from register.web.schemas import (
    FindingDetail,
    MatrixPublic,
    MttpCellPublic,
    MttpPublic,
    MttpRowPublic,
    ProjectPublic,
    SlaPublic,
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
            for s in queries.project_summaries(session)]
