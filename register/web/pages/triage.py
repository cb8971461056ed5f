"""The champions' triage queue: filters, sortable columns, page size, grouping, bulk actions.

One compact row per finding with a checkbox; one bulk form (CSRF) applies assign, accept,
false positive or reopen to the checked rows or to every finding matching the filter. The
per-finding forms live on the finding page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Query, Request
from pydantic import Field, ValidationError
from starlette.responses import Response

from register import queries, triage
from register.errors import RegisterInputError
from register.web.deps import PageTriager, PageViewer, SessionDep
from register.web.filters import PAGE_SIZES, FindingFilters, Status, bulk_entry_ids
from register.web.pages.cache import render_cached
from register.web.pages.render import CsrfChecked, flash, local_path, redirect
from register.web.present import all_project_names, project_names
from register.web.schemas import RowId, Text
from register.web.wording import due_phrase

router = APIRouter()
PAGE_SIZE = 50
COLUMNS = (  # (sort key or None, heading)
    (None, ""), ("score", "Score"), ("title", "Finding"), (None, "Project"),
    ("severity", "Severity"), ("status", "Status"), ("owner", "Owner"), ("due_date", "Deadline"),
)


class TriageFilters(FindingFilters):
    """The queue's GET form: the API's filters (open by default), a page, a size, a grouping."""

    status: Status | None = "open"
    group: Literal["package", "rule"] | None = None
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=PAGE_SIZE, ge=10, le=500)


def _rows(session: SessionDep, entries: list[Any], today: date) -> list[dict[str, Any]]:
    names = project_names(session, (e.project_id for e in entries))
    return [
        {"entry": e, "project": names[e.project_id], "due": due_phrase(e.due_date, today=today),
         "overdue": e.status == "open" and e.due_date < today}
        for e in entries
    ]


@router.get("/triage")
def triage_queue(
    request: Request, session: SessionDep, who: PageViewer,
    filters: Annotated[TriageFilters, Query()],
) -> Response:
    """The triage queue, highest score first."""
    can_triage = who.role.value in ("triager", "admin")
    return render_cached(request, session, who, "triage.html",
                         lambda: queue_context(session, filters, can_triage=can_triage))


def queue_context(
    session: SessionDep, filters: TriageFilters, *, can_triage: bool
) -> dict[str, Any]:
    """What the triage queue shows for `filters`."""
    chosen = filters.entry_filter()
    entries, total = queries.filtered_entries(
        session, chosen, sort=filters.sort, descending=filters.order == "desc",
        limit=filters.size, offset=(filters.page - 1) * filters.size,
    )
    groups = queries.group_entries(session, chosen, by=filters.group) if filters.group else []
    today = queries.today()
    return {
        "filters": filters, "rows": _rows(session, entries, today), "total": total,
        "pages": max(1, -(-total // filters.size)), "active": "triage", "groups": groups,
        "projects": all_project_names(session), "columns": COLUMNS, "page_sizes": PAGE_SIZES,
        "here": f"/triage?{filters.query()}", "default_until": today + timedelta(days=30),
        "can_triage": can_triage,
        "bulk_limit": triage.BULK_LIMIT,
    }


TextField = Annotated[Text, Form(max_length=2000)]


def _act(request: Request, next_path: str, action: Callable[[], object], done: str) -> Response:
    try:
        action()
    except RegisterInputError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", done)
    return redirect(local_path(next_path, "/triage"))


def _filters_from(query: str) -> TriageFilters:
    try:
        return TriageFilters.model_validate(dict(parse_qsl(query)))
    except ValidationError as exc:
        first = exc.errors()[0]["msg"]
        raise RegisterInputError(f"the filter of this page is invalid: {first}") from exc


@router.post("/triage/bulk", dependencies=[CsrfChecked])
def bulk_form(
    request: Request, session: SessionDep, who: PageTriager,
    ids: Annotated[list[RowId], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    scope: Annotated[Literal["selected", "matching"], Form()] = "selected",
    filters: TextField = "", action: Annotated[str, Form(max_length=40)] = "",
    owner: TextField = "", reason: TextField = "", approver: TextField = "",
    until: Annotated[date | None, Form()] = None, next: TextField = "/triage",
) -> Response:
    """Apply one action to the checked findings or to all matching the page's filter."""
    outcome: list[str] = []

    def run() -> None:
        matching = _filters_from(filters) if scope == "matching" else None
        if matching is None and not ids:
            raise RegisterInputError("no findings selected: tick rows or choose all matching")
        targets = bulk_entry_ids(session, ids=ids, filters=matching)
        result = triage.bulk(
            session, entry_ids=targets, action=action, actor=who.actor, reason=reason or None,
            owner=owner or None, until=until, approver=approver or None,
        )
        outcome.append(result.summary())

    try:
        run()
    except RegisterInputError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", outcome[0].capitalize() + ".")
    return redirect(local_path(next, "/triage"))


@router.post("/findings/{entry_id}/assign", dependencies=[CsrfChecked])
def assign_form(
    entry_id: RowId, request: Request, session: SessionDep, who: PageTriager,
    owner: TextField = "", reason: TextField = "", next: TextField = "/triage",
) -> Response:
    """Assign from a form."""
    return _act(request, next, lambda: triage.assign(
        session, entry_id=entry_id, owner=owner, actor=who.actor, reason=reason or None,
    ), f"Finding {entry_id} assigned to {owner.strip()}.")


@router.post("/findings/{entry_id}/accept", dependencies=[CsrfChecked])
def accept_form(
    entry_id: RowId, request: Request, session: SessionDep, who: PageTriager,
    reason: TextField = "", until: Annotated[date | None, Form()] = None,
    approver: TextField = "", next: TextField = "/triage",
) -> Response:
    """Accept a risk from a form (reason, expiry and another person as approver required)."""
    return _act(request, next, lambda: triage.accept(
        session, entry_id=entry_id, reason=reason, until=until, approver=approver,
        actor=who.actor,
    ), f"Finding {entry_id} accepted until {until}, approved by {approver.strip()}.")


@router.post("/findings/{entry_id}/false-positive", dependencies=[CsrfChecked])
def false_positive_form(
    entry_id: RowId, request: Request, session: SessionDep, who: PageTriager,
    reason: TextField = "", next: TextField = "/triage",
) -> Response:
    """Mark a false positive from a form (reason required)."""
    return _act(request, next, lambda: triage.mark_false_positive(
        session, entry_id=entry_id, actor=who.actor, reason=reason,
    ), f"Finding {entry_id} marked as a false positive.")


@router.post("/findings/{entry_id}/reopen", dependencies=[CsrfChecked])
def reopen_form(
    entry_id: RowId, request: Request, session: SessionDep, who: PageTriager,
    reason: TextField = "", next: TextField = "/triage",
) -> Response:
    """Reopen from a form (reason required)."""
    return _act(request, next, lambda: triage.reopen(
        session, entry_id=entry_id, actor=who.actor, reason=reason,
    ), f"Finding {entry_id} reopened.")
