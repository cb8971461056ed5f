"""Keep a register entry when its code is edited in place and its exact fingerprint changes.

While a run streams in, code findings the register does not know are held back. When the
stream ends, they are paired (`gate.identity.match_edits`: same rule, file and enclosing
function/class, similar code, nearest line) with the project's active or false-positive code
entries that this run did not see. A paired entry takes the new fingerprint (its id, history,
owner, acceptance and status stay) and logs a `code_edited` event; the rest open as new.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gate.identity import CodeIdentity, match_edits
from gate.models import FindingKind
from register.continued_entries import ENTRY, KEPT_STATUSES, log_continued, rekey
from register.dependency_identity import DependencyMatcher
from register.models import EventKind
from register.staged_row import AT, FINGERPRINT

_KIND, _RULE, _PATH, _SCOPE = AT["kind"], AT["rule_id"], AT["path"], AT["scope"]
_SNIPPET, _START = AT["snippet"], AT["start_line"]


@dataclass(frozen=True, kw_only=True)
class Rekeyed:
    """An entry whose fingerprint changed because its code was edited."""

    entry_id: int
    old: str
    new: str
    similarity: float
    old_line: int | None
    new_line: int | None

    def detail(self) -> str:
        """The event's words."""
        lines = f"line {self.old_line} → {self.new_line}"
        return (f"code edited in place ({lines}, {round(self.similarity * 100)} % alike): "
                f"fingerprint {self.old[:12]}… → {self.new[:12]}…")


def code_identity(row: list[Any]) -> CodeIdentity | None:
    """`CodeIdentity.of` the finding whose staged row this is (its texts as stored)."""
    if row[_KIND] != FindingKind.CODE.value or not row[_PATH] or not row[_SNIPPET]:
        return None
    return CodeIdentity(key=row[FINGERPRINT], rule_id=row[_RULE], path=row[_PATH],
                        scope=row[_SCOPE], snippet=row[_SNIPPET], start_line=row[_START])


@dataclass(kw_only=True)
class EditMatcher:
    """New code rows held until the run's stream ends, then matched to vanished entries."""

    project_id: int
    places: frozenset[tuple[str, str]] = frozenset()
    held: dict[str, tuple[list[Any], CodeIdentity]] = field(default_factory=dict)
    rekeyed: list[Rekeyed] = field(default_factory=list)

    @classmethod
    def of_project(cls, connection: Connection, project_id: int) -> EditMatcher:
        """A matcher knowing the (rule, file) pairs of the project's keepable code entries:
        only new findings there are held (a first run holds nothing)."""
        query = sa.select(ENTRY.c.rule_id, ENTRY.c.path).distinct().where(
            ENTRY.c.project_id == project_id,
            ENTRY.c.kind == "code",
            ENTRY.c.status.in_(KEPT_STATUSES),
            ENTRY.c.path.is_not(None),
        )
        places = frozenset((str(r), str(p)) for r, p in connection.execute(query))
        return cls(project_id=project_id, places=places)

    def hold(self, row: list[Any]) -> bool:
        """Keep a row of a new code finding where known code entries are; False otherwise."""
        if not self.places:  # a project without code entries: nothing to continue
            return False
        identity = code_identity(row)
        if identity is None or (identity.rule_id, identity.path) not in self.places:
            return False
        self.held[identity.key] = (row, identity)
        return True

    def release(
        self, connection: Connection, *, seen: Container[str]
    ) -> Iterator[tuple[list[Any], str | None]]:
        """Each held row with the fingerprint of the entry it continues (None: a new one).

        A continued entry is given the new fingerprint here, before the run's upsert.
        """
        if not self.held:
            return
        vanished = self._vanished(connection, seen=seen)
        pairs = match_edits(
            [identity for _, identity in self.held.values()],
            [old.identity for old in vanished.values()],
        )
        for fingerprint, (row, identity) in self.held.items():
            match = pairs.get(fingerprint)
            if match is None:
                yield row, None
                continue
            old_key, ratio = match
            old = vanished[old_key]
            rekey(connection, entry_id=old.entry_id, fingerprint=fingerprint)
            self.rekeyed.append(Rekeyed(
                entry_id=old.entry_id, old=old_key, new=fingerprint, similarity=ratio,
                old_line=old.identity.start_line, new_line=identity.start_line,
            ))
            yield row, old_key

    def _vanished(
        self, connection: Connection, *, seen: Container[str]
    ) -> dict[str, _Vanished]:
        paths = sorted({identity.path for _, identity in self.held.values()})
        rules = {identity.rule_id for _, identity in self.held.values()}
        query = sa.select(
            ENTRY.c.id, ENTRY.c.fingerprint, ENTRY.c.rule_id, ENTRY.c.path, ENTRY.c.scope,
            ENTRY.c.snippet, ENTRY.c.start_line,
        ).where(
            ENTRY.c.project_id == self.project_id,
            ENTRY.c.kind == "code",
            ENTRY.c.status.in_(KEPT_STATUSES),
            ENTRY.c.path.in_(paths),
        )
        found: dict[str, _Vanished] = {}
        for entry_id, fingerprint, rule_id, path, scope, snippet, line in connection.execute(query):
            if fingerprint in seen or rule_id not in rules or not snippet:
                continue
            identity = CodeIdentity(key=fingerprint, rule_id=rule_id, path=path, scope=scope,
                                    snippet=snippet, start_line=line)
            found[fingerprint] = _Vanished(entry_id=entry_id, identity=identity)
        return found

    def log(self, connection: Connection, *, run_id: str, at: Any, actor: str) -> None:
        """One `code_edited` event per continued entry (after the run's upsert)."""
        log_continued(connection, self.rekeyed, kind=EventKind.CODE_EDITED, run_id=run_id, at=at,
                      actor=actor)


@dataclass(frozen=True, kw_only=True)
class _Vanished:
    entry_id: int
    identity: CodeIdentity


@dataclass(kw_only=True)
class Continuity:
    """Both matchers of a recording: code edited in place, dependencies whose pin moved."""

    code: EditMatcher
    dependencies: DependencyMatcher

    @classmethod
    def of_project(cls, connection: Connection, project_id: int) -> Continuity:
        """The project's matchers."""
        return cls(code=EditMatcher.of_project(connection, project_id),
                   dependencies=DependencyMatcher.of_project(connection, project_id))

    def may_hold(self) -> bool:
        """Whether the project has an entry either matcher could continue."""
        return bool(self.code.places) or self.dependencies.may_hold()

    def hold(self, row: list[Any]) -> bool:
        """Hold a new finding's row when one of the matchers may continue an entry with it
        (in place of a row of the same fingerprint either held)."""
        fingerprint = row[FINGERPRINT]
        if self.code.hold(row):
            self.dependencies.held.pop(fingerprint, None)
            return True
        if self.dependencies.hold(row):
            self.code.held.pop(fingerprint, None)
            return True
        return False

    def holds(self, fingerprint: str) -> bool:
        """Whether a row of this fingerprint is held."""
        return fingerprint in self.code.held or fingerprint in self.dependencies.held

    def drop(self, fingerprint: str) -> None:
        """Let go of the row of this fingerprint held (a worse duplicate is not held)."""
        self.code.held.pop(fingerprint, None)
        self.dependencies.held.pop(fingerprint, None)

    def release(
        self, connection: Connection, *, seen: Container[str]
    ) -> Iterator[tuple[list[Any], str | None]]:
        """Every held row, with the entry it continues (None: a new one)."""
        yield from self.code.release(connection, seen=seen)
        yield from self.dependencies.release(connection, seen=seen)

    def log(self, connection: Connection, *, run_id: str, at: Any, actor: str) -> None:
        """The events of every continued entry."""
        self.code.log(connection, run_id=run_id, at=at, actor=actor)
        self.dependencies.log(connection, run_id=run_id, at=at, actor=actor)
