"""SARIF 2.1.0 output, shaped for GitHub code scanning.

One run per scanner. Rules carry descriptions, help (text and Markdown), `helpUri`, tags with
CWE ids (`external/cwe/cwe-89`) and `security-severity`: the highest CVSS score of the rule's
findings when known, else the value of the worst severity in `SECURITY_SEVERITY`. GitHub bands
these as critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9. `unknown` gets high's value
so that a severity nobody established never looks harmless; `info` gets 1.0 (GitHub has no
info band, low is the nearest).

Results: level `error` for block, `warning` for warn, `note` otherwise; paths relative to the
repository (`uriBaseId: %SRCROOT%`); `partialFingerprints["riskgateFingerprint/v1"]` is the
finding's fingerprint; ignored findings carry an external suppression with the policy's reason.
Dependency findings point at their manifest, at the line that declares the package
(`gate.scanners.declarations`), else line 1 (a transitive dependency the manifest never
names). A dependency finding with neither manifest nor path has no location (GitHub then lists
the run's other results but cannot show that one inline).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from gate.models import (
    Action,
    EvaluatedFinding,
    Finding,
    FindingKind,
    ScannerRun,
    ScannerStatus,
    Severity,
    Verdict,
)
from gate.report._common import (
    coverage_notes,
    coverage_summary,
    finding_file,
    fix_text,
    one_line,
    ordered,
    policy_properties,
)
from gate.report._common import scanner_names as _scanner_names
from gate.report.markdown import escape_markdown

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "riskgateFingerprint/v1"
SECURITY_SEVERITY = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.UNKNOWN: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 2.0,
    Severity.INFO: 1.0,
}
TOOL_URIS = {
    "pip-audit": "https://github.com/pypa/pip-audit",
    "semgrep": "https://semgrep.dev",
    "riskgate": "https://github.com/riskgate/riskgate",
}
_LEVEL = {Action.BLOCK: "error", Action.WARN: "warning"}
_CWE_NUMBER = re.compile(r"CWE[-_ ]?0*(\d+)", re.IGNORECASE)
_MAX_TAGS = 20  # GitHub keeps at most 20 tags per rule
_ABSOLUTE_URL = re.compile(r"^https?://\S+$")
MAX_RESULTS_PER_RUN = 25_000  # GitHub rejects a run with more results
MAX_RUNS = 20  # GitHub rejects a file with more runs
OMITTED_KEY = "riskgate/omittedResults"
FIXED_ACTION = "fixed"
_Item = EvaluatedFinding | Finding  # a current finding, or one fixed since the baseline


def render_sarif(verdict: Verdict, *, absent: bool = True) -> str:
    """The verdict as a SARIF 2.1.0 log (JSON text); see `sarif_document`."""
    return json.dumps(sarif_document(verdict, absent=absent), indent=2, ensure_ascii=False)


def sarif_document(
    verdict: Verdict,
    *,
    absent: bool = True,
    max_results: int = MAX_RESULTS_PER_RUN,
    max_runs: int = MAX_RUNS,
) -> dict[str, Any]:
    """The verdict as a SARIF 2.1.0 log (a JSON-ready dict).

    One run per scanner, split into runs of at most `max_results` results (GitHub's limit);
    at most `max_runs` runs, the results beyond them counted in the last run. With `absent`,
    a diff-aware run also lists the baseline's findings it no longer has (`absent`).
    """
    items = _items_by_scanner(verdict, absent=absent)
    names = _scanner_names(verdict) or ["riskgate"]
    names += [name for name in items if name not in names]
    scanner_runs = {run.name: run for run in verdict.scanners}
    runs: list[dict[str, Any]] = []
    for name in names:
        mine = items.get(name, [])
        parts = [mine[i : i + max_results] for i in range(0, len(mine), max_results)] or [[]]
        runs += [
            _run(verdict, name=name, items=part, scanner_run=scanner_runs.get(name),
                 part=number, parts=len(parts))
            for number, part in enumerate(parts, start=1)
        ]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": _within_run_limit(runs, max_runs)}


def _items_by_scanner(verdict: Verdict, *, absent: bool) -> dict[str, list[_Item]]:
    """Each scanner's results in report order, then the findings fixed since the baseline."""
    by_scanner: dict[str, list[_Item]] = {}
    for item in ordered(verdict.findings):
        by_scanner.setdefault(item.finding.scanner, []).append(item)
    if absent and verdict.baseline_ref:
        for finding in verdict.fixed:
            by_scanner.setdefault(finding.scanner, []).append(finding)
    return by_scanner


def _within_run_limit(runs: list[dict[str, Any]], max_runs: int) -> list[dict[str, Any]]:
    """At most `max_runs` runs; the results of the others are counted in the last one kept."""
    if len(runs) <= max_runs:
        return runs
    kept, dropped = runs[:max_runs], runs[max_runs:]
    omitted = sum(len(run["results"]) for run in dropped)
    last = kept[-1]
    last.setdefault("properties", {})[OMITTED_KEY] = omitted
    text = (f"{omitted} more results left out: SARIF for GitHub holds at most {max_runs} runs "
            "of at most 25,000 results; the JSON report has every finding")
    invocations = last.setdefault("invocations", [{"executionSuccessful": True}])
    notifications = invocations[0].setdefault("toolExecutionNotifications", [])
    notifications.append({"level": "warning", "message": {"text": text}})
    return kept


def _run(
    verdict: Verdict,
    *,
    name: str,
    items: list[_Item],
    scanner_run: ScannerRun | None,
    part: int,
    parts: int,
) -> dict[str, Any]:
    by_rule: dict[str, list[Finding]] = {}
    for item in items:
        finding = _finding_of(item)
        by_rule.setdefault(finding.rule_id, []).append(finding)
    rule_index = {rule_id: index for index, rule_id in enumerate(by_rule)}
    driver: dict[str, Any] = {"name": name}
    if scanner_run and scanner_run.version:
        driver["version"] = scanner_run.version
    if name in TOOL_URIS:
        driver["informationUri"] = TOOL_URIS[name]
    driver["rules"] = [_rule(rule_id, findings) for rule_id, findings in by_rule.items()]
    run: dict[str, Any] = {"tool": {"driver": driver}}
    properties = policy_properties(verdict)
    if parts > 1:
        # GitHub takes one run per tool and category: each further part needs its own id.
        properties = {**properties, "riskgate/part": f"{part} of {parts}"}
        if part > 1:
            run["automationDetails"] = {"id": f"riskgate/{name}/part-{part}/"}
    if properties:
        run["properties"] = properties
    if scanner_run and part == 1:
        run["invocations"] = [_invocation(scanner_run)]
    if part == 1:
        _decision_notifications(run, verdict)
    run["results"] = [
        _result(item, rule_index=rule_index[item.finding.rule_id], verdict=verdict)
        if isinstance(item, EvaluatedFinding)
        else _absent_result(item, rule_index=rule_index[item.rule_id], verdict=verdict)
        for item in items
    ]
    return run


def _finding_of(item: _Item) -> Finding:
    return item.finding if isinstance(item, EvaluatedFinding) else item


def _invocation(scanner_run: ScannerRun) -> dict[str, Any]:
    invocation: dict[str, Any] = {
        "executionSuccessful": scanner_run.status is not ScannerStatus.FAILED,
    }
    notes = [scanner_run.error] if scanner_run.error else []
    if scanner_run.status is ScannerStatus.SKIPPED and not notes:
        notes = ["skipped"]
    level = "error" if scanner_run.status is ScannerStatus.FAILED else "note"
    notifications = [{"level": level, "message": {"text": note}} for note in notes]
    coverage = scanner_run.coverage
    if coverage is not None:
        invocation["properties"] = {"coverage": coverage.model_dump(mode="json")}
        summary = coverage_summary(scanner_run) or ""
        notifications.append({"level": "note", "message": {"text": summary}})
        notifications += [
            {"level": "warning", "message": {"text": note}} for note in coverage_notes(scanner_run)
        ]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    first = findings[0]
    rule: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": one_line(first.title, limit=1000) or rule_id},
        "fullDescription": {"text": (first.message or first.title or rule_id)[:4000]},
        "help": {"text": _help_text(first), "markdown": _help_markdown(first)},
    }
    if first.help_url and _ABSOLUTE_URL.match(first.help_url):
        rule["helpUri"] = first.help_url
    rule["properties"] = {
        "security-severity": f"{_security_severity(findings):.1f}",
        "tags": _tags(first),
    }
    return rule


def security_severity(finding: Finding) -> float:
    """GitHub's `security-severity` of one finding: its CVSS score, else its severity's value."""
    if finding.cvss_score is not None:
        return finding.cvss_score
    return SECURITY_SEVERITY[finding.severity]


def _security_severity(findings: list[Finding]) -> float:
    return max(security_severity(finding) for finding in findings)


def cwe_numbers(finding: Finding) -> list[str]:
    """CWE numbers of a finding (`CWE-89: SQL...` and `cwe-089` both give `89`)."""
    numbers = []
    for cwe in finding.cwe:
        match = _CWE_NUMBER.search(cwe)
        if match and match.group(1) not in numbers:
            numbers.append(match.group(1))
    return numbers


def _tags(finding: Finding) -> list[str]:
    tags = ["security", finding.kind.value]
    for number in cwe_numbers(finding):
        tags += [f"external/cwe/cwe-{number}", f"CWE-{number}"]
    tags += [f"owasp/{one_line(item, limit=80)}" for item in finding.owasp]
    return list(dict.fromkeys(tags))[:_MAX_TAGS]


def _help_facts(finding: Finding) -> list[tuple[str, str]]:
    facts = [("Severity", finding.severity.value)]
    if finding.cvss_score is not None:
        facts.append(("CVSS", f"{finding.cvss_score:.1f} {finding.cvss_vector or ''}".strip()))
    if finding.location.package:
        facts.append(("Package", finding.location.display()))
    if finding.fix_versions:
        facts.append(("Fix", fix_text(finding)))
    if finding.aliases:
        facts.append(("Aliases", ", ".join(finding.aliases)))
    if finding.cwe:
        facts.append(("CWE", ", ".join(finding.cwe)))
    if finding.known_exploited:
        due = f" (CISA due date {finding.kev_due_date})" if finding.kev_due_date else ""
        facts.append(("Known exploited", "yes, in the CISA KEV catalog" + due))
    if finding.help_url:
        facts.append(("More information", finding.help_url))
    return facts


def _help_text(finding: Finding) -> str:
    lines = [finding.title, ""] + [f"{key}: {value}" for key, value in _help_facts(finding)]
    return "\n".join(lines)[:10_000]


def _help_markdown(finding: Finding) -> str:
    lines = [f"**{escape_markdown(finding.title, limit=1000)}**", ""]
    lines += [
        f"- {key}: {escape_markdown(value, limit=1000)}" for key, value in _help_facts(finding)
    ]
    return "\n".join(lines)


def _result(item: EvaluatedFinding, *, rule_index: int, verdict: Verdict) -> dict[str, Any]:
    finding = item.finding
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL.get(item.action, "note"),
        "message": {"text": _message(finding)},
        "locations": _locations(finding, verdict=verdict),
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": _result_properties(item),
    }
    if not result["locations"]:
        del result["locations"]
    if item.action is Action.IGNORE:
        result["suppressions"] = [_suppression(item)]
    if verdict.baseline_ref:
        result["baselineState"] = "unchanged" if _in_baseline(item) else "new"
    return result


def _in_baseline(item: EvaluatedFinding) -> bool:
    """Whether the baseline had it (verdicts from before `in_baseline`: only `existing` did)."""
    return item.action is Action.EXISTING if item.in_baseline is None else item.in_baseline


def _absent_result(finding: Finding, *, rule_index: int, verdict: Verdict) -> dict[str, Any]:
    """A finding of the baseline this run no longer has: `baselineState: absent`."""
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": "note",
        "message": {"text": f"Fixed since {verdict.baseline_ref}: {_message(finding)}"},
        "locations": _locations(finding, verdict=verdict),
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "baselineState": "absent",
        "properties": {"action": FIXED_ACTION, "severity": finding.severity.value,
                       "kind": finding.kind.value},
    }
    if not result["locations"]:
        del result["locations"]
    return result


def _suppression(item: EvaluatedFinding) -> dict[str, Any]:
    """An external suppression: the policy's ignore, or a triage decision with its details."""
    suppression: dict[str, Any] = {"kind": "external", "justification": item.reason}
    if item.triage is not None:
        suppression["status"] = "accepted"
        suppression["properties"] = item.triage.model_dump(mode="json", exclude_none=True)
    return suppression


def _decision_notifications(run: dict[str, Any], verdict: Verdict) -> None:
    """Where triage decisions came from (or that the register was unreachable), per run."""
    if not verdict.decision_sources:
        return
    invocations = run.setdefault("invocations", [{"executionSuccessful": True}])
    notifications = invocations[0].setdefault("toolExecutionNotifications", [])
    for note in verdict.decision_sources:
        level = "note" if note.status.value == "live" else "warning"
        notifications.append({"level": level, "message": {"text": note.describe()}})


def _message(finding: Finding) -> str:
    text = finding.message or finding.title or finding.rule_id
    if finding.kind is FindingKind.DEPENDENCY and finding.location.package:
        text = f"{finding.location.display()}: {text}"
    fix = fix_text(finding)
    return f"{text} ({fix})" if fix else text


def _result_properties(item: EvaluatedFinding) -> dict[str, Any]:
    finding = item.finding
    properties: dict[str, Any] = {
        "action": item.action.value,
        "reason": item.reason,
        "kev": finding.known_exploited,
        "severity": finding.severity.value,
        "kind": finding.kind.value,
    }
    optional = {
        "policy_rule": item.policy_rule,
        "cvss_score": finding.cvss_score,
        "package": finding.location.package,
        "version": finding.location.version,
        "fix_versions": list(finding.fix_versions) or None,
        "remediation_target": finding.remediation_target,
        "aliases": list(finding.aliases) or None,
    }
    properties.update({key: value for key, value in optional.items() if value is not None})
    return properties


def _locations(finding: Finding, *, verdict: Verdict) -> list[dict[str, Any]]:
    path = finding_file(finding, source_root=verdict.source_root)
    if not path:
        return []
    location = artifact_location(path, target=verdict.target)
    physical: dict[str, Any] = {"artifactLocation": location}
    region = _region(finding)
    if region:
        physical["region"] = region
    return [{"physicalLocation": physical}]


def artifact_location(path: str, *, target: str | None) -> dict[str, str]:
    """A relative `%SRCROOT%` URI for a path; absolute paths outside `target` stay `file://`."""
    posix = path.replace("\\", "/")
    pure = PurePosixPath(posix)
    if pure.is_absolute():
        base = PurePosixPath(target.replace("\\", "/")) if target else None
        if base is None or not base.is_absolute() or not pure.is_relative_to(base):
            return {"uri": pure.as_uri()}
        posix = pure.relative_to(base).as_posix()
    while posix.startswith("./"):
        posix = posix[2:]
    return {"uri": quote(posix, safe="/"), "uriBaseId": "%SRCROOT%"}


def _region(finding: Finding) -> dict[str, Any] | None:
    start = finding.location.start_line
    if start is None or start < 1:
        if finding.kind is not FindingKind.DEPENDENCY:
            return None
        start = 1
    region: dict[str, Any] = {"startLine": start}
    end = finding.location.end_line
    region["endLine"] = end if end is not None and end >= start else start
    if finding.snippet:
        region["snippet"] = {"text": finding.snippet}
    return region


@dataclass(frozen=True)
class SarifRenderer:
    """The `sarif` format."""

    def render(self, verdict: Verdict) -> str:
        """Render the verdict as SARIF 2.1.0."""
        return render_sarif(verdict)

