"""The advisory index the gate asks: by package and version, by id, by alias.

`open_advisories(path)` gives one for a directory of OSV records or OSV's export zip. The first
time it sees some content it parses every record once and writes an SQLite index of them under
the cache directory, named by the content's SHA-256 (`sources.content_key`); later runs open
that file and parse only the records they are asked for. Changed data has another key, so it
is indexed afresh; an unwritable cache, or one another user could write, falls back to an
in-memory index. The pipeline, the
loopback OSV server and enrichment see the same `AdvisoryIndex` protocol whatever the source.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import canonicalize_name

from gate.advisories import sources
from gate.advisories.cache import cache_root, private_cache
from gate.advisories.osv import MemoryIndex, OsvRecord, parse_document, record_from_mapping
from gate.errors import ConfigError

INDEX_FORMAT = "1"  # part of the file name: a new layout never reads an old file
KEEP_INDEXES = 4
_SCHEMA = (
    "CREATE TABLE record (id TEXT PRIMARY KEY, source TEXT NOT NULL, doc TEXT NOT NULL)",
    "CREATE TABLE package (name TEXT NOT NULL, id TEXT NOT NULL)",
    "CREATE TABLE alias (name TEXT NOT NULL, id TEXT NOT NULL, own INTEGER NOT NULL)",
    "CREATE INDEX ix_package ON package (name)",
    "CREATE INDEX ix_alias ON alias (name, own)",
)


class AdvisoryIndex(Protocol):
    """What the gate asks of advisory data, wherever it came from."""

    def query(self, package: str, version: str) -> list[OsvRecord]:
        """Records (not withdrawn) that affect `package` at `version` (PyPI)."""
        ...

    def get(self, id_or_alias: str) -> OsvRecord | None:
        """The record with this id, else one listing it as an alias."""
        ...

    def named(self, id_or_alias: str) -> tuple[OsvRecord, ...]:
        """Every record whose id or aliases include this id."""
        ...

    def __len__(self) -> int:
        """How many records the index holds."""
        ...


class DiskIndex:
    """An SQLite index file of OSV records, parsed on demand (thread-safe, read-only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        uri = f"{path.resolve().as_uri()}?mode=ro"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._parsed: dict[str, OsvRecord] = {}
        self._size = int(self._rows("SELECT count(*) FROM record", ())[0][0])

    def __len__(self) -> int:
        return self._size

    def query(self, package: str, version: str) -> list[OsvRecord]:
        """Records (not withdrawn) whose PyPI entries for `package` include `version`."""
        ids = [row[0] for row in self._rows(
            "SELECT id FROM package WHERE name = ? ORDER BY id", (canonicalize_name(package),)
        )]
        records = [self._record(i) for i in ids]
        return [r for r in records if r.withdrawn is None and r.affects(package, version)]

    def get(self, id_or_alias: str) -> OsvRecord | None:
        """The record with this id, else the first (by id) that lists it as an alias."""
        rows = self._rows(
            "SELECT id FROM alias WHERE name = ? ORDER BY own DESC, id LIMIT 1",
            (id_or_alias.strip().upper(),),
        )
        return self._record(rows[0][0]) if rows else None

    def named(self, id_or_alias: str) -> tuple[OsvRecord, ...]:
        """Every record whose id or aliases include this id."""
        rows = self._rows(
            "SELECT id FROM alias WHERE name = ? ORDER BY own DESC, id",
            (id_or_alias.strip().upper(),),
        )
        return tuple(self._record(row[0]) for row in rows)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def _record(self, record_id: str) -> OsvRecord:
        cached = self._parsed.get(record_id)
        if cached is not None:
            return cached
        source, doc = self._rows("SELECT source, doc FROM record WHERE id = ?", (record_id,))[0]
        record = record_from_mapping(json.loads(doc), source=Path(source))
        self._parsed[record_id] = record
        return record

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()


def open_advisories(path: Path, *, cache_dir: Path | None = None) -> AdvisoryIndex:
    """The index of a directory or export zip; `ConfigError` when it holds no record.

    Memoised per process while the source's files keep their sizes and times, so the pipeline
    and the pip-audit scanner share one index.
    """
    sources.check_source(path)
    return _open(path.resolve(), sources.stamp(path), cache_dir or cache_root())


@functools.lru_cache(maxsize=4)
def _open(path: Path, stamp: tuple[tuple[str, int, int], ...], cache_dir: Path) -> AdvisoryIndex:
    if not stamp:
        raise ConfigError(f"advisories: no OSV records (.yaml, .yml, .json) under {path}")
    folder = cache_dir / "advisory-index"
    if not private_cache(folder):  # another user could plant an index that hides advisories
        return MemoryIndex(record for record, _ in _parsed_documents(path))
    key = _content_key(path, stamp, folder)
    file = folder / f"v{INDEX_FORMAT}-{key}.sqlite"
    if file.is_file():
        with contextlib.suppress(sqlite3.Error):
            return DiskIndex(file)
    items = list(_parsed_documents(path))
    try:
        _write_index(file, items)
    except (OSError, sqlite3.Error):
        return MemoryIndex(record for record, _ in items)  # no cache: still correct, slower
    _prune(folder, keep=file)
    return DiskIndex(file)


def _content_key(path: Path, stamp: tuple[tuple[str, int, int], ...], folder: Path) -> str:
    """The content key, remembered per (path, names, sizes, nanosecond times) like git's index.

    Hashing every record costs more than listing them; a file rewritten with the same size in
    the same nanosecond is the one change this shortcut would miss.
    """
    seen = hashlib.sha256(repr((str(path), stamp)).encode("utf-8")).hexdigest()
    memo = folder / "stamps" / seen
    with contextlib.suppress(OSError, UnicodeDecodeError):
        key = memo.read_text(encoding="utf-8").strip()
        if len(key) == 64:
            return key
    key = sources.content_key(path)
    with contextlib.suppress(OSError):
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_name(f".{seen}.{os.getpid()}.partial")
        partial.write_text(key, encoding="utf-8")
        os.replace(partial, memo)
    return key


def _parsed_documents(path: Path) -> Iterable[tuple[OsvRecord, dict[str, Any]]]:
    """Every record of the source, validated, with the mapping it was read from."""
    count = 0
    for document in sources.documents(path):
        data = parse_document(document.name, document.data)
        for item in data if isinstance(data, list) else [data]:
            record = record_from_mapping(item, source=Path(document.name))
            count += 1
            yield record, dict(item) if isinstance(item, dict) else {}
    if not count:
        raise ConfigError(f"advisories: no OSV records (.yaml, .yml, .json) under {path}")


def _write_index(file: Path, items: list[tuple[OsvRecord, dict[str, Any]]]) -> None:
    """Write the index to a temporary file and move it into place (readers never see half)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.partial")
    partial.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(partial)) as db:
            for statement in _SCHEMA:
                db.execute(statement)
            _insert(db, items)
            db.commit()
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)


def _insert(db: sqlite3.Connection, items: list[tuple[OsvRecord, dict[str, Any]]]) -> None:
    seen: set[str] = set()
    for record, item in items:
        if record.id in seen:  # the first of two files with one id wins, as in memory
            continue
        seen.add(record.id)
        db.execute(
            "INSERT INTO record VALUES (?, ?, ?)",
            (record.id, str(record.source), json.dumps(item, separators=(",", ":"))),
        )
        names = {a.normalised_package for a in record.affected}
        db.executemany("INSERT INTO package VALUES (?, ?)", [(n, record.id) for n in names])
        own = record.id.upper()
        aliases = {alias.upper(): int(alias.upper() == own) for alias in record.ids}
        db.executemany(
            "INSERT INTO alias VALUES (?, ?, ?)",
            [(name, record.id, own) for name, own in aliases.items()],
        )


def _prune(folder: Path, *, keep: Path) -> None:
    """Keep the newest few index files: old data's indexes are not needed again."""
    files = sorted(folder.glob(f"v{INDEX_FORMAT}-*.sqlite"), key=_mtime, reverse=True)
    for old in [f for f in files if f != keep][KEEP_INDEXES - 1 :]:
        with contextlib.suppress(OSError):
            old.unlink()


def _mtime(file: Path) -> float:
    try:
        return file.stat().st_mtime
    except OSError:
        return 0.0
