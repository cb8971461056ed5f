"""One finding: what, where, the evidence, why it scores so, its deadline and its history."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from register import evidence, queries
from register.web.deps import PageViewer, SessionDep
from register.web.pages.render import render
from register.web.present import finding_detail
from register.web.schemas import RowId
from register.web.wording import what_phrase

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
    detail = finding_detail(session, entry)
    opened = next((e.run_id for e in detail.events if e.kind == "opened" and e.run_id), None)
    runs = queries.runs_by_id(session, [r for r in (opened, entry.last_run_id) if r])
    context = {
        "detail": detail, "entry": entry, "what": what_phrase(entry),
        "due": evidence.deadline_words(entry, today=today),
        "overdue": entry.status == "open" and entry.due_date < today,
        "ids": evidence.identifiers(entry),
        "cwe": [evidence.cwe_link(c) for c in entry.cwe or []],
        "owasp": [evidence.owasp_link(o) for o in entry.owasp or []],
        "snippet": evidence.snippet_lines(entry), "advice": evidence.fix_advice(entry),
        "scope": evidence.scope_words(entry, runs.get(entry.last_run_id)),
        "first_run": runs.get(opened or ""), "last_run": runs.get(entry.last_run_id),
        "default_until": today + timedelta(days=30), "active": "triage",
        "here": f"/findings/{entry_id}", "can_triage": who.role.value in ("triager", "admin"),
    }
    return render(request, "finding.html", context, principal=who)
