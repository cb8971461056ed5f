"""Request dependencies: the database session, the settings and who is asking.

The JSON API authenticates with `Authorization: Bearer <token>` only (no cookies, so no CSRF
surface); pages authenticate with the signed session cookie set by the login form, which
names a server-side login session. Tokens (and sessions on form posts) are checked by
`register.web.gatekeeper` before any body is read; the dependencies here take its answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from register.config import Settings
from register.db import session_scope, writer_engine
from register.models import Role
from register.web.auth import role_allows
from register.web.errors import LoginRequiredError
from register.web.login_sessions import session_token
from register.web.principal import (
    LOGIN_SESSION_FIELD,
    PRINCIPAL_SCOPE_KEY,
    Principal,
    principal_of,
)


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the route returns (before the response)."""
    engine: Engine = request.app.state.engine
    with session_scope(writer_engine(engine) if request.method == "POST" else engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def bearer_principal(request: Request) -> Principal:
    """The principal of the request's bearer token, checked by the gatekeeper before the body
    was read (`register.web.gatekeeper`); 401 if it did not run."""
    principal = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if not isinstance(principal, Principal):
        raise HTTPException(
            401, "missing API token: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def api_role(needed: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting API callers whose role allows `needed` (403 otherwise)."""

    def check(principal: Annotated[Principal, Depends(bearer_principal)]) -> Principal:
        if not role_allows(principal.role, needed):
            raise HTTPException(
                403, f"role {principal.role.value!r} may not do this; needs {needed.value!r}"
            )
        return principal

    return check


def session_principal(request: Request, session: SessionDep) -> Principal:
    """The signed-in person of a page (a live login session); redirects to the login form when
    there is none."""
    principal = request.scope.get(PRINCIPAL_SCOPE_KEY)  # left by the gatekeeper on form posts
    if isinstance(principal, Principal):
        return principal
    secret = request.session.get(LOGIN_SESSION_FIELD)
    row = session_token(session, secret) if isinstance(secret, str) and secret else None
    if row is None:
        request.session.pop(LOGIN_SESSION_FIELD, None)
        raise LoginRequiredError(request.url.path)
    return principal_of(row)


def page_role(needed: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting signed-in people whose role allows `needed` (403 otherwise)."""

    def check(principal: Annotated[Principal, Depends(session_principal)]) -> Principal:
        if not role_allows(principal.role, needed):
            raise HTTPException(
                403,
                f"your token's role {principal.role.value!r} may not do "
                f"this; it needs {needed.value!r}",
            )
        return principal

    return check


def decision_reader(principal: Annotated[Principal, Depends(bearer_principal)]) -> Principal:
    """Any valid token, the CI's uploader included: the gate reads the decisions it acts on
    (fingerprints, status, expiry, justification), which reveals no more than its report."""
    return principal


Uploader = Annotated[Principal, Depends(api_role(Role.UPLOADER))]
DecisionReader = Annotated[Principal, Depends(decision_reader)]
ApiViewer = Annotated[Principal, Depends(api_role(Role.VIEWER))]
ApiTriager = Annotated[Principal, Depends(api_role(Role.TRIAGER))]
ApiAdmin = Annotated[Principal, Depends(api_role(Role.ADMIN))]
PageViewer = Annotated[Principal, Depends(page_role(Role.VIEWER))]
PageTriager = Annotated[Principal, Depends(page_role(Role.TRIAGER))]
