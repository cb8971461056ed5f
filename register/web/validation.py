"""Checks on uploaded verdicts beyond their schema: what the databases cannot store.

PostgreSQL text cannot hold NUL characters and SQLite truncates them in places, so a verdict
carrying one is refused with a clear 422 rather than failing inside the database.
"""

from __future__ import annotations

from typing import Any

from gate.models import Verdict
from register.errors import RegisterInputError
from register.verdict_stream import VerdictFile


def _nul_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return f"{path}.{key!r}"
        found = _nul_path(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def refuse_unstorable(verdict: Verdict) -> None:
    """Raise `RegisterInputError` naming the first field that holds a NUL character."""
    found = _nul_path(verdict.model_dump(), "")
    if found is not None:
        raise RegisterInputError(
            f"invalid verdict: {found} contains a NUL character (\\u0000), which cannot be stored"
        )


def refuse_unstorable_file(verdict: VerdictFile) -> None:
    """`refuse_unstorable` for a streamed verdict file, one finding at a time."""
    refuse_unstorable(verdict.header)
    for index, raw in verdict.raw_findings():
        found = _nul_path(raw, f"findings.{index}")
        if found is not None:
            raise RegisterInputError(
                f"invalid verdict: {found} contains a NUL character (\\u0000), which cannot be"
                " stored"
            )
