"""The last answer of each register source, kept on disk for when the register is down.

One JSON file per (source, project) under `.riskgate/decisions` (or `GATE_DECISIONS_CACHE`).
A cached answer is only used with its age said in the report; a damaged file counts as none.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from gate.models import TriageDecision

DEFAULT_CACHE_DIR = Path(".riskgate") / "decisions"
_DECISIONS = TypeAdapter(dict[str, TriageDecision])


def default_cache_dir() -> Path:
    """`GATE_DECISIONS_CACHE`, else `.riskgate/decisions` under the working directory."""
    return Path(os.environ.get("GATE_DECISIONS_CACHE", DEFAULT_CACHE_DIR))


@dataclass(frozen=True, kw_only=True)
class CachedDecisions:
    """What a source answered last, and when."""

    decisions: dict[str, TriageDecision]
    fetched_at: datetime


@dataclass(frozen=True, kw_only=True)
class DecisionCache:
    """A directory of last answers."""

    directory: Path

    def _file(self, label: str, project: str) -> Path:
        key = hashlib.sha256(f"{label}\x1f{project}".encode()).hexdigest()[:24]
        return self.directory / f"{key}.json"

    def save(
        self, label: str, project: str, decisions: dict[str, TriageDecision], *, at: datetime
    ) -> None:
        """Keep this answer (best effort: a cache that cannot be written is no cache)."""
        body = {
            "source": label,
            "project": project,
            "fetched_at": at.isoformat(),
            "decisions": _DECISIONS.dump_python(decisions, mode="json"),
        }
        path = self._file(label, project)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            partial.write_text(json.dumps(body), encoding="utf-8")
            os.replace(partial, path)
        except OSError:
            return

    def load(self, label: str, project: str) -> CachedDecisions | None:
        """The last answer for this source and project, or None."""
        try:
            body = json.loads(self._file(label, project).read_text(encoding="utf-8"))
            fetched_at = datetime.fromisoformat(body["fetched_at"])
            decisions = _DECISIONS.validate_python(body["decisions"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None
        if fetched_at.tzinfo is None or body.get("project") != project:
            return None
        return CachedDecisions(decisions=decisions, fetched_at=fetched_at)
