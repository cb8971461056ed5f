"""Diff-aware mode: the fingerprints a baseline git ref has, at the cost of the diff.

A finding is `existing` when its fingerprint is among what the same scanners find at the
baseline. Both scanners answer per input: semgrep per file (its rules see one file at a time)
and pip-audit per manifest. A file or manifest whose content is the same at the baseline
therefore gives the baseline exactly the findings it gives now, and only what changed has to
be scanned in the baseline checkout:

- code: the baseline's versions of files that differ from the working tree; findings of the
  current scan in files that did not change are taken as the baseline's. A changed
  `.semgrepignore` changes what is in scope everywhere, so then the whole tree is scanned.
- dependencies: the baseline's manifests that differ, were deleted, or pull in other files
  (`-r`, `-c`); the current findings of every other baseline manifest are taken as its own.
  A dependency finding (one per manifest, version and advisory) whose package, version and
  advisory the baseline had in any manifest is existing too: moving a pin is no new risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from gate.errors import ConfigError, GateError
from gate.fingerprint import dependency_fingerprint
from gate.gitinfo import changed_since, checkout_ref, files_at, resolve_commit
from gate.identity import number_occurrences
from gate.models import Finding, FindingKind
from gate.scanners.declarations import with_declaration_lines
from gate.scanners.interface import Scanner, ScanTarget
from gate.scanners.manifests import Manifest, find_manifests, has_includes
from gate.scanners.project_deps import PROJECT_FILES
from gate.scanners.scope import IGNORE_FILE

CODE_SCANNER = "semgrep"
DEPENDENCY_SCANNER = "pip-audit"


@dataclass(frozen=True, kw_only=True)
class BaselineScan:
    """What the baseline scan found in what changed, and which current findings it shares."""

    found: frozenset[str]
    unchanged_files: frozenset[str]
    unchanged_manifests: frozenset[str]
    scanners: frozenset[str]
    findings: tuple[Finding, ...] = ()  # what `found` fingerprints, as found at the baseline
    found_anywhere: frozenset[str] = frozenset()

    def fingerprints(self, current: Iterable[Finding]) -> frozenset[str]:
        """The baseline's fingerprints: those found in what changed, plus the current
        findings of the scanners that ran in files and manifests that did not change, plus
        dependency findings whose package, version and advisory the baseline had in another
        manifest (a pin moved between files is no new risk)."""
        items = list(current)
        shared = {f.fingerprint for f in items if self._shared(f)}
        moved = {f.fingerprint for f in items if anywhere_key(f) in self.found_anywhere}
        return self.found | shared | moved

    def fixed(self, current: Iterable[Finding]) -> tuple[Finding, ...]:
        """The baseline's findings this run no longer has, once each (a dependency finding
        whose pin moved to another manifest is not gone).

        Only what changed was scanned at the baseline, and a finding of what did not change
        is the current scan's own, so everything fixed is among `findings`.
        """
        items = list(current)
        now = {f.fingerprint for f in items} | {anywhere_key(f) for f in items} - {None}
        gone = {f.fingerprint: f for f in self.findings
                if f.fingerprint not in now and anywhere_key(f) not in now}
        return tuple(gone.values())

    def _shared(self, finding: Finding) -> bool:
        if finding.scanner not in self.scanners:
            return False
        if finding.scanner == DEPENDENCY_SCANNER and finding.kind is FindingKind.DEPENDENCY:
            return finding.location.manifest in self.unchanged_manifests
        if finding.scanner == CODE_SCANNER and finding.kind is not FindingKind.DEPENDENCY:
            return finding.location.path in self.unchanged_files
        return False


EMPTY = BaselineScan(
    found=frozenset(), unchanged_files=frozenset(), unchanged_manifests=frozenset(),
    scanners=frozenset(),
)


def scan_baseline(
    *, ref: str, target: ScanTarget, names: Sequence[str], scanners: dict[str, type[Scanner]]
) -> BaselineScan:
    """Scan, in a temporary checkout of `ref`, only what changed since it.

    A baseline scanner failure is a configuration fault: without a trustworthy baseline
    every finding would count as new, or worse, as existing.
    """
    commit = resolve_commit(target.root, ref)
    if not names:
        return EMPTY
    changed = changed_since(target.root, commit)
    whole_tree = any(Path(path).name == IGNORE_FILE for path in changed)
    unchanged_files = frozenset() if whole_tree else files_at(target.root, commit) - changed
    with checkout_ref(target.root, commit) as old_root:
        if not old_root.is_dir():
            return EMPTY
        old_target = replace(target, root=old_root)
        manifests = _baseline_manifests(old_target, ref) if DEPENDENCY_SCANNER in names else []
        current = {m.display: m for m in _current_manifests(target, names)}
        unchanged_manifests = frozenset(
            m.display for m in manifests
            if _same_audit(m, current.get(m.display), old_root=old_root, unchanged=unchanged_files)
        )
        only = {
            CODE_SCANNER: None if whole_tree else changed,
            DEPENDENCY_SCANNER: frozenset(m.display for m in manifests) - unchanged_manifests,
        }
        found: list[Finding] = []
        for name in names:
            try:
                output = scanners[name]().run(replace(old_target, only=only.get(name)))
            except GateError as exc:
                raise ConfigError(f"--baseline {ref}: {exc}") from exc
            found += with_declaration_lines(number_occurrences(output.findings), root=old_root)
    anywhere = (anywhere_key(f) for f in found)
    return BaselineScan(
        found=frozenset(f.fingerprint for f in found),
        findings=tuple(found),
        found_anywhere=frozenset(key for key in anywhere if key is not None),
        unchanged_files=unchanged_files,
        unchanged_manifests=unchanged_manifests,
        scanners=frozenset(names),
    )


def anywhere_key(finding: Finding) -> str | None:
    """A dependency advisory finding's identity in any manifest (package, version, advisory)."""
    location = finding.location
    if finding.kind is not FindingKind.DEPENDENCY or not location.package:
        return None
    return dependency_fingerprint(package=location.package, manifest="",
                                  advisory_ids=[finding.rule_id, *finding.aliases],
                                  version=location.version)


def _baseline_manifests(old_target: ScanTarget, ref: str) -> list[Manifest]:
    try:
        return find_manifests(old_target)
    except GateError as exc:
        raise ConfigError(f"--baseline {ref}: {exc}") from exc


def _current_manifests(target: ScanTarget, names: Sequence[str]) -> list[Manifest]:
    if DEPENDENCY_SCANNER not in names:
        return []
    try:
        return find_manifests(target)
    except GateError:  # the current scan reports it; nothing of it can be shared
        return []


def _same_audit(
    old: Manifest, new: Manifest | None, *, old_root: Path, unchanged: frozenset[str]
) -> bool:
    """True when auditing `old` at the baseline gives what auditing `new` gave now: the
    current scan audits it under the same name, it pulls in no other file, and it is the
    very same file (outside the tree) or a file of the tree that did not change."""
    if new is None or new.is_project != old.is_project:
        return False
    if old.is_project:
        folder = PurePosixPath(old.display).parent
        present = [(folder / name).as_posix() for name in PROJECT_FILES
                   if (old.path / name).is_file()]
        return all(name in unchanged for name in present)
    if has_includes(old.path):
        return False
    if old.path.resolve() == new.path.resolve():
        return True
    try:
        relative = old.path.resolve().relative_to(old_root.resolve()).as_posix()
    except ValueError:
        return False
    return relative in unchanged
