"""OSV advisory records: load a directory of them and match a package version against them.

The layout is the PyPA advisory database's (`vulns/<package>/<ID>.yaml`), but any tree of
`.yaml`, `.yml` or `.json` OSV records works. Scalars are read as strings (YAML's base loader),
so versions like `2.10` stay `2.10` and timestamps stay text until we normalise them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gate.errors import ConfigError, ReportFormatError
from gate.safe_input import loads_storable

RECORD_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
_YAML_LOADER: type[Any] = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class OsvEvent:
    """One event of a range: `introduced`, `fixed`, `last_affected` or `limit`, and its version."""

    kind: str
    version: str


@dataclass(frozen=True, kw_only=True)
class OsvRange:
    """An affected range (`ECOSYSTEM`, `SEMVER` or `GIT`) as its list of events."""

    type: str
    events: tuple[OsvEvent, ...]

    def includes(self, version: Version) -> bool:
        """OSV's range rule: walk the sorted events; introduced opens, fixed/last_affected close.

        GIT ranges cannot be compared with a package version and never match. An event whose
        version is not PEP 440 errs towards "affected": a bad `introduced` opens the range from
        the start and a bad `fixed` or `last_affected` does not close it (fail closed).
        """
        if self.type.upper() not in ("ECOSYSTEM", "SEMVER"):
            return False
        affected = False
        for kind, bound in _sorted_events(self.events):
            if kind == "introduced":
                affected = affected or bound is None or version >= bound
            elif bound is not None and _closes(kind, bound, version):
                affected = False
        return affected


@dataclass(frozen=True, kw_only=True)
class OsvAffected:
    """One `affected` entry: a package in an ecosystem with its ranges and explicit versions."""

    package: str
    ecosystem: str
    ranges: tuple[OsvRange, ...] = ()
    versions: tuple[str, ...] = ()

    @property
    def normalised_package(self) -> str:
        """The package name normalised per PEP 503."""
        return canonicalize_name(self.package)

    def includes(self, version: str) -> bool:
        """True when `version` is listed explicitly or falls inside one of the ranges."""
        if version in self.versions:
            return True
        parsed = _parse_version(version)
        if parsed is None:
            return False
        if any(_parse_version(listed) == parsed for listed in self.versions):
            return True
        return any(r.includes(parsed) for r in self.ranges)


@dataclass(frozen=True, kw_only=True)
class OsvSeverity:
    """A severity entry: its type (`CVSS_V3`, `CVSS_V4`, ...) and score (a vector for CVSS)."""

    type: str
    score: str


@dataclass(frozen=True, kw_only=True)
class OsvReference:
    """A reference link and its type (`ADVISORY`, `FIX`, `WEB`, ...)."""

    type: str
    url: str


@dataclass(frozen=True, kw_only=True)
class OsvRecord:
    """One OSV advisory; timestamps are normalised to RFC 3339 in UTC ending in `Z`."""

    id: str
    aliases: tuple[str, ...] = ()
    summary: str | None = None
    details: str | None = None
    affected: tuple[OsvAffected, ...] = ()
    severity: tuple[OsvSeverity, ...] = ()
    database_specific: Mapping[str, Any] = field(default_factory=dict, compare=False)
    published: str | None = None
    modified: str | None = None
    withdrawn: str | None = None
    references: tuple[OsvReference, ...] = ()
    source: Path | None = field(default=None, compare=False)

    @property
    def ids(self) -> tuple[str, ...]:
        """The record's id followed by its aliases."""
        return (self.id, *self.aliases)

    @property
    def cwe_ids(self) -> tuple[str, ...]:
        """`database_specific.cwe_ids` (GHSA records), else empty."""
        value = self.database_specific.get("cwe_ids")
        if isinstance(value, list | tuple):
            return tuple(str(item) for item in value)
        return ()

    def affects(self, package: str, version: str) -> bool:
        """True when a PyPI `affected` entry for `package` includes `version`."""
        name = canonicalize_name(package)
        return any(
            a.ecosystem.lower() == "pypi" and a.normalised_package == name and a.includes(version)
            for a in self.affected
        )

    def to_osv(self) -> dict[str, Any]:
        """The record as OSV JSON (package names normalised, as pip-audit compares them)."""
        data: dict[str, Any] = {"schema_version": "1.6.0", "id": self.id}
        data["aliases"] = [*self.aliases]
        optional = {
            "summary": self.summary,
            "details": self.details,
            "published": self.published,
            "modified": self.modified,
            "withdrawn": self.withdrawn,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        data["affected"] = [_affected_json(a) for a in self.affected]
        data["severity"] = [{"type": s.type, "score": s.score} for s in self.severity]
        data["references"] = [{"type": r.type, "url": r.url} for r in self.references]
        if self.database_specific:
            data["database_specific"] = dict(self.database_specific)
        return data


class MemoryIndex:
    """OSV records in memory, indexed by normalised package name and by every id and alias."""

    def __init__(self, records: Iterable[OsvRecord]) -> None:
        self._records = tuple(records)
        by_package: dict[str, list[OsvRecord]] = {}
        by_id: dict[str, OsvRecord] = {}
        named: dict[str, list[OsvRecord]] = {}
        for record in self._records:
            for name in {a.normalised_package for a in record.affected}:
                by_package.setdefault(name, []).append(record)
            by_id.setdefault(record.id.upper(), record)
        for record in self._records:
            for alias in record.ids:
                named.setdefault(alias.upper(), []).append(record)
                by_id.setdefault(alias.upper(), record)
        self._by_package = {name: tuple(items) for name, items in by_package.items()}
        self._by_id = by_id
        self._named = {key: tuple(items) for key, items in named.items()}

    @property
    def records(self) -> tuple[OsvRecord, ...]:
        """Every loaded record, in load order."""
        return self._records

    def __len__(self) -> int:
        return len(self._records)

    def query(self, package: str, version: str) -> list[OsvRecord]:
        """Records (not withdrawn) whose PyPI entries for `package` include `version`."""
        candidates = self._by_package.get(canonicalize_name(package), ())
        return [r for r in candidates if r.withdrawn is None and r.affects(package, version)]

    def get(self, id_or_alias: str) -> OsvRecord | None:
        """The record with this id, else one that lists it as an alias (case-insensitive)."""
        return self._by_id.get(id_or_alias.strip().upper())

    def named(self, id_or_alias: str) -> tuple[OsvRecord, ...]:
        """Every record whose id or aliases include this id (case-insensitive)."""
        return self._named.get(id_or_alias.strip().upper(), ())


def load_advisory_dir(path: Path) -> MemoryIndex:
    """Load every OSV record under `path`; `ConfigError` when there is none to load.

    The result is cached per process while no file under `path` changes, so the pipeline and
    the pip-audit scanner can both ask for the same directory at the cost of one load.
    """
    if not path.is_dir():
        raise ConfigError(f"advisories: {path} is not a directory")
    stamps = tuple((file, *_stamp(file)) for file in _record_files(path))
    return _load_stamped(path, stamps)


@functools.lru_cache(maxsize=4)
def _load_stamped(path: Path, stamps: tuple[tuple[Path, int, int], ...]) -> MemoryIndex:
    records = [record for file, *_ in stamps for record in load_advisory_file(file)]
    if not records:
        raise ConfigError(f"advisories: no OSV records (.yaml, .yml, .json) under {path}")
    return MemoryIndex(records)


def _stamp(file: Path) -> tuple[int, int]:
    status = file.stat()
    return status.st_mtime_ns, status.st_size


def load_advisory_file(file: Path) -> list[OsvRecord]:
    """Read one OSV file (a record, or a JSON list of records); errors name the file."""
    data = _read_document(file)
    items = data if isinstance(data, list) else [data]
    return [record_from_mapping(item, source=file) for item in items]


def record_from_mapping(data: object, *, source: Path) -> OsvRecord:
    """Build an `OsvRecord` from parsed OSV data; `ReportFormatError` names `source`."""
    if not isinstance(data, dict):
        raise ReportFormatError(f"{source}: an OSV record must be a mapping")
    record_id = _text(data.get("id"), "id", source)
    if not record_id:
        raise ReportFormatError(f"{source}: OSV record has no 'id'")
    return OsvRecord(
        id=record_id,
        aliases=_strings(data.get("aliases"), "aliases", source),
        summary=_text(data.get("summary"), "summary", source),
        details=_text(data.get("details"), "details", source),
        affected=tuple(_affected(item, source) for item in _list(data, "affected", source)),
        severity=tuple(_severity(item, source) for item in _list(data, "severity", source)),
        database_specific=_mapping(data.get("database_specific"), source),
        published=_timestamp(data.get("published"), "published", source),
        modified=_timestamp(data.get("modified"), "modified", source),
        withdrawn=_timestamp(data.get("withdrawn"), "withdrawn", source),
        references=tuple(_reference(item, source) for item in _list(data, "references", source)),
        source=source,
    )


def normalise_timestamp(value: str) -> str:
    """An RFC 3339 / ISO 8601 time or date as UTC `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.

    pip-audit only parses timestamps that end in `Z`; naive times are taken as UTC.
    Raises `ValueError` for text that is not a date or time.
    """
    parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(pattern)


def _record_files(root: Path) -> Iterator[Path]:
    """Record files, skipping hidden ones (`.github/workflows/*.yml` in a database checkout)."""
    files = (
        p
        for p in root.rglob("*")
        if p.suffix.lower() in RECORD_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.is_file()
    )
    return iter(sorted(files))


def _read_document(file: Path) -> object:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ReportFormatError(f"{file}: cannot read OSV record: {exc}") from exc
    return parse_document(str(file), data)


def parse_document(name: str, data: bytes) -> object:
    """Parse one record file's bytes, JSON or YAML by `name`'s suffix; errors name the place."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportFormatError(f"{name}: cannot read OSV record: not UTF-8") from exc
    if name.lower().endswith(".json"):
        try:
            return loads_storable(text)
        except json.JSONDecodeError as exc:
            where = f"{name}:{exc.lineno}:{exc.colno}"
            raise ReportFormatError(f"{where}: invalid JSON: {exc.msg}") from exc
    try:
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - the base loader builds no objects
    except yaml.MarkedYAMLError as exc:
        where = f"{name}:{_yaml_position(exc)}"
        raise ReportFormatError(f"{where}: invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ReportFormatError(f"{name}: invalid YAML: {exc}") from exc


def _yaml_position(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    return f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"


def _affected(item: object, source: Path) -> OsvAffected:
    if not isinstance(item, dict) or not isinstance(item.get("package"), dict):
        raise ReportFormatError(f"{source}: each 'affected' entry needs a 'package' mapping")
    package = item["package"]
    return OsvAffected(
        package=_text(package.get("name"), "affected.package.name", source) or "",
        ecosystem=_text(package.get("ecosystem"), "affected.package.ecosystem", source) or "",
        ranges=tuple(_range(r, source) for r in _list(item, "ranges", source)),
        versions=_strings(item.get("versions"), "affected.versions", source),
    )


def _range(item: object, source: Path) -> OsvRange:
    if not isinstance(item, dict):
        raise ReportFormatError(f"{source}: each range must be a mapping")
    events = []
    for event in _list(item, "events", source):
        if not isinstance(event, dict) or len(event) != 1:
            raise ReportFormatError(f"{source}: each range event must be one 'kind: version' pair")
        ((kind, version),) = event.items()
        events.append(OsvEvent(kind=str(kind), version=str(version)))
    return OsvRange(type=_text(item.get("type"), "ranges.type", source) or "", events=tuple(events))


def _severity(item: object, source: Path) -> OsvSeverity:
    if not isinstance(item, dict):
        raise ReportFormatError(f"{source}: each severity entry must be a mapping")
    return OsvSeverity(
        type=_text(item.get("type"), "severity.type", source) or "",
        score=_text(item.get("score"), "severity.score", source) or "",
    )


def _reference(item: object, source: Path) -> OsvReference:
    if not isinstance(item, dict):
        raise ReportFormatError(f"{source}: each reference must be a mapping")
    return OsvReference(
        type=_text(item.get("type"), "references.type", source) or "",
        url=_text(item.get("url"), "references.url", source) or "",
    )


def _list(data: dict[str, Any], key: str, source: Path) -> list[Any]:
    value = data.get(key)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise ReportFormatError(f"{source}: '{key}' must be a list")
    return value


def _text(value: object, key: str, source: Path) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ReportFormatError(f"{source}: '{key}' must be text")


def _strings(value: object, key: str, source: Path) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if not isinstance(value, list):
        raise ReportFormatError(f"{source}: '{key}' must be a list")
    return tuple(_text(item, key, source) or "" for item in value)


def _mapping(value: object, source: Path) -> Mapping[str, Any]:
    if value is None or value == "":
        return _EMPTY
    if not isinstance(value, dict):
        raise ReportFormatError(f"{source}: 'database_specific' must be a mapping")
    return MappingProxyType(dict(value))


def _timestamp(value: object, key: str, source: Path) -> str | None:
    text = _text(value, key, source)
    if text is None:
        return None
    try:
        return normalise_timestamp(text)
    except ValueError as exc:
        raise ReportFormatError(f"{source}: '{key}' is not an RFC 3339 time: {text!r}") from exc


def _affected_json(affected: OsvAffected) -> dict[str, Any]:
    return {
        "package": {"name": affected.normalised_package, "ecosystem": affected.ecosystem},
        "ranges": [
            {"type": r.type, "events": [{e.kind: e.version} for e in r.events]}
            for r in affected.ranges
        ],
        "versions": [*affected.versions],
    }


def _closes(kind: str, bound: Version, version: Version) -> bool:
    """`fixed` is the first unaffected version; `last_affected` the last affected one."""
    if kind == "fixed":
        return version >= bound
    return kind == "last_affected" and version > bound


def _sorted_events(events: tuple[OsvEvent, ...]) -> list[tuple[str, Version | None]]:
    parsed = [(e.kind, None if e.version == "0" else _parse_version(e.version)) for e in events]
    usable = [(kind, bound) for kind, bound in parsed if bound is not None or kind == "introduced"]
    return sorted(usable, key=lambda item: (item[1] is not None, item[1] or Version("0")))


@functools.lru_cache(maxsize=16384)
def _parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None
