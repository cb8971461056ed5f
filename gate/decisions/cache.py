"""The last answer of each register source, kept on disk for when the register is down.

One JSON file per (source, project) under the user's cache directory
(`<cache>/decisions`, see `gate.advisories.cache`; `GATE_DECISIONS_CACHE` overrides it).
A cached answer is only used with its age said in the report; a damaged file counts as none.

A cached answer unblocks findings, so it must be the register's own: never a file that came
with the scanned tree (the cache is not under the working directory), nor one another user
could write (`gate.safe_input.not_private`), nor one not signed with the source's credential
(HMAC-SHA256 keyed by the token, or the database URL). A source read with no credential is
not cached.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from gate.advisories.cache import cache_root
from gate.models import TriageDecision
from gate.safe_input import not_own_file, not_private, private_dir

CACHE_ENV = "GATE_DECISIONS_CACHE"
_DECISIONS = TypeAdapter(dict[str, TriageDecision])
_SIGNED = ("source", "project", "fetched_at", "decisions")


def default_cache_dir() -> Path:
    """`GATE_DECISIONS_CACHE`, else `decisions` in the user's cache directory."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else cache_root() / "decisions"


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
        self, label: str, project: str, decisions: dict[str, TriageDecision], *, at: datetime,
        credential: str,
    ) -> None:
        """Keep this answer, signed with `credential` (best effort: a cache that cannot be
        written, or a source without a credential, is no cache)."""
        if not credential:
            return
        body: dict[str, Any] = {
            "source": label,
            "project": project,
            "fetched_at": at.isoformat(),
            "decisions": _DECISIONS.dump_python(decisions, mode="json"),
        }
        body["mac"] = _mac(body, credential)
        path = self._file(label, project)
        try:
            private_dir(path.parent)
            partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(body))
            os.replace(partial, path)
        except OSError:
            return

    def load(self, label: str, project: str, *, credential: str) -> CachedDecisions | None:
        """The last answer for this source and project, or None (also when the directory or
        the file may be another user's, or its signature is not `credential`'s)."""
        path = self._file(label, project)
        try:
            if not credential or not_private(path.parent) or not_own_file(path):
                return None
            body = json.loads(path.read_text(encoding="utf-8"))
            if not hmac.compare_digest(str(body.get("mac", "")), _mac(body, credential)):
                return None
            fetched_at = datetime.fromisoformat(body["fetched_at"])
            decisions = _DECISIONS.validate_python(body["decisions"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ValidationError):
            return None
        if fetched_at.tzinfo is None or body.get("source") != label or (
                body.get("project") != project):
            return None
        return CachedDecisions(decisions=decisions, fetched_at=fetched_at)


def _mac(body: dict[str, Any], credential: str) -> str:
    """HMAC-SHA256 of the signed fields' canonical JSON, keyed by the credential's digest."""
    key = hashlib.sha256(b"riskgate decisions cache\0" + credential.encode("utf-8")).digest()
    signed = json.dumps({name: body.get(name) for name in _SIGNED}, sort_keys=True,
                        separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, signed.encode("ascii"), hashlib.sha256).hexdigest()
