"""Rendering helpers shared by the pages: the common context, flash messages, safe redirects."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Form, HTTPException, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from register.web.csrf import csrf_token as session_csrf_token
from register.web.csrf import csrf_valid
from register.web.principal import Principal

FLASH_KEY = "flash"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    principal: Principal | None,
    status_code: int = 200,
    csrf_token: str | None = None,
) -> Response:
    """A page with the signed-in principal, the CSRF token (the session's unless given) and
    any flash message."""
    templates: Jinja2Templates = request.app.state.templates
    flash = request.session.pop(FLASH_KEY, None)
    token = csrf_token or session_csrf_token(request.session)
    base = {"principal": principal, "csrf_token": token, "flash": flash}
    return templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )


def flash(request: Request, kind: str, message: str) -> None:
    """A one-time message shown on the next page ('ok' or 'error')."""
    request.session[FLASH_KEY] = {"kind": kind, "message": message}


def local_path(candidate: str | None, default: str = "/") -> str:
    """`candidate` if it is a path on this site (no scheme, host or `//`), else `default`."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return default
    if any(ord(char) < 32 or ord(char) == 127 for char in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or "\\" in candidate:
        return default
    return candidate


def redirect(path: str) -> RedirectResponse:
    """A 303 See Other, so a POST form lands on a GET page."""
    return RedirectResponse(path, status_code=303)


def checked_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Refuse a form POST whose CSRF token does not match the session's (403)."""
    if not csrf_valid(request.session, csrf_token):
        raise HTTPException(403, "the form's CSRF token is missing or stale; reload and retry")


CsrfChecked = Depends(checked_csrf)
