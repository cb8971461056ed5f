"""Findings (register entries): list with filters and pagination, detail, triage actions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from register import queries, triage
from register.errors import EntryNotFoundError
from register.models import RiskEntryPublic
from register.web.deps import ApiTriager, ApiViewer, SessionDep
from register.web.present import entries_public, finding_detail
from register.web.schemas import (
    AcceptRequest,
    AssignRequest,
    FindingDetail,
    FindingPage,
    ReasonRequest,
    RowId,
    Text,
)

router = APIRouter(prefix="/findings", tags=["findings"])

Status = Literal["open", "fixed", "accepted", "false_positive"]
Severity = Literal["critical", "high", "medium", "low", "info", "unknown"]
Sort = Literal["score", "due_date", "last_seen", "first_seen", "severity", "id"]
MAX_PAGE = 500


@router.get("", response_model=FindingPage)
def list_findings(
    session: SessionDep,
    _: ApiViewer,
    project: Annotated[Text | None, Query(max_length=200)] = None,
    status: Status | None = None,
    owner: Annotated[Text | None, Query(max_length=200)] = None,
    severity: Severity | None = None,
    overdue: bool | None = None,
    sort: Sort = "score",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> FindingPage:
    """List findings matching the filters, highest score first by default."""
    entries, total = queries.list_entries(
        session, project=project, status=status, owner=owner, severity=severity,
        overdue=overdue, sort=sort, limit=limit, offset=offset,
    )
    return FindingPage(
        items=entries_public(session, entries), total=total, limit=limit, offset=offset
    )


@router.get("/{entry_id}", response_model=FindingDetail)
def get_finding(entry_id: RowId, session: SessionDep, _: ApiViewer) -> FindingDetail:
    """One finding with its scoring reasons and event log."""
    entry = queries.get_entry(session, entry_id=entry_id)
    if entry is None:
        raise HTTPException(404, f"no finding with id {entry_id}")
    return finding_detail(session, entry)


def _public(session: SessionDep, entry_id: int) -> RiskEntryPublic:
    entry = queries.get_entry(session, entry_id=entry_id)
    if entry is None:
        raise EntryNotFoundError(entry_id)
    return entries_public(session, [entry])[0]


@router.post("/{entry_id}/assign", response_model=RiskEntryPublic)
def assign_finding(
    entry_id: RowId, body: AssignRequest, session: SessionDep, who: ApiTriager
) -> RiskEntryPublic:
    """Give a finding an owner (logged)."""
    triage.assign(session, entry_id=entry_id, owner=body.owner, actor=who.actor,
                  reason=body.reason)
    return _public(session, entry_id)


@router.post("/{entry_id}/accept", response_model=RiskEntryPublic)
def accept_finding(
    entry_id: RowId, body: AcceptRequest, session: SessionDep, who: ApiTriager
) -> RiskEntryPublic:
    """Accept a finding's risk until a date, with a justification (logged)."""
    triage.accept(session, entry_id=entry_id, reason=body.reason, until=body.expires_on,
                  approver=body.approver or who.actor, actor=who.actor)
    return _public(session, entry_id)


@router.post("/{entry_id}/false-positive", response_model=RiskEntryPublic)
def mark_false_positive(
    entry_id: RowId, body: ReasonRequest, session: SessionDep, who: ApiTriager
) -> RiskEntryPublic:
    """Close a finding as a false positive (logged)."""
    triage.mark_false_positive(session, entry_id=entry_id, actor=who.actor, reason=body.reason)
    return _public(session, entry_id)


@router.post("/{entry_id}/reopen", response_model=RiskEntryPublic)
def reopen_finding(
    entry_id: RowId, body: ReasonRequest, session: SessionDep, who: ApiTriager
) -> RiskEntryPublic:
    """Open a closed or accepted finding again (logged)."""
    triage.reopen(session, entry_id=entry_id, actor=who.actor, reason=body.reason)
    return _public(session, entry_id)
