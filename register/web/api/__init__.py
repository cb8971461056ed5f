"""The JSON API under /api/v1: one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from register.web.api.findings import router as findings_router
from register.web.api.metrics import router as metrics_router
from register.web.api.projects import router as projects_router
from register.web.api.runs import router as runs_router
from register.web.api.tokens import router as tokens_router

api_router = APIRouter(prefix="/api/v1")
for router in (runs_router, findings_router, metrics_router, projects_router, tokens_router):
    api_router.include_router(router)
