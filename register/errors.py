"""Errors of the register; each is a `GateError`, so the CLI maps it to an exit code.

A database that cannot be reached or is out of date is a runtime failure (exit 2); bad input
from a user, such as an acceptance without expiry or an unknown entry id, is exit 3.
"""

from __future__ import annotations

from collections.abc import Iterable

from gate.errors import ConfigError, GateError

FIELD_PART_CHARS = 60


def field_path(parts: Iterable[object]) -> str:
    """A dotted field path for a one-line message; a key with spaces, control characters or
    unpaired surrogates, or a very long one, is quoted (escaped) and cut."""
    return ".".join(_field_part(str(part)) for part in parts)


def _field_part(text: str) -> str:
    plain = text.isprintable() and " " not in text and len(text) <= FIELD_PART_CHARS
    if plain and not any("\ud800" <= char <= "\udfff" for char in text):
        return text
    return ascii(text[:FIELD_PART_CHARS]) + ("…" if len(text) > FIELD_PART_CHARS else "")


class RegisterError(GateError):
    """Base of every register error (runtime failure, exit 2)."""

    exit_code = 2


class DatabaseUnavailableError(RegisterError):
    """The database cannot be reached, is locked past the busy timeout, or is read-only."""


class SchemaOutOfDateError(RegisterError):
    """The database schema is not at the migrations' head; `gate db upgrade` fixes it."""


class RegisterInputError(RegisterError, ConfigError):
    """Bad input from a user: unknown entry, refused acceptance, unreadable verdict (exit 3)."""

    exit_code = 3


class UnknownSchemaError(RegisterInputError):
    """The database is at a schema revision this riskgate's migrations do not know (exit 3)."""


class EntryNotFoundError(RegisterInputError):
    """No register entry has the given id."""

    def __init__(self, entry_id: int) -> None:
        super().__init__(f"no register entry with id {entry_id}")
        self.entry_id = entry_id


class TriageRefusedError(RegisterInputError):
    """A triage action breaks a rule: no expiry, expiry beyond the policy maximum, wrong state."""
