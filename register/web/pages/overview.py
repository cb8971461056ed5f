"""The executives' overview: risk heat map, top risks in plain words, SLA, counts, money."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlmodel import Session
from starlette.responses import Response

from register import queries
from register.plan import exposure_losses, plan_currency, register_plan, unrated_count
from register.queries import ProjectSummary
from register.scoring import band_for
from register.trends import OnTime
from register.web.deps import PageViewer, SessionDep
from register.web.pages.cache import render_cached
from register.web.present import matrix_public, project_names, sla_public
from register.web.schemas import Text
from register.web.wording import risk_sentence

router = APIRouter()
TOP_RISKS = 8
PLAN_STEPS = 5


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


def by_exposure(session: Session, summaries: list[ProjectSummary]) -> list[ProjectSummary]:
    """Summaries whose expected loss counts each vulnerable component once."""
    losses = exposure_losses(session)
    return [
        replace(s, annual_loss_low=losses[s.name].low, annual_loss_high=losses[s.name].high)
        if s.name in losses and s.annual_loss_low is not None else s
        for s in summaries
    ]


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
    summaries = by_exposure(session, queries.project_summaries(session))
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
