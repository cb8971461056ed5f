"""Synchroniser-token CSRF protection for the HTML forms (on top of SameSite=Lax cookies).

Each session holds one random token; every state-changing form carries it in a hidden
`csrf_token` field and the POST handler compares the two in constant time.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from register.web.auth import same_secret

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def csrf_valid(session: MutableMapping[str, Any], submitted: object) -> bool:
    """True when `submitted` matches the session's token (False when either is missing)."""
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not expected or not isinstance(submitted, str):
        return False
    return same_secret(expected, submitted)
