"""The token store: create (returning the secret once), list, revoke, authenticate.

Only the SHA-256 of a token is stored. Authentication refreshes `last_used_at` at most once a
minute so that reads do not turn into a write per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from sqlmodel import Session, col, select

from register.errors import RegisterInputError
from register.models import ApiToken, Role, utc_now
from register.web.auth import generate_token, hash_token

LAST_USED_GRANULARITY = timedelta(minutes=1)


def create_token(
    session: Session, *, name: str, role: Role, projects: Iterable[str] | None = None
) -> tuple[ApiToken, str]:
    """Store a new token of `role`; return the row and the secret (shown once, never stored).

    `projects` scopes an uploader token to those projects (None: any project).
    """
    if not name.strip():
        raise RegisterInputError("a token needs a non-empty --name")
    scope = None if projects is None else sorted({p.strip() for p in projects if p.strip()})
    if scope is not None and role is not Role.UPLOADER:
        raise RegisterInputError("only uploader tokens are scoped to projects (--project)")
    if scope is not None and (not scope or any(len(p) > 200 for p in scope)):
        raise RegisterInputError("a project scope names 1 or more projects of 1-200 characters")
    secret = generate_token()
    row = ApiToken(
        name=name.strip(), role=role.value, token_hash=hash_token(secret), projects=scope
    )
    session.add(row)
    session.flush()
    return row, secret


def list_tokens(session: Session) -> Sequence[ApiToken]:
    """Every token, newest first (hashes included; callers show only names and roles)."""
    return session.exec(select(ApiToken).order_by(col(ApiToken.id).desc())).all()


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token by id; revoking twice keeps the first revocation time."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise RegisterInputError(f"no API token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        session.add(row)
    return row


def find_active_token(session: Session, *, token_hash: str) -> ApiToken | None:
    """The unrevoked token with this hash, touching `last_used_at`, or None."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()
    if row is None or row.revoked_at is not None:
        return None
    now = utc_now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        row.last_used_at = now
        session.add(row)
    return row


def authenticate(session: Session, token: str) -> ApiToken | None:
    """The active token row for a presented secret, or None."""
    return find_active_token(session, token_hash=hash_token(token))


def active_token_by_id(session: Session, token_id: int) -> ApiToken | None:
    """The unrevoked token with this id (for sessions, which store the id, not the secret)."""
    row = session.get(ApiToken, token_id)
    return row if row is not None and row.revoked_at is None else None
