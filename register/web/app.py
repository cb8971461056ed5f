"""The register service's ASGI app: `register.web.app:create_app` (a factory for uvicorn).

`create_app` refuses to build on a database whose schema is not current. Without
GATE_SECRET_KEY a random signing key is made per process: sessions then end on restart and
do not work across several workers, so set it in production.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gate import __version__
from register.config import Settings
from register.db import check_schema_current, make_engine
from register.scoring import IMPACT_WORDS, LIKELIHOOD_WORDS
from register.web.api import api_router
from register.web.docs import DOCS_PATHS, DOCS_SECURITY_POLICY, install_docs
from register.web.errors import install_error_handlers
from register.web.gatekeeper import Gatekeeper
from register.web.health import healthz
from register.web.limits import BodyLimitMiddleware
from register.web.login_sessions import SESSION_LIFETIME
from register.web.pages import pages_router
from register.web.pages.cache import PageCache
from register.web.throttle import FailureThrottle
from register.web.wording import money

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "riskgate_session"
log = logging.getLogger("riskgate.web")

PAGE_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def signing_key(settings: Settings) -> str:
    """GATE_SECRET_KEY, or a per-process random key with a warning."""
    if settings.secret_key:
        return settings.secret_key
    log.warning(
        "GATE_SECRET_KEY is not set: using a random key; sessions end on restart "
        "and do not work across several workers"
    )
    return secrets.token_urlsafe(32)


def make_templates() -> Jinja2Templates:
    """The page templates (autoescaped) with the helpers they use."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(
        likelihood_words=LIKELIHOOD_WORDS, impact_words=IMPACT_WORDS, version=__version__
    )
    templates.env.filters["money"] = money
    return templates


def security_headers(path: str) -> dict[str, str]:
    """The headers for a path: pages allow no script; the API docs run scripts from 'self'."""
    if path.startswith("/api/"):
        return {}
    if path.startswith(DOCS_PATHS):
        return {**PAGE_SECURITY_HEADERS, "Content-Security-Policy": DOCS_SECURITY_POLICY}
    return PAGE_SECURITY_HEADERS


class SecurityHeadersMiddleware:
    """Strict headers on pages (no scripts at all); the API docs get a CSP of their own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for `settings` (default: GATE_* environment variables)."""
    settings = settings or Settings()
    engine = make_engine(
        settings.database_url, busy_timeout=settings.busy_timeout_seconds,
        pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
    )
    try:
        check_schema_current(engine)
    except BaseException:
        engine.dispose()
        raise

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="riskgate register", version=__version__, lifespan=lifespan,
        docs_url=None, redoc_url=None,
        description="Risk register of the riskgate CI security gate. "
        "Authenticate with `Authorization: Bearer <token>`.",
    )
    app.state.settings, app.state.engine = settings, engine
    app.state.templates = make_templates()
    app.state.page_cache = PageCache(seconds=settings.page_cache_seconds)
    app.state.auth_throttle = FailureThrottle(
        limit=settings.auth_failure_limit, window=settings.auth_failure_window_seconds
    )
    # Outermost last: body limit, session cookie, headers, then the gatekeeper before the app.
    app.add_middleware(Gatekeeper)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        SessionMiddleware, secret_key=signing_key(settings), session_cookie=SESSION_COOKIE,
        max_age=int(SESSION_LIFETIME.total_seconds()), same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes,
                       max_form_bytes=settings.max_form_bytes)
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(pages_router)
    install_docs(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_api_route("/healthz", healthz, include_in_schema=False)
    return app
