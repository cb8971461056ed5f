"""Server-rendered pages (Jinja2, autoescaped): overview, MTTP, triage, finding, login."""

from __future__ import annotations

from fastapi import APIRouter

from register.web.pages.finding import router as finding_router
from register.web.pages.login import router as login_router
from register.web.pages.mttp import router as mttp_router
from register.web.pages.overview import router as overview_router
from register.web.pages.report import router as report_router
from register.web.pages.trends import router as trends_router
from register.web.pages.triage import router as triage_router

pages_router = APIRouter(include_in_schema=False)
for router in (
    login_router, overview_router, mttp_router, triage_router, finding_router, trends_router,
    report_router,
):
    pages_router.include_router(router)
