"""A local spool of verdicts the register could not take yet, replayed later.

Each spooled run is one JSON file `<run_id>.json`, written atomically (temp file + rename):
`{"spool_version": 1, "kind": "database"|"upload", "destination": ..., "reason": ...,
"spooled_at": ..., "verdict": {...}}`. Secrets (passwords, tokens) are never written.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gate.errors import ConfigError
from gate.models import Verdict

SPOOL_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class SpooledRun:
    """One spooled verdict and where it was meant to go."""

    path: Path
    kind: str
    destination: str
    verdict: Verdict


def spool_verdict(
    verdict: Verdict,
    *,
    spool_dir: Path,
    destination: str,
    kind: str = "database",
    reason: str = "",
) -> Path:
    """Write the verdict to the spool atomically; returns the file written."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "spool_version": SPOOL_VERSION,
        "kind": kind,
        "destination": destination,
        "reason": reason,
        "spooled_at": datetime.now(UTC).isoformat(),
        "verdict": verdict.model_dump(mode="json"),
    }
    target = spool_dir / f"{kind}-{verdict.run_id}.json"
    handle, temp = tempfile.mkstemp(dir=spool_dir, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def pending(spool_dir: Path, *, kind: str | None = None) -> list[Path]:
    """Spooled files, oldest first (optionally only one kind)."""
    if not spool_dir.is_dir():
        return []
    pattern = f"{kind}-*.json" if kind else "*.json"
    files = [p for p in spool_dir.glob(pattern) if not p.name.startswith(".tmp-")]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def read_spooled(path: Path) -> SpooledRun:
    """Load one spool file; a damaged one is a one-line error naming it (exit 3)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        verdict = Verdict.model_validate(document["verdict"])
        return SpooledRun(
            path=path,
            kind=str(document["kind"]),
            destination=str(document["destination"]),
            verdict=verdict,
        )
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: unreadable spool file: {first}") from exc
