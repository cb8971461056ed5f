"""On-disk cache of OSV records fetched online, keyed by record id and `modified` time.

Layout: `<cache>/osv-records/<ID>/<modified>.json`, one file per version of a record. A file's
modification time is when it was last fetched or confirmed; the newest file of an id is served
while it is younger than the freshness window, and as a stale fallback when OSV cannot be
reached. A record whose `modified` changed gets a new file; older versions are pruned.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.advisories.cache import private_cache
from gate.advisories.osv import OsvRecord, record_from_mapping
from gate.errors import ReportFormatError

FOLDER = "osv-records"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, kw_only=True)
class Cached:
    """A cached record and how many seconds ago it was fetched."""

    record: OsvRecord
    age_seconds: float


class RecordCache:
    """Cached OSV records under `root` (created 0700 on first use; unwritable, or writable by
    another user, means no cache)."""

    def __init__(self, root: Path) -> None:
        self.root = root / FOLDER
        self._private: bool | None = None

    def _usable(self) -> bool:
        """Whether the folder is this user's alone (`private_cache`), asked once."""
        if self._private is None:
            self._private = private_cache(self.root)
        return self._private

    def newest(self, record_id: str) -> Cached | None:
        """The newest cached version of `record_id`, or None (a damaged file counts as none)."""
        files = self._versions(record_id) if self._usable() else []
        if not files:
            return None
        newest = max(files, key=_mtime)
        try:
            data = json.loads(newest.read_bytes())
            record = record_from_mapping(data, source=newest)
        except (OSError, ValueError, ReportFormatError):
            return None
        return Cached(record=record, age_seconds=max(time.time() - _mtime(newest), 0.0))

    def store(self, record_id: str, data: dict[str, Any], modified: str | None) -> None:
        """Write the record's JSON under (id, modified) atomically; drop older versions."""
        if not self._usable():
            return
        folder = self.root / _safe(record_id)
        file = folder / f"{_safe(modified or 'unmodified')}.json"
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / f".{file.name}.{os.getpid()}.{threading.get_ident()}.partial"
            partial.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            os.replace(partial, file)  # a refetched, unchanged record refreshes its file's time
            for old in self._versions(record_id):
                if old != file:
                    old.unlink(missing_ok=True)

    def _versions(self, record_id: str) -> list[Path]:
        folder = self.root / _safe(record_id)
        try:
            return [p for p in folder.iterdir() if p.suffix == ".json" and p.is_file()]
        except OSError:
            return []


def _safe(text: str) -> str:
    """A file name for an id or timestamp: anything but letters, digits, `.-_` becomes `_`."""
    return _UNSAFE.sub("_", text.strip()) or "_"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
