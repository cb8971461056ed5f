"""Log in by exchanging an API token for a server-side session (its secret in a signed,
HttpOnly cookie); log out by ending that session. Failed logins count towards the client's
throttle (`register.web.throttle`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from register.models import Role
from register.web.deps import SessionDep
from register.web.gatekeeper import client_key
from register.web.login_sessions import end_session, start_session
from register.web.pages.render import CsrfChecked, local_path, redirect, render
from register.web.principal import LOGIN_SESSION_FIELD
from register.web.tokens import authenticate

router = APIRouter()


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """The login form."""
    return render(request, "login.html", {"next": local_path(next)}, principal=None)


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the token and start a session for its holder."""
    row = authenticate(session, token.strip()) if token.strip() else None
    error = None
    if row is None:
        error = "That token is unknown or revoked."
        request.app.state.auth_throttle.failed(client_key(request.scope))
    elif row.role == Role.UPLOADER.value:
        error = "Uploader tokens can only post runs; log in with a viewer, triager or admin token."
    if error is not None or row is None:
        context = {"next": local_path(next), "error": error}
        return render(request, "login.html", context, principal=None, status_code=401)
    assert row.id is not None  # noqa: S101 - rows read from the database have ids
    secret = start_session(session, token_id=row.id)
    request.session.clear()  # a fresh session (and CSRF token) on every login
    request.session[LOGIN_SESSION_FIELD] = secret
    return redirect(local_path(next))


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, session: SessionDep) -> Response:
    """End the session on the server (a copy of the cookie no longer signs in) and forget it."""
    secret = request.session.get(LOGIN_SESSION_FIELD)
    if isinstance(secret, str) and secret:
        end_session(session, secret)
    request.session.clear()
    return redirect("/login")
