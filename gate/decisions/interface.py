"""The seam for decisions from outside the policy: a `DecisionSource` and what it returns.

A source answers `decisions(project)` with `Decisions`: a mapping fingerprint → decision (the
register's entries), plus decisions keyed by package and advisory id (VEX statements name a
package and a vulnerability, not our fingerprint). `evaluate()` receives them as data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gate.fingerprint import legacy_dependency_fingerprint, package_key
from gate.identity import CodeIdentity, match_edits
from gate.models import DecisionsNote, Finding, FindingKind, TriageDecision


class DecisionsUnavailableError(Exception):
    """The source could not be reached or read right now (the cache may stand in)."""


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
        """The decision about `finding`: by its fingerprint (for a dependency, also the plain
        package-and-advisory fingerprint a register recorded before manifests and versions
        counted), else by package and advisory."""
        found = self.by_fingerprint.get(finding.fingerprint)
        if found is None and finding.kind is FindingKind.DEPENDENCY and finding.location.package:
            legacy = legacy_dependency_fingerprint(
                package=finding.location.package, advisory_ids=list(finding.ids))
            found = self.by_fingerprint.get(legacy)
        if found is not None:
            return found
        return next((a.decision for a in self.by_advisory if a.applies(finding)), None)

    def resolve(self, findings: Sequence[Finding]) -> dict[str, TriageDecision]:
        """Fingerprint → decision for this run's findings: by fingerprint or advisory, then a
        code finding whose hash is new takes the decision of code it is an edit of (same rule,
        file and scope, similar code) when that code is gone from the run."""
        resolved: dict[str, TriageDecision] = {}
        unresolved: list[CodeIdentity] = []
        for finding in findings:
            decision = self.for_finding(finding)
            if decision is not None:
                resolved[finding.fingerprint] = decision
            elif (identity := CodeIdentity.of(finding)) is not None:
                unresolved.append(identity)
        if not unresolved:
            return resolved
        present = {finding.fingerprint for finding in findings}
        anchors = [
            CodeIdentity.of_anchor(fingerprint, decision.code)
            for fingerprint, decision in self.by_fingerprint.items()
            if decision.code is not None and fingerprint not in present
        ]
        for fingerprint, (old, ratio) in match_edits(unresolved, anchors).items():
            decision = self.by_fingerprint[old]
            note = f" (code edited since the decision, {round(ratio * 100)} % alike)"
            resolved[fingerprint] = decision.model_copy(update={"reason": decision.reason + note})
        return resolved

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

    @property
    def credential(self) -> str:
        """The secret that reads the source (a token, a database URL; "" for none): its cached
        answers are signed with it (`gate.decisions.cache`)."""
        ...

    def decisions(self, project: str) -> Decisions:
        """The project's decisions; `DecisionsUnavailableError` when unreachable right now."""
        ...
