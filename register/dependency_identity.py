"""Keep a dependency entry when its fingerprint changes but its risk does not.

A dependency finding is one per (manifest, package version, advisory). Its fingerprint
changes when the pin moves to another still-affected version in the same manifest, and it
changed once for every entry recorded before manifests and versions counted (those entries
carry the plain (package, advisory) fingerprint). Like code edits (`register.identity`), new
dependency findings the register does not know are held while the run streams in, then paired
with the project's entries of the same package and advisory that this run did not see:

1. same manifest and version (an entry recorded with the old fingerprint);
2. same manifest (the pin moved to another version that the advisory still affects);
3. any manifest, for an entry with the old fingerprint (recorded when one entry stood for
   every manifest).

A paired entry takes the new fingerprint (its id, history, owner, acceptance and status stay;
an old-fingerprint entry that was fixed is reopened as before) and logs a `dependency_updated`
event. The rest open as new entries.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gate.fingerprint import canonical_advisory_id, legacy_dependency_fingerprint, package_key
from gate.models import FindingKind
from register.continued_entries import ENTRY, KEPT_STATUSES, log_continued, rekey
from register.models import EntryStatus, EventKind
from register.staged_row import AT, FINGERPRINT

_KIND, _RULE, _ALIASES, _PACKAGE = AT["kind"], AT["rule_id"], AT["aliases"], AT["package"]
_MANIFEST, _VERSION = AT["manifest"], AT["version"]

Key = tuple[str, str]


@dataclass(frozen=True, kw_only=True)
class _Place:
    """A dependency finding's or entry's identity parts."""

    fingerprint: str
    key: Key
    manifest: str | None
    version: str | None
    legacy: bool = False
    entry_id: int = 0
    usable: bool = True


@dataclass(frozen=True, kw_only=True)
class Moved:
    """An entry that took a new fingerprint."""

    entry_id: int
    old: _Place
    new: _Place

    def detail(self) -> str:
        """The event's words."""
        package = self.new.key[0]
        where = self.new.manifest or "(no manifest)"
        if self.old.legacy and (self.old.manifest, self.old.version) == (
                self.new.manifest, self.new.version):
            what = f"{package} {self.new.version} in {where}: one entry per manifest and version"
        elif self.old.manifest == self.new.manifest:
            what = (f"{package} {self.old.version} → {self.new.version} in {where}: "
                    "the advisory still applies")
        else:
            what = (f"{package} {self.old.version} in {self.old.manifest} → {self.new.version} in "
                    f"{where}: one entry per manifest and version")
        return f"{what} (fingerprint {self.old.fingerprint[:12]}… → {self.new.fingerprint[:12]}…)"


def place_of(row: list[Any]) -> _Place | None:
    """The identity parts of the dependency advisory finding whose staged row this is (None
    for anything else)."""
    package = row[_PACKAGE]
    if row[_KIND] != FindingKind.DEPENDENCY.value or not package:
        return None
    ids = [row[_RULE], *row[_ALIASES]]
    key = (package_key(package), canonical_advisory_id(ids))
    return _Place(fingerprint=row[FINGERPRINT], key=key, manifest=row[_MANIFEST],
                  version=row[_VERSION])


@dataclass(kw_only=True)
class DependencyMatcher:
    """New dependency rows held until the run's stream ends, then matched to vanished entries."""

    project_id: int
    # (package, rule id, aliases) of the project's dependency entries, aliases as the driver
    # returns them; their keys are worked out when a new dependency finding first asks
    stored: list[tuple[str, str, Any]] = field(default_factory=list)
    held: dict[str, tuple[list[Any], _Place]] = field(default_factory=dict)
    moved: list[Moved] = field(default_factory=list)
    _keys: frozenset[Key] | None = None

    @classmethod
    def of_project(cls, connection: Connection, project_id: int) -> DependencyMatcher:
        """A matcher knowing the project's dependency entries (read through the component
        index; a re-run, which brings no new finding, never computes their keys)."""
        query = _entries(project_id).with_only_columns(
            ENTRY.c.package, ENTRY.c.rule_id, sa.type_coerce(ENTRY.c.aliases, sa.types.NullType)
        )
        return cls(project_id=project_id, stored=[tuple(row) for row in connection.execute(query)])

    @property
    def keys(self) -> frozenset[Key]:
        """The (package, advisory) keys of the project's dependency entries."""
        if self._keys is None:
            names = functools.lru_cache(maxsize=None)(package_key)
            self._keys = frozenset(
                (names(package), canonical_advisory_id([rule_id, *_texts(aliases)]))
                for package, rule_id, aliases in self.stored
            )
            self.stored = []
        return self._keys

    def may_hold(self) -> bool:
        """Whether the project has dependency entries (which a new finding may continue)."""
        return bool(self.stored or self._keys)

    def hold(self, row: list[Any]) -> bool:
        """Keep a row of a new dependency finding whose package and advisory the project has."""
        if not self.may_hold():  # no dependency entries: nothing to continue
            return False
        place = place_of(row)
        if place is None or place.key not in self.keys:
            return False
        self.held[place.fingerprint] = (row, place)
        return True

    def release(
        self, connection: Connection, *, seen: Container[str]
    ) -> Iterator[tuple[list[Any], str | None]]:
        """Each held row with the fingerprint of the entry it continues (None: a new one)."""
        if not self.held:
            return
        wanted = {place.key for _, place in self.held.values()}
        vanished = [p for p in map(_place, connection.execute(_entries(self.project_id)))
                    if p.key in wanted and p.fingerprint not in seen]
        pairs = _pair([place for _, place in self.held.values()], vanished)
        for fingerprint, (row, place) in self.held.items():
            old = pairs.get(fingerprint)
            if old is None:
                yield row, None
                continue
            rekey(connection, entry_id=old.entry_id, fingerprint=fingerprint)
            self.moved.append(Moved(entry_id=old.entry_id, old=old, new=place))
            yield row, old.fingerprint

    def log(self, connection: Connection, *, run_id: str, at: Any, actor: str) -> None:
        """One `dependency_updated` event per continued entry (after the run's upsert)."""
        log_continued(connection, self.moved, kind=EventKind.DEPENDENCY_UPDATED, run_id=run_id,
                      at=at, actor=actor)


def _entries(project_id: int) -> sa.Select[Any]:
    statuses = (*KEPT_STATUSES, EntryStatus.FIXED.value)
    return sa.select(
        ENTRY.c.id, ENTRY.c.fingerprint, ENTRY.c.package, ENTRY.c.rule_id, ENTRY.c.aliases,
        ENTRY.c.manifest, ENTRY.c.version, ENTRY.c.status,
    ).where(
        ENTRY.c.kind == FindingKind.DEPENDENCY.value,
        ENTRY.c.status.in_(statuses),
        ENTRY.c.project_id == project_id,
        ENTRY.c.package.is_not(None),
    )


def _texts(aliases: Any) -> list[str]:
    """A JSON list of texts as stored (SQLite: its text; PostgreSQL's driver decodes it)."""
    decoded = json.loads(aliases) if isinstance(aliases, str) else aliases
    return list(decoded or [])


def _place(row: Any) -> _Place:
    entry_id, fingerprint, package, rule_id, aliases, manifest, version, status = row
    ids = [rule_id, *(aliases or [])]
    legacy = fingerprint == legacy_dependency_fingerprint(package=package, advisory_ids=ids)
    # a fixed entry is continued only from the old fingerprint (it would have reopened)
    return _Place(fingerprint=fingerprint, key=(package_key(package), canonical_advisory_id(ids)),
                  manifest=manifest, version=version, legacy=legacy, entry_id=int(entry_id),
                  usable=status in KEPT_STATUSES or legacy)


def _pair(new: list[_Place], old: list[_Place]) -> dict[str, _Place]:
    """One to one, best rank first: same manifest and version, same manifest, old fingerprint."""
    ranked: list[tuple[int, str, str, _Place]] = []
    for candidate in (o for o in old if o.usable):
        for place in new:
            rank = _rank(place, candidate)
            if rank is not None:
                ranked.append((rank, place.fingerprint, candidate.fingerprint, candidate))
    pairs: dict[str, _Place] = {}
    taken: set[str] = set()
    for _, fingerprint, old_fingerprint, candidate in sorted(ranked, key=lambda r: r[:3]):
        if fingerprint not in pairs and old_fingerprint not in taken:
            pairs[fingerprint] = candidate
            taken.add(old_fingerprint)
    return pairs


def _rank(new: _Place, old: _Place) -> int | None:
    if new.key != old.key:
        return None
    if new.manifest == old.manifest:
        return 0 if new.version == old.version else 1
    return 2 if old.legacy else None
