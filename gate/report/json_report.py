"""The JSON report: the whole verdict, serialised once by pydantic.

This is also the register's upload schema, so `load_verdict` is the one way to read it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from gate.errors import ReportFormatError
from gate.models import Verdict
from gate.safe_input import decode_json


def render_json(verdict: Verdict) -> str:
    """The verdict as indented JSON."""
    return verdict.model_dump_json(indent=2)


def load_verdict(raw: bytes, *, source: str) -> Verdict:
    """Read a JSON verdict; raise `ReportFormatError` naming `source` when it is not one."""
    decode_json(raw, source=source)  # for a `line L column C` message on broken JSON
    try:
        return Verdict.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(part) for part in first["loc"]) or "top level"
        raise ReportFormatError(
            f"{source}: not a riskgate verdict: {place}: {first['msg']}"
            + (f" (and {exc.error_count() - 1} more errors)" if exc.error_count() > 1 else "")
        ) from exc


@dataclass(frozen=True)
class JsonRenderer:
    """The `json` format."""

    def render(self, verdict: Verdict) -> str:
        """Render the verdict as JSON."""
        return render_json(verdict)
