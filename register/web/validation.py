"""Checks on uploaded verdicts beyond their schema: what the databases cannot store.

PostgreSQL text cannot hold NUL characters and SQLite truncates them in places; a lone
surrogate (a `\\ud800` escape without its pair) is no Unicode text at all and no driver can
encode it. A verdict carrying either is refused with a clear 422 rather than failing inside
the database.
"""

from __future__ import annotations

from typing import Any

from gate.models import Verdict
from register.errors import RegisterInputError
from register.recording import UNSTORABLE
from register.verdict_stream import VerdictFile


def _nul_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and UNSTORABLE.search(key):
            return f"{path}.{key!r}"
        found = _nul_path(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def _refuse_at(found: str | None) -> None:
    if found is None:
        return
    raise RegisterInputError(
        f"invalid verdict: {found} contains a NUL character (\\u0000) or a lone surrogate "
        "(\\ud800-\\udfff without its pair), which cannot be stored"
    )


def refuse_unstorable(verdict: Verdict) -> None:
    """Raise `RegisterInputError` naming the first field that holds NUL or a lone surrogate."""
    _refuse_at(_nul_path(verdict.model_dump(), ""))


def refuse_unstorable_file(verdict: VerdictFile) -> None:
    """`refuse_unstorable` for a streamed verdict file, one finding at a time."""
    refuse_unstorable(verdict.header)
    for index, raw in verdict.raw_findings():
        _refuse_at(_nul_path(raw, f"findings.{index}"))
