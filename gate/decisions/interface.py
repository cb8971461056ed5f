"""The seam for decisions from outside the policy: a `DecisionSource` and what it returns.

A source answers `decisions(project)` with `Decisions`: a mapping fingerprint → decision (the
register's entries), plus decisions keyed by package and advisory id (VEX statements name a
package and a vulnerability, not our fingerprint). `evaluate()` receives them as data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gate.models import DecisionsNote, Finding, FindingKind, TriageDecision


class DecisionsUnavailableError(Exception):
    """The source could not be reached or read right now (the cache may stand in)."""


def package_key(name: str) -> str:
    """A package name as PyPI normalises it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True, kw_only=True)
class AdvisoryDecision:
    """A decision about one advisory (any of `ids`) in one package, at `version` or any."""

    package: str
    ids: frozenset[str]
    decision: TriageDecision
    version: str | None = None

    def applies(self, finding: Finding) -> bool:
        """True for a dependency finding of this package, version and advisory (or alias)."""
        location = finding.location
        if finding.kind is not FindingKind.DEPENDENCY or not location.package:
            return False
        if package_key(location.package) != package_key(self.package):
            return False
        if self.version is not None and location.version != self.version:
            return False
        return bool(self.ids & {i.upper() for i in finding.ids})


@dataclass(frozen=True)
class Decisions(Mapping[str, TriageDecision]):
    """Decisions by fingerprint, by advisory, and how each source of them stood."""

    by_fingerprint: Mapping[str, TriageDecision] = field(default_factory=dict)
    by_advisory: tuple[AdvisoryDecision, ...] = ()
    notes: tuple[DecisionsNote, ...] = ()

    def __getitem__(self, fingerprint: str) -> TriageDecision:
        return self.by_fingerprint[fingerprint]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_fingerprint)

    def __len__(self) -> int:
        return len(self.by_fingerprint) + len(self.by_advisory)

    def for_finding(self, finding: Finding) -> TriageDecision | None:
        """The decision about `finding`: by its fingerprint, else by package and advisory."""
        found = self.by_fingerprint.get(finding.fingerprint)
        if found is not None:
            return found
        return next((a.decision for a in self.by_advisory if a.applies(finding)), None)

    @classmethod
    def combine(cls, parts: Iterable[Decisions]) -> Decisions:
        """One set from several sources; for a fingerprint, the first source wins."""
        by_fingerprint: dict[str, TriageDecision] = {}
        by_advisory: list[AdvisoryDecision] = []
        notes: list[DecisionsNote] = []
        for part in parts:
            for fingerprint, decision in part.by_fingerprint.items():
                by_fingerprint.setdefault(fingerprint, decision)
            by_advisory.extend(part.by_advisory)
            notes.extend(part.notes)
        return cls(by_fingerprint, tuple(by_advisory), tuple(notes))


class DecisionSource(Protocol):
    """Somewhere triage decisions come from: the register (HTTP or database), a VEX file."""

    @property
    def label(self) -> str:
        """How reports name the source, e.g. `register https://risk.example` (no secrets)."""
        ...

    @property
    def kind(self) -> str:
        """`register` or `vex`: which switch of the policy's `decisions:` governs it."""
        ...

    def decisions(self, project: str) -> Decisions:
        """The project's decisions; `DecisionsUnavailableError` when unreachable right now."""
        ...
