"""One finding: what, where, why it scores as it does, its deadline and its history."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from register import queries
from register.web.deps import PageViewer, SessionDep
from register.web.pages.render import render
from register.web.present import finding_detail
from register.web.schemas import RowId
from register.web.wording import due_phrase, what_phrase

router = APIRouter()


@router.get("/findings/{entry_id}")
def finding_page(
    entry_id: RowId, request: Request, session: SessionDep, who: PageViewer
) -> Response:
    """The finding page."""
    entry = queries.get_entry(session, entry_id=entry_id)
    if entry is None:
        raise HTTPException(404, f"no finding with id {entry_id}")
    today = queries.today()
    context = {
        "detail": finding_detail(session, entry), "entry": entry, "what": what_phrase(entry),
        "due": due_phrase(entry.due_date, today=today),
        "overdue": entry.status == "open" and entry.due_date < today,
        "default_until": today + timedelta(days=30), "active": "triage",
        "here": f"/findings/{entry_id}", "can_triage": who.role.value in ("triager", "admin"),
    }
    return render(request, "finding.html", context, principal=who)
