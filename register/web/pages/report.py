"""The one-page report for a board: key figures in business words, trend, matrix, owners.

Served at /report (print it from the browser) and written by `gate register report --html`
as a self-contained file (the stylesheet embedded instead of linked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from sqlmodel import Session
from starlette.responses import Response

from register.web.charts import Frame
from register.web.deps import PageViewer, SessionDep
from register.web.pages.cache import render_cached
from register.web.pages.overview import heat_rows, top_risk_lines
from register.web.pages.trends import band_chart, trend_context
from register.web.present import matrix_public
from register.web.schemas import Text

router = APIRouter()
STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "report.css"
TOP = 5
OWNERS = 8


def report_context(session: Session, project: str | None) -> dict[str, Any]:
    """Everything the report shows, read through the same queries as the pages."""
    context = trend_context(session, project)
    matrix = matrix_public(session, project=project)
    context |= {
        "rows": heat_rows(matrix.counts), "matrix": matrix,
        "top": top_risk_lines(session, project=project)[:TOP],
        "owners": context["owners"][:OWNERS],
        "band_chart": band_chart(context["weeks"], frame=Frame(width=640, height=220)),
        "critical": sum(matrix.counts[p - 1][i - 1] for p in range(1, 6) for i in range(1, 6)
                        if p * i >= 20),
    }
    return context


def render_report_file(session: Session, project: str | None) -> str:
    """The report as one HTML file with its stylesheet embedded (for `gate register report`)."""
    from register.web.app import make_templates

    template = make_templates().env.get_template("report.html")
    css = Markup(STYLESHEET.read_text(encoding="utf-8"))  # noqa: S704 - our own file
    return template.render(report_context(session, project) | {"embedded_css": css})


@router.get("/report")
def report_page(
    request: Request, session: SessionDep, who: PageViewer,
    project: Annotated[Text | None, Query(max_length=200)] = None,
) -> Response:
    """The printable one-page report."""
    return render_cached(request, session, who, "report.html",
                         lambda: report_context(session, project or None))
