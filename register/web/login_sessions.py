"""Server-side login sessions: started at login, looked up on every page, ended at logout.

The signed session cookie carries only a random secret; the database keeps its SHA-256 and
whether it ended. A cookie copied before logout (or before its token was revoked, or older than
the session lifetime) signs nobody in.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import Session, select

from register.models import ApiToken, LoginSession, utc_now
from register.web.auth import hash_token
from register.web.tokens import active_token_by_id

SESSION_LIFETIME = timedelta(hours=8)


def start_session(session: Session, *, token_id: int) -> str:
    """A new signed-in session for the token; returns the secret the cookie carries."""
    secret = secrets.token_urlsafe(32)
    session.add(LoginSession(secret_hash=hash_token(secret), token_id=token_id))
    session.flush()
    return secret


def session_token(session: Session, secret: str) -> ApiToken | None:
    """The active token a live session signs in as, or None (ended, expired, revoked)."""
    row = session.exec(
        select(LoginSession).where(LoginSession.secret_hash == hash_token(secret))
    ).first()
    if row is None or row.ended_at is not None:
        return None
    if utc_now() - row.created_at > SESSION_LIFETIME:
        return None
    return active_token_by_id(session, row.token_id)


def end_session(session: Session, secret: str) -> bool:
    """End the session with this secret; False when there was none to end."""
    row = session.exec(
        select(LoginSession).where(LoginSession.secret_hash == hash_token(secret))
    ).first()
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = utc_now()
    session.add(row)
    return True
