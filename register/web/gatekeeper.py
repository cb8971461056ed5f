"""Authenticate before any request body is read (pure ASGI middleware).

FastAPI reads and parses a JSON or form body before it runs a route's dependencies, so an
anonymous caller could make the service read and parse a large body before its 401. This
middleware runs first: every `/api/` request needs a valid bearer token, and every page
request that carries a body (all but the login form) needs a live login session, before the
app sees the request. The principal found is left in the scope for the route's dependencies.
Clients with too many failed authentications get 429 (`register.web.throttle`), and a
database that is down gets 503, all without reading the body.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from register.db import session_scope, writer_engine
from register.web.health import DATABASE_ERRORS, database_down
from register.web.login_sessions import session_token
from register.web.principal import (
    LOGIN_SESSION_FIELD,
    PRINCIPAL_SCOPE_KEY,
    Principal,
    principal_of,
)
from register.web.throttle import FailureThrottle, throttled_message
from register.web.tokens import authenticate

BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PATH = "/login"
BEARER = {"WWW-Authenticate": "Bearer"}


def client_key(scope: Scope) -> str:
    """The address failures are counted against (the peer; behind a proxy run uvicorn with
    --proxy-headers and --forwarded-allow-ips so this is the real client)."""
    client = scope.get("client")
    return f"client:{client[0]}" if client else "client:unknown"


def bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_principal(engine: Engine, token: str, *, write: bool) -> Principal | None:
    """The principal of an active token (touching its last use), or None."""
    with session_scope(writer_engine(engine) if write else engine) as session:
        row = authenticate(session, token)
        return principal_of(row) if row is not None else None


def session_principal(engine: Engine, secret: object) -> Principal | None:
    """The principal of a live login session, or None."""
    if not isinstance(secret, str) or not secret:
        return None
    with session_scope(engine) as session:
        row = session_token(session, secret)
        return principal_of(row) if row is not None else None


class Gatekeeper:
    """Refuse unauthenticated, throttled or unservable requests before their body is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = await self.refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def refusal(self, scope: Scope) -> Response | None:
        """The answer that ends this request early, or None to let it through."""
        state = scope["app"].state
        try:
            if scope["path"].startswith("/api/"):
                return await self._api(scope, state.engine, state.auth_throttle)
            if scope["method"] in BODYLESS_METHODS:
                return None
            return await self._page(scope, state.engine, state.auth_throttle)
        except DATABASE_ERRORS as exc:
            status, detail, headers = database_down(state.engine, exc)
            return _answer(scope, status, detail, headers)

    async def _api(
        self, scope: Scope, engine: Engine, throttle: FailureThrottle
    ) -> Response | None:
        token = bearer_token(scope)
        if token is None:
            return _answer(scope, 401, "missing API token: send Authorization: Bearer <token>",
                           BEARER)
        key = client_key(scope)
        if (wait := throttle.retry_after(key)) is not None:
            return _answer(scope, 429, throttled_message(wait), {"Retry-After": str(wait)})
        write = scope["method"] not in BODYLESS_METHODS
        principal = await run_in_threadpool(token_principal, engine, token, write=write)
        if principal is None:
            throttle.failed(key)
            return _answer(scope, 401, "invalid or revoked API token", BEARER)
        scope[PRINCIPAL_SCOPE_KEY] = principal
        return None

    async def _page(
        self, scope: Scope, engine: Engine, throttle: FailureThrottle
    ) -> Response | None:
        if scope["path"] == LOGIN_PATH:
            wait = throttle.retry_after(client_key(scope))
            if wait is None:
                return None  # the login form is anonymous; its body is capped small
            return _answer(scope, 429, throttled_message(wait), {"Retry-After": str(wait)})
        secret = scope.get("session", {}).get(LOGIN_SESSION_FIELD)
        principal = await run_in_threadpool(session_principal, engine, secret)
        if principal is None:
            return RedirectResponse(f"{LOGIN_PATH}?next={quote(scope['path'])}", status_code=303)
        scope[PRINCIPAL_SCOPE_KEY] = principal
        return None


def _answer(scope: Scope, status: int, detail: str, headers: dict[str, str]) -> Response:
    if scope["path"].startswith("/api/"):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    templates: Jinja2Templates = scope["app"].state.templates
    context: dict[str, Any] = {"status": status, "detail": detail}
    return templates.TemplateResponse(
        Request(scope), "error.html", context, status_code=status, headers=headers
    )
