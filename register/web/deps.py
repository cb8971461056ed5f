"""Request dependencies: the database session, the settings and who is asking.

The JSON API authenticates with `Authorization: Bearer <token>` only (no cookies, so no CSRF
surface); pages authenticate with the signed session cookie set by the login form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from register.config import Settings
from register.db import session_scope, writer_engine
from register.models import ApiToken, Role
from register.web.auth import role_allows
from register.web.errors import LoginRequiredError
from register.web.tokens import active_token_by_id, authenticate

SESSION_TOKEN_KEY = "token_id"  # noqa: S105 - a session key name


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The token behind a request: its id, name (the actor in event logs) and role."""

    token_id: int
    name: str
    role: Role
    projects: frozenset[str] | None = None  # an uploader's scope; None: any project

    @property
    def actor(self) -> str:
        """How this principal appears in the event log."""
        return self.name

    def check_project(self, project: str) -> None:
        """403 unless this principal may post runs for (and read decisions of) `project`."""
        if self.projects is not None and project not in self.projects:
            allowed = ", ".join(sorted(self.projects))
            raise HTTPException(
                403, f"token {self.name!r} is scoped to project(s) {allowed}, not {project!r}"
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


def _principal(row: ApiToken) -> Principal:
    assert row.id is not None  # noqa: S101 - rows read from the database have ids
    scope = None if row.projects is None else frozenset(row.projects)
    return Principal(token_id=row.id, name=row.name, role=Role(row.role), projects=scope)


def bearer_principal(request: Request, session: SessionDep) -> Principal:
    """The principal of a `Bearer` token; 401 when missing, malformed, unknown or revoked."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            "missing API token: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    row = authenticate(session, token.strip())
    if row is None:
        raise HTTPException(
            401, "invalid or revoked API token", headers={"WWW-Authenticate": "Bearer"}
        )
    return _principal(row)


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
    """The signed-in person of a page; redirects to the login form when there is none."""
    token_id = request.session.get(SESSION_TOKEN_KEY)
    row = active_token_by_id(session, token_id) if isinstance(token_id, int) else None
    if row is None:
        request.session.pop(SESSION_TOKEN_KEY, None)
        raise LoginRequiredError(request.url.path)
    return _principal(row)


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
