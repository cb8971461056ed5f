"""JUnit XML: one testsuite per scanner, one testcase per finding, for CI test-report views.

Blocked findings are `<failure>`s. Warnings pass with the warning in `<system-out>`: a warning
does not fail the gate, and `<skipped>` would wrongly tell a reader the check did not run.
Ignored, existing (baseline) and passed findings are plain passed testcases; one a triage
decision unblocked says why in `<system-out>`, and where the decisions came from (or that the
register was unreachable) is a `triage.decisions` property of every suite. A failed scanner
is an `<error>` testcase, a skipped scanner a `<skipped>` one. ElementTree escapes every
string; characters XML 1.0 forbids (most control characters) are removed first so the file
always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from gate.models import Action, EvaluatedFinding, ScannerRun, ScannerStatus, Verdict
from gate.report._common import (
    coverage_notes,
    coverage_summary,
    decision_label,
    fix_text,
    one_line,
    ordered,
    policy_properties,
    scanner_names,
)

_ILLEGAL_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text with the characters XML 1.0 cannot carry removed."""
    return _ILLEGAL_XML.sub("", text)


def render_junit(verdict: Verdict) -> str:
    """The verdict as a JUnit XML document."""
    root = ET.Element("testsuites", name=f"riskgate {decision_label(verdict)}")
    runs = {run.name: run for run in verdict.scanners}
    for name in scanner_names(verdict):
        items = [item for item in ordered(verdict.findings) if item.finding.scanner == name]
        suite = _suite(verdict, name, items, runs.get(name))
        _decision_properties(suite, verdict)
        root.append(suite)
    _set_counts(root, list(root))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _policy_properties(verdict: Verdict) -> ET.Element:
    """Which policy applied (`policy`, `policyDigest`), as suite properties."""
    properties = ET.Element("properties")
    for key, value in policy_properties(verdict).items():
        ET.SubElement(properties, "property", name=key, value=xml_text(value))
    return properties


def _suite(
    verdict: Verdict, name: str, items: list[EvaluatedFinding], run: ScannerRun | None
) -> ET.Element:
    suite = ET.Element("testsuite", name=xml_text(name))
    if run and run.duration_seconds is not None:
        suite.set("time", f"{run.duration_seconds:.3f}")
    properties = _policy_properties(verdict)
    if run and run.coverage is not None:
        properties.extend(_coverage_properties(run))
    if len(properties):
        suite.append(properties)
    if run and run.status is not ScannerStatus.OK:
        suite.append(_scanner_case(run))
    for item in items:
        suite.append(_case(item))
    _set_counts(suite, [suite])
    return suite


def _coverage_properties(run: ScannerRun) -> ET.Element:
    """Coverage as suite properties: counts, then each path not scanned or excluded."""
    properties = ET.Element("properties")
    coverage = run.coverage
    assert coverage is not None  # noqa: S101 - the caller checks
    counts = {
        "coverage.summary": coverage_summary(run) or "",
        "coverage.in_scope": str(coverage.in_scope),
        "coverage.scanned": str(coverage.scanned),
        "coverage.not_scanned": str(len(coverage.not_scanned)),
        "coverage.excluded": str(coverage.excluded_total),
    }
    for key, value in counts.items():
        ET.SubElement(properties, "property", name=key, value=xml_text(value))
    for note in coverage_notes(run):
        ET.SubElement(properties, "property", name="coverage.path", value=xml_text(note))
    return properties


def _scanner_case(run: ScannerRun) -> ET.Element:
    """A failed scanner is an `<error>`; a skipped one a `<skipped>` testcase."""
    case = ET.Element("testcase", name=xml_text(f"{run.name} run"), classname=xml_text(run.name))
    failed = run.status is ScannerStatus.FAILED
    detail = run.error or ("scanner failed" if failed else "scanner skipped")
    message = xml_text(one_line(detail, limit=500))
    if failed:
        ET.SubElement(case, "error", message=message, type="ScannerFailed").text = xml_text(detail)
    else:
        ET.SubElement(case, "skipped", message=message)
    return case


def _case(item: EvaluatedFinding) -> ET.Element:
    finding = item.finding
    case = ET.Element(
        "testcase",
        name=xml_text(one_line(f"{finding.rule_id} {finding.location.display()}", limit=500)),
        classname=xml_text(f"{finding.scanner}.{finding.kind.value}"),
    )
    if item.action is Action.BLOCK:
        failure = ET.SubElement(
            case, "failure", message=xml_text(one_line(finding.title, limit=500)),
            type=finding.severity.value,
        )
        failure.text = xml_text(_details(item))
    elif item.action is Action.WARN:
        ET.SubElement(case, "system-out").text = xml_text("WARNING: " + _details(item))
    elif item.action is Action.IGNORE and item.triage is not None:
        ET.SubElement(case, "system-out").text = xml_text("NOT BLOCKING: " + _details(item))
    return case


def _decision_properties(suite: ET.Element, verdict: Verdict) -> None:
    """Where triage decisions came from, as properties (first child, as JUnit orders it)."""
    if not verdict.decision_sources:
        return
    properties = suite.find("properties")
    if properties is None:
        properties = ET.Element("properties")
        suite.insert(0, properties)
    for note in verdict.decision_sources:
        ET.SubElement(properties, "property", name="triage.decisions",
                      value=xml_text(note.describe()))


def _details(item: EvaluatedFinding) -> str:
    finding = item.finding
    lines = [
        finding.title,
        f"Severity: {finding.severity.value}",
        f"Location: {finding.location.display()}",
        f"Policy: {item.action.value}: {item.reason}",
    ]
    if finding.fix_versions:
        lines.append(f"Fix: {fix_text(finding)}")
    if finding.known_exploited:
        lines.append("Known exploited (CISA KEV)")
    if finding.help_url:
        lines.append(f"More: {finding.help_url}")
    return "\n".join(lines)


def _set_counts(element: ET.Element, suites: list[ET.Element]) -> None:
    cases = [case for suite in suites for case in suite.iter("testcase")]
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    element.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    element.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))


@dataclass(frozen=True)
class JunitRenderer:
    """The `junit` format."""

    def render(self, verdict: Verdict) -> str:
        """Render the verdict as JUnit XML."""
        return render_junit(verdict)
