"""Helpers every report format shares: ordering, one-line text, file and fix descriptions.

Ordering puts the findings a reader must act on first: by action (block, warn, existing,
ignore, pass), then by severity. `unknown` sorts between high and medium: a severity nobody
could establish must never look harmless.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from gate.models import Action, EvaluatedFinding, Finding, ScannerRun, Severity, Verdict
from gate.remediation import verdict_plan

ACTION_ORDER = (Action.BLOCK, Action.WARN, Action.EXISTING, Action.IGNORE, Action.PASS)
SEVERITY_ORDER = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.UNKNOWN,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def sort_key(item: EvaluatedFinding) -> tuple[int, bool, int, str, str]:
    """Most urgent first: action, known-exploited, severity, then a stable id/location."""
    finding = item.finding
    return (
        ACTION_ORDER.index(item.action),
        not finding.known_exploited,
        SEVERITY_ORDER.index(finding.severity),
        finding.rule_id,
        finding.location.display(),
    )


def ordered(items: Iterable[EvaluatedFinding]) -> list[EvaluatedFinding]:
    """The findings sorted most urgent first."""
    return sorted(items, key=sort_key)


def policy_properties(verdict: Verdict) -> dict[str, str]:
    """Which policy applied, for machine formats: `policy` (file or bundled:…), `policyDigest`."""
    properties = {"policy": verdict.policy_source, "policyDigest": _sha256(verdict.policy_digest)}
    return {key: value for key, value in properties.items() if value}


def policy_line(verdict: Verdict, *, digest_chars: int = 64) -> str | None:
    """`Policy: riskgate.yml (sha256:…)` for human formats; None when the verdict does not say."""
    if not verdict.policy_source and not verdict.policy_digest:
        return None
    digest = _sha256(verdict.policy_digest)
    shown = digest[: len("sha256:") + digest_chars] if digest else None
    source = verdict.policy_source or verdict.policy_name or "unnamed policy"
    return f"Policy: {source}" + (f" ({shown})" if shown else "")


def _sha256(digest: str | None) -> str | None:
    if not digest:
        return None
    return digest if digest.startswith("sha256:") else f"sha256:{digest}"


def id_with_cve(finding: Finding) -> str:
    """The rule or advisory id, with its CVE alias: people search advisories by CVE."""
    cve = next((alias for alias in finding.aliases if alias.startswith("CVE-")), None)
    return f"{finding.rule_id} ({cve})" if cve and cve != finding.rule_id else finding.rule_id


def one_line(text: str, *, limit: int = 300) -> str:
    """Collapse whitespace (newlines included), drop control characters, shorten to `limit`."""
    flat = _WHITESPACE.sub(" ", _CONTROL.sub("", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def finding_file(finding: Finding, *, source_root: str | None = None) -> str | None:
    """The file a finding points at: its path, or the manifest of a dependency.

    With `source_root` (the scanned directory relative to the repository's top) a relative
    path is made relative to the repository, as GitHub's annotations and code scanning expect.
    """
    path = finding.location.path or finding.location.manifest
    if not path or not source_root or PurePosixPath(path.replace("\\", "/")).is_absolute():
        return path
    return f"{source_root.strip('/')}/{path}"


def fix_text(finding: Finding) -> str:
    """`upgrade to 3006.2` (the package's remediation target), else its fixes, else empty.

    The target is the smallest version above the installed one that fixes every advisory of
    the package; fix versions shown are only those above the installed version.
    """
    if finding.remediation_target:
        return f"upgrade to {finding.remediation_target}"
    if finding.fix_versions:
        return "upgrade to " + ", ".join(finding.fix_versions)
    return ""


def plan_lines(verdict: Verdict, *, limit: int = 10) -> list[str]:
    """The remediation plan as sentences: upgrades by risk removed, then what has no fix."""
    currency = verdict.context.money.currency if verdict.context.money else None
    return verdict_plan(verdict).lines(currency, limit=limit)


def scanner_names(verdict: Verdict) -> list[str]:
    """Every scanner of the run: those that ran, then any that only appear in findings."""
    names = [run.name for run in verdict.scanners]
    for item in verdict.findings:
        if item.finding.scanner not in names:
            names.append(item.finding.scanner)
    return names


def decision_label(verdict: Verdict) -> str:
    """PASS, WARN, BLOCK or ERROR."""
    return verdict.decision.value.upper()


COVERAGE_LIST_LIMIT = 20


def coverage_summary(run: ScannerRun) -> str | None:
    """`semgrep scanned 41 of 43 files in scope; 2 not scanned; 3 paths excluded`, or None."""
    coverage = run.coverage
    if coverage is None:
        return None
    text = f"{run.name} scanned {coverage.scanned} of {coverage.in_scope} files in scope"
    text += f"; {len(coverage.not_scanned)} not scanned"
    return text + f"; {coverage.excluded_total} paths excluded from scope"


def coverage_notes(run: ScannerRun, *, limit: int = COVERAGE_LIST_LIMIT) -> list[str]:
    """One line per path not scanned, then per path excluded (bounded), each with its reason."""
    coverage = run.coverage
    if coverage is None:
        return []
    lines = [f"not scanned: {note.path} ({note.reason})" for note in coverage.not_scanned[:limit]]
    if len(coverage.not_scanned) > limit:
        lines.append(f"not scanned: {len(coverage.not_scanned) - limit} more (see the findings)")
    lines += [f"excluded: {note.path} ({note.reason})" for note in coverage.excluded[:limit]]
    if coverage.excluded_total > min(limit, len(coverage.excluded)):
        more = coverage.excluded_total - min(limit, len(coverage.excluded))
        lines.append(f"excluded: {more} more (the JSON report lists up to "
                     f"{len(coverage.excluded)})")
    return lines


_ADVISORY_KINDS = {
    "osv-api": "looked up at",
    "synced": "synced copy",
    "offline": "offline data",
}


def advisories_summary(verdict: Verdict) -> str | None:
    """Where the advisory records came from and how old they are, in one line (or None)."""
    data = verdict.advisories
    if data is None or data.kind not in _ADVISORY_KINDS:
        return None
    text = f"{_ADVISORY_KINDS[data.kind]} {data.location or ''}".rstrip()
    if data.age_days is not None and data.kind != "osv-api":
        text += f", {data.age_days:.1f} days old" + (" (stale)" if data.stale else "")
    if data.kind == "osv-api":
        text += f", {data.records} records for {data.looked_up} ids ({data.from_cache} cached)"
    if data.unresolved:
        text += f"; {len(data.unresolved)} not fetched"
    return text
