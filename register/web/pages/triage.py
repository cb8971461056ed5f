"""The champions' triage queue: filters, sort, pagination, and per-row triage forms (CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from register import queries, triage
from register.errors import RegisterInputError
from register.web.deps import PageTriager, PageViewer, SessionDep
from register.web.pages.render import CsrfChecked, flash, local_path, redirect, render
from register.web.present import all_project_names, project_names
from register.web.schemas import RowId, Text
from register.web.wording import due_phrase

router = APIRouter()
PAGE_SIZE = 50


class TriageFilters(BaseModel):
    """The queue's GET form; empty fields mean 'any'."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    project: Text | None = Field(default=None, max_length=200)
    owner: Text | None = Field(default=None, max_length=200)
    severity: Literal["critical", "high", "medium", "low", "info", "unknown"] | None = None
    status: Literal["open", "accepted", "fixed", "false_positive", "all"] = "open"
    overdue: Literal["yes", "no"] | None = None
    likelihood: int | None = Field(default=None, ge=1, le=5)
    impact: int | None = Field(default=None, ge=1, le=5)
    sort: Literal["score", "due_date", "last_seen", "severity"] = "score"
    page: int = Field(default=1, ge=1, le=100_000)

    def query(self, **changes: Any) -> str:
        """This filter set as a query string, with `changes` applied."""
        values = {**self.model_dump(), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def _blank_to_none(params: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in params.items() if value != ""}


@router.get("/triage")
def triage_queue(
    request: Request, session: SessionDep, who: PageViewer,
    filters: Annotated[TriageFilters, Query()],
) -> Response:
    """The triage queue, highest score first."""
    filters = TriageFilters.model_validate(_blank_to_none(dict(request.query_params)))
    entries, total = queries.list_entries(
        session, project=filters.project, owner=filters.owner, severity=filters.severity,
        status=None if filters.status == "all" else filters.status,
        overdue={"yes": True, "no": False}.get(filters.overdue or ""),
        probability=filters.likelihood, impact=filters.impact, sort=filters.sort,
        limit=PAGE_SIZE, offset=(filters.page - 1) * PAGE_SIZE,
    )
    today = queries.today()
    names = project_names(session, (e.project_id for e in entries))
    rows = [
        {"entry": e, "project": names[e.project_id], "due": due_phrase(e.due_date, today=today),
         "overdue": e.status == "open" and e.due_date < today}
        for e in entries
    ]
    context = {
        "filters": filters, "rows": rows, "total": total, "page_size": PAGE_SIZE,
        "pages": max(1, -(-total // PAGE_SIZE)), "active": "triage",
        "projects": all_project_names(session),
        "here": f"/triage?{filters.query()}", "default_until": today + timedelta(days=30),
        "can_triage": who.role.value in ("triager", "admin"),
    }
    return render(request, "triage.html", context, principal=who)


def _act(request: Request, next_path: str, action: Callable[[], object], done: str) -> Response:
    try:
        action()
    except RegisterInputError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", done)
    return redirect(local_path(next_path, "/triage"))


TextField = Annotated[Text, Form(max_length=2000)]


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
    next: TextField = "/triage",
) -> Response:
    """Accept a risk from a form (reason and expiry required)."""
    return _act(request, next, lambda: triage.accept(
        session, entry_id=entry_id, reason=reason, until=until, approver=who.actor,
        actor=who.actor,
    ), f"Finding {entry_id} accepted until {until}.")


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
