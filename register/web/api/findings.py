"""Findings (register entries): list with filters and pagination, detail, triage actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import ValidationError

from register import queries, triage
from register.errors import EntryNotFoundError, field_path
from register.models import RiskEntryPublic
from register.web.deps import ApiTriager, ApiViewer, SessionDep
from register.web.filters import FindingFilters, bulk_entry_ids
from register.web.present import entries_public, finding_detail
from register.web.schemas import (
    AcceptRequest,
    AssignRequest,
    BulkRequest,
    BulkResultPublic,
    FindingDetail,
    FindingPage,
    ReasonRequest,
    RowId,
)

router = APIRouter(prefix="/findings", tags=["findings"])

MAX_PAGE = 500


@router.get("", response_model=FindingPage)
def list_findings(
    session: SessionDep,
    _: ApiViewer,
    filters: Annotated[FindingFilters, Query()],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> FindingPage:
    """List findings matching the filters (the triage page's parameters), by score by default."""
    entries, total = queries.filtered_entries(
        session, filters.entry_filter(), sort=filters.sort, descending=filters.order == "desc",
        limit=limit, offset=offset,
    )
    return FindingPage(
        items=entries_public(session, entries), total=total, limit=limit, offset=offset
    )


@router.post("/bulk", response_model=BulkResultPublic)
def bulk_triage(body: BulkRequest, session: SessionDep, who: ApiTriager) -> BulkResultPublic:
    """Assign, accept, mark false positive or reopen many findings: by ids or by filter."""
    if (body.ids is None) == (body.filters is None):
        raise HTTPException(422, "give either ids or filters")
    filters = None if body.filters is None else _filters(body.filters)
    ids = bulk_entry_ids(session, ids=body.ids, filters=filters)
    result = triage.bulk(
        session, entry_ids=ids, action=body.action, actor=who.actor, reason=body.reason,
        owner=body.owner, until=body.expires_on, approver=body.approver,
    )
    return BulkResultPublic(
        action=result.action, changed=list(result.changed), summary=result.summary(),
        skipped=[{"id": entry_id, "reason": why} for entry_id, why in result.skipped],
    )


def _filters(raw: dict[str, object]) -> FindingFilters:
    try:
        return FindingFilters.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = field_path(first["loc"])
        raise HTTPException(422, f"filters.{where}: {first['msg']}") from exc


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
                  approver=body.approver, actor=who.actor)
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
