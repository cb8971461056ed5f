"""The executives' overview: risk heat map, top risks in plain words, SLA, counts, money."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlmodel import Session
from starlette.responses import Response

from register import queries
from register.plan import exposure_summaries, plan_currency, register_plan, unrated_count
from register.scoring import band_for
from register.trends import OnTime
from register.web.deps import PageViewer, SessionDep
from register.web.pages.cache import render_cached
from register.web.present import matrix_public, project_names, sla_public, totals
from register.web.schemas import Text
from register.web.wording import risk_sentence

router = APIRouter()
TOP_RISKS = 8
PLAN_STEPS = 5


def plan_lines(session: Session, *, project: str | None) -> list[str]:
    """The first upgrades of the remediation plan as sentences."""
    steps = register_plan(session, project=project)
    currency = plan_currency(session, project=project)
    return steps.lines(currency, limit=PLAN_STEPS)


def heat_rows(counts: list[list[int]]) -> list[dict[str, Any]]:
    """Rows impact 5 (Severe) down to 1, cells likelihood 1 (Rare) to 5, with band and count."""
    return [
        {
            "impact": impact,
            "cells": [
                {"likelihood": p, "count": counts[p - 1][impact - 1], "band": band_for(p * impact)}
                for p in range(1, 6)
            ],
        }
        for impact in range(5, 0, -1)
    ]


def top_risk_lines(session: Session, *, project: str | None) -> list[dict[str, Any]]:
    """The highest-scoring open risks as sentences, with links."""
    entries = queries.top_risks(session, project=project, limit=TOP_RISKS)
    names, today = project_names(session, (e.project_id for e in entries)), queries.today()
    return [
        {"entry": e, "sentence": risk_sentence(e, project=names[e.project_id], today=today)}
        for e in entries
    ]


@router.get("/")
def overview(
    request: Request,
    session: SessionDep,
    who: PageViewer,
    project: Annotated[Text | None, Query(max_length=200)] = None,
) -> Response:
    """The overview for executives, for all projects or one."""
    return render_cached(request, session, who, "overview.html",
                         lambda: overview_context(session, project or None))


def overview_context(session: Session, project: str | None) -> dict[str, Any]:
    """What the overview shows."""
    summaries = exposure_summaries(session)
    shown = [s for s in summaries if project is None or s.name == project]
    matrix = matrix_public(session, project=project)
    sla = sla_public(session, project=project)
    total = totals(shown)
    return {
        "on_time": OnTime(fixed=sla.fixed, within_sla=sla.within_sla, overdue_open=total.overdue),
        "project": project,
        "projects": [s.name for s in summaries],
        "summaries": shown,
        "totals": total,
        "rows": heat_rows(matrix.counts),
        "matrix": matrix,
        "top": top_risk_lines(session, project=project),
        "plan": plan_lines(session, project=project),
        "unrated": unrated_count(session, project=project),
        "sla": sla,
        "active": "overview",
    }
