"""Trends for executives: open risks by band per week, overdue, expected loss, owners."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from sqlmodel import Session
from starlette.responses import Response

from register import queries, trends
from register.plan import exposure_summaries
from register.web.charts import Frame, line_chart
from register.web.deps import PageViewer, SessionDep
from register.web.pages.cache import render_cached
from register.web.present import WEEKS, all_project_names, sla_public, totals
from register.web.schemas import Text

router = APIRouter()


def band_chart(weeks: list[trends.TrendWeek], frame: Frame | None = None) -> Markup:
    """Open risks per band, week by week."""
    series: dict[str, list[float | None]] = {
        band: [float(w.open_by_band.get(band, 0)) for w in weeks] for band in trends.BANDS
    }
    series["past deadline"] = [float(w.overdue) for w in weeks]
    return line_chart(
        categories=[f"{w.week:%d %b}" for w in weeks], series=series, y_label="open risks",
        title="Open risks by band, week by week", empty="No runs recorded yet", frame=frame,
    )


def loss_chart(weeks: list[trends.TrendWeek], currency: str | None) -> Markup:
    """Expected annual loss of open and accepted risks (low and high estimate) per week."""
    priced = [w for w in weeks if w.priced]
    series: dict[str, list[float | None]] = {
        "high estimate": [w.loss_high if w.priced else None for w in weeks],
        "low estimate": [w.loss_low if w.priced else None for w in weeks],
    }
    return line_chart(
        categories=[f"{w.week:%d %b}" for w in weeks], series=series if priced else {},
        y_label=f"expected loss per year ({currency or 'money'})",
        title="Expected annual loss, week by week",
        empty="No money model in the policy (see README: Money)",
    )


def trend_context(session: Session, project: str | None) -> dict[str, Any]:
    """What the trends page and the printable report share."""
    today = queries.today()
    weeks = trends.weekly_trend(session, project=project, weeks=WEEKS, today=today)
    shown = [s for s in exposure_summaries(session) if project in (None, s.name)]
    total = totals(shown)
    sla = sla_public(session, project=project)
    on_time = trends.OnTime(fixed=sla.fixed, within_sla=sla.within_sla, overdue_open=total.overdue)
    return {
        "project": project, "weeks": weeks, "totals": total, "on_time": on_time,
        "band_chart": band_chart(weeks), "loss_chart": loss_chart(weeks, total.currency),
        "owners": trends.owner_table(session, project=project), "today": today,
    }


@router.get("/trends")
def trends_page(
    request: Request, session: SessionDep, who: PageViewer,
    project: Annotated[Text | None, Query(max_length=200)] = None,
) -> Response:
    """Trends of the register for all projects or one."""
    def context() -> dict[str, Any]:
        shown = trend_context(session, project or None)
        return shown | {"projects": all_project_names(session), "active": "trends"}

    return render_cached(request, session, who, "trends.html", context)
