"""The triage decisions of one project, as the gate reads them: by fingerprint, with why.

An accepted entry gives its current acceptance (justification, approver, last day); a false
positive gives the reason of the event that closed it. Acceptances past their last day are
returned too, with that day, so the gate can say "expired on …" even before
`expire_acceptances` has run. One query for both the API and the gate's direct read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlmodel import col

from gate.models import CodeAnchor, TriageDecision, TriageStatus
from register.models import EntryStatus, EventKind, Project, RiskAcceptance, RiskEntry, RiskEvent

SOURCE = "register"
_TRIAGED = (EntryStatus.ACCEPTED.value, EntryStatus.FALSE_POSITIVE.value)


def project_decisions(connection: Connection, *, project: str) -> dict[str, TriageDecision]:
    """Fingerprint → decision for every accepted or false-positive entry of `project`; a
    decision about code carries the code it was taken on, so it can follow an edit."""
    statement = _triaged(
        col(RiskEntry.kind), col(RiskEntry.rule_id), col(RiskEntry.path),
        col(RiskEntry.snippet), col(RiskEntry.scope), col(RiskEntry.start_line),
        col(RiskEntry.fingerprint),
    ).where(col(Project.name) == project)
    return {row[-1]: _with_anchor(_decision(row), row) for row in connection.execute(statement)}


def _with_anchor(decision: TriageDecision, row: Sequence[Any]) -> TriageDecision:
    kind, rule_id, path, snippet, scope, start_line = row[6:12]
    if kind != "code" or not path or not snippet:
        return decision
    anchor = CodeAnchor(rule_id=rule_id, path=path, snippet=snippet, scope=scope,
                        start_line=start_line)
    return decision.model_copy(update={"code": anchor})


@dataclass(frozen=True, kw_only=True)
class TriagedDependency:
    """A dependency entry someone decided about, with what VEX needs to name it."""

    project: str
    package: str
    version: str | None
    advisory: str
    aliases: tuple[str, ...]
    decision: TriageDecision
    decided_at: datetime | None


def triaged_dependencies(
    connection: Connection, *, project: str | None = None
) -> list[TriagedDependency]:
    """Accepted and false-positive dependency entries (of one project, or all), by project."""
    decided = sa.func.coalesce(col(RiskAcceptance.created_at), col(RiskEvent.at))
    statement = _triaged(
        col(Project.name), col(RiskEntry.package), col(RiskEntry.version),
        col(RiskEntry.rule_id), col(RiskEntry.aliases), decided,
    ).where(col(RiskEntry.kind) == "dependency", col(RiskEntry.package).is_not(None))
    if project is not None:
        statement = statement.where(col(Project.name) == project)
    rows = connection.execute(statement.order_by(col(Project.name), col(RiskEntry.id)))
    return [
        TriagedDependency(
            project=row[6], package=row[7], version=row[8], advisory=row[9],
            aliases=tuple(row[10] or ()), decision=_decision(row),
            decided_at=_aware(row[11]),
        )
        for row in rows
    ]


def _aware(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _triaged(*extra: Any) -> sa.Select[Any]:
    """Triaged entries with their current acceptance and latest false-positive event."""
    marked = aliased(RiskEvent)
    latest_fp = (
        sa.select(sa.func.max(col(marked.id)))
        .where(
            col(marked.entry_id) == col(RiskEntry.id),
            col(marked.kind) == EventKind.FALSE_POSITIVE.value,
        )
        .correlate(RiskEntry)
        .scalar_subquery()
    )
    return (
        sa.select(
            col(RiskEntry.status),
            col(RiskEntry.accepted_until),
            col(RiskAcceptance.justification),
            col(RiskAcceptance.approver),
            col(RiskEvent.reason),
            col(RiskEvent.actor),
            *extra,
        )
        .join(Project, col(Project.id) == col(RiskEntry.project_id))
        .outerjoin(
            RiskAcceptance,
            sa.and_(
                col(RiskAcceptance.entry_id) == col(RiskEntry.id),
                col(RiskAcceptance.ended_at).is_(None),
            ),
        )
        .outerjoin(RiskEvent, col(RiskEvent.id) == latest_fp)
        .where(col(RiskEntry.status).in_(_TRIAGED))
    )


def _decision(row: Sequence[object]) -> TriageDecision:
    status, until, justification, approver, fp_reason, fp_actor = row[:6]
    if status == EntryStatus.FALSE_POSITIVE.value:
        return TriageDecision(
            status=TriageStatus.FALSE_POSITIVE,
            reason=str(fp_reason or "marked false positive"),
            by=str(fp_actor) if fp_actor else None,
            source=SOURCE,
        )
    return TriageDecision(
        status=TriageStatus.ACCEPTED,
        reason=str(justification or "accepted"),
        by=str(approver) if approver else None,
        until=until if isinstance(until, date) else None,
        source=SOURCE,
    )
