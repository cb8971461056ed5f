"""API tokens and roles: how a token is made, stored (as a hash only) and what it may do.

Read roles are ordered viewer < triager < admin. `uploader` is the CI role: it may post
runs and nothing else, so a token leaked from a pipeline does not reveal the register.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from register.models import Role

TOKEN_PREFIX = "rg_"  # noqa: S105 - a public prefix, not a secret


_READ_RANK = {Role.UPLOADER: 0, Role.VIEWER: 1, Role.TRIAGER: 2, Role.ADMIN: 3}


def generate_token() -> str:
    """A new secret token; shown once to the user, never stored."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 hex digest (tokens are long and random)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_secret(left: str, right: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


def role_allows(role: Role, needed: Role) -> bool:
    """True when a token of `role` may do what `needed` may.

    Uploading is allowed to uploaders and admins; everything else follows the read order.
    """
    if needed is Role.UPLOADER:
        return role in (Role.UPLOADER, Role.ADMIN)
    return _READ_RANK[role] >= _READ_RANK[needed]


def parse_role(value: str) -> Role:
    """The role named `value`; `ValueError` with the valid names otherwise."""
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(role.value for role in Role)
        raise ValueError(f"unknown role {value!r}; expected one of {names}") from None
