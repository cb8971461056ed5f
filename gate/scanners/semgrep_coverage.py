"""semgrep's coverage: what it says it scanned, next to the files in scope.

semgrep's JSON lists `paths.scanned`, and with `--verbose` `paths.skipped` (each with a
reason: over the size limit, too many matches, a parse failure, ignored...), and `errors`
entries that name one file (a per-file time-out, out of memory, a syntax error). Every file
in scope that semgrep did not scan completely is a `riskgate-file-not-scanned` finding, so a
gate never passes what it never looked at. A fake or broken semgrep that prints valid, empty
JSON therefore leaves every file in scope unscanned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.fingerprint import code_fingerprint
from gate.models import Coverage, Finding, FindingKind, Location, PathNote, Severity
from gate.scanners.scope import Scope

NOT_SCANNED_RULE = "riskgate-file-not-scanned"
NOT_SCANNED_SAMPLE = 1000
_TITLE_LIMIT = 200
_SKIP_REASONS = {
    "exceeded_size_limit": "larger than semgrep's size limit (scanners.semgrep.max_target_bytes)",
    "too_many_matches": "too many matches: semgrep dropped the file's results",
    "analysis_failed_parser_or_internal_error": "semgrep could not parse it or failed on it",
    "semgrepignore_patterns_match": "semgrep ignored it (a .semgrepignore pattern)",
    "cli_include_flags_do_not_match": "semgrep left it out (--include)",
    "cli_exclude_flags_match": "semgrep left it out (--exclude)",
    "gitignore_patterns_match": "semgrep ignored it (.gitignore)",
    "minified": "semgrep took it for a minified file",
    "binary": "semgrep took it for a binary file",
    "timeout": "semgrep timed out on it",
}
_IGNORED = frozenset(
    {
        "semgrepignore_patterns_match",
        "cli_include_flags_do_not_match",
        "cli_exclude_flags_match",
        "gitignore_patterns_match",
        "dotfile",
        "irrelevant_rule",
        "nonexistent_file",
    }
)


@dataclass(frozen=True, kw_only=True)
class ReportedPaths:
    """What a semgrep report says about files: scanned, skipped (with reason), failed on."""

    scanned: frozenset[str] = frozenset()
    skipped: Mapping[str, str] | None = None
    failed: Mapping[str, str] | None = None
    ignored: frozenset[str] = frozenset()

    def problem(self, path: str) -> str | None:
        """Why `path` was not completely scanned, or None when it was."""
        skipped, failed = self.skipped or {}, self.failed or {}
        if path in skipped:
            return skipped[path]
        if path in failed:
            return failed[path]
        if path not in self.scanned:
            return "semgrep did not report scanning it"
        return None


def reported_paths(document: Mapping[str, Any], *, relative: Any) -> ReportedPaths:
    """Read `paths` and per-file `errors` of a semgrep report; `relative(path)` normalises."""
    paths = document.get("paths") if isinstance(document.get("paths"), dict) else {}
    assert isinstance(paths, dict)  # noqa: S101 - narrowed above
    scanned = frozenset(
        relative(p) for p in paths.get("scanned") or () if isinstance(p, str)
    )
    skipped: dict[str, str] = {}
    ignored: set[str] = set()
    for entry in paths.get("skipped") or ():
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            reason = str(entry.get("reason") or "skipped")
            path = relative(entry["path"])
            skipped[path] = _SKIP_REASONS.get(reason, f"skipped: {reason}")
            if reason in _IGNORED:
                ignored.add(path)
    failed: dict[str, str] = {}
    for error in document.get("errors") or ():
        if isinstance(error, dict) and isinstance(error.get("path"), str):
            failed.setdefault(relative(error["path"]), f"semgrep error: {_error_kind(error)}")
    return ReportedPaths(
        scanned=scanned, skipped=skipped, failed=failed, ignored=frozenset(ignored)
    )


def imported_gaps(reported: ReportedPaths) -> list[PathNote]:
    """Files an imported report says were not scanned completely (ignored files left out).

    Without the original scope only the report's own word counts: skipped for a reason other
    than an ignore pattern (size, too many matches, parse failure), or failed on.
    """
    problems = {**(reported.failed or {}), **(reported.skipped or {})}
    return [
        PathNote(path=path, reason=reason)
        for path, reason in sorted(problems.items())
        if path not in reported.ignored
    ]


def judge_coverage(scope: Scope, reported: ReportedPaths) -> Coverage:
    """Compare the files in scope with what semgrep reported."""
    missed = [
        PathNote(path=path, reason=problem)
        for path in scope.files
        if (problem := reported.problem(path)) is not None
    ]
    return Coverage(
        in_scope=len(scope.files),
        scanned=len(scope.files) - len(missed),
        not_scanned=tuple(missed),
        excluded=scope.excluded,
        excluded_total=scope.excluded_total,
    )


def not_scanned_findings(
    notes: Iterable[PathNote], *, scanner: str, root: Path | None
) -> list[Finding]:
    """One `riskgate-file-not-scanned` finding per note.

    The fingerprint covers the file's content: an unscanned file that changes is a new
    finding, so a baseline that could not scan it either never hides what a change adds.
    """
    return [_finding(note, scanner=scanner, root=root) for note in notes]


def _finding(note: PathNote, *, scanner: str, root: Path | None) -> Finding:
    title = f"{note.path} was not scanned by {scanner}: {note.reason}"
    if len(title) > _TITLE_LIMIT:
        title = title[: _TITLE_LIMIT - 1] + "…"
    return Finding(
        kind=FindingKind.CODE,
        scanner=scanner,
        rule_id=NOT_SCANNED_RULE,
        title=title,
        severity=Severity.UNKNOWN,
        fingerprint=code_fingerprint(
            rule_id=NOT_SCANNED_RULE, path=note.path, matched_code=_content_digest(root, note.path)
        ),
        location=Location(path=note.path),
        message=(
            f"{scanner} did not scan this file completely ({note.reason}); its flaws are "
            "unknown. Make the scanner cover it (policy scanners.semgrep.max_target_bytes, "
            "split the file, fix the syntax) or put it out of scope with scope.exclude."
        ),
    )


def _content_digest(root: Path | None, path: str) -> str:
    if root is None:
        return "unread"
    base = root.resolve()
    digest = hashlib.sha256()
    try:
        full = (base / path).resolve()
        if not full.is_relative_to(base) or not full.is_file():
            return "unread"
        with full.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "unread"
    return "sha256:" + digest.hexdigest()


def _error_kind(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    name = kind[0] if isinstance(kind, list) and kind else kind
    text = str(error.get("message") or "").strip().splitlines()
    detail = f" ({text[0][:120]})" if text else ""
    return f"{name or 'error'}{detail}"
