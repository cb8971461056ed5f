"""JUnit XML parses back, counts failures, and survives hostile and control-character text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gate.models import Action, Decision, ScannerRun, ScannerStatus, Verdict
from gate.report.junit import render_junit, xml_text
from tests.gate.report.verdicts import (
    HOSTILE,
    code_finding,
    evaluated,
    hostile_verdict,
    mixed_verdict,
    scanners,
)


def _suites(xml: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml.encode("utf-8"))  # noqa: S314 - our own output
    assert root.tag == "testsuites"
    return {suite.get("name", ""): suite for suite in root.findall("testsuite")}


def test_blocked_findings_fail_and_others_pass() -> None:
    xml = render_junit(mixed_verdict())
    root = ET.fromstring(xml.encode("utf-8"))  # noqa: S314 - our own output
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "0")
    suites = _suites(xml)
    assert set(suites) == {"semgrep", "pip-audit"}
    semgrep = suites["semgrep"]
    failures = semgrep.findall("testcase/failure")
    assert [f.get("type") for f in failures] == ["high"]
    assert "Policy: block: high severity code finding" in (failures[0].text or "")
    warned = [case for case in suites["pip-audit"] if case.find("system-out") is not None]
    assert len(warned) == 1
    assert (warned[0].findtext("system-out") or "").startswith("WARNING: ReDoS")
    assert suites["pip-audit"].find("testcase/skipped") is None


def test_failed_scanner_is_an_error() -> None:
    xml = render_junit(Verdict(decision=Decision.ERROR, scanners=scanners(failed=True)))
    suites = _suites(xml)
    error = suites["semgrep"].find("testcase/error")
    assert error is not None
    assert error.get("message") == "semgrep: timed out after 60 s"
    assert suites["semgrep"].get("errors") == "1"
    assert suites["pip-audit"].get("tests") == "0"


def test_hostile_text_round_trips_through_the_xml_literally() -> None:
    xml = render_junit(hostile_verdict())
    assert "<script>" not in xml
    cases = [case for suite in _suites(xml).values() for case in suite]
    failure = cases[1].find("failure")
    assert failure is not None
    assert "<script>alert(1)</script>" in (failure.get("message") or "")
    assert "[bold red]markup[/]" in (failure.text or "")


def test_control_characters_are_removed_so_the_xml_parses() -> None:
    title = "bad\x00\x01\x08\x0b\x0c\x1b\x7f\ufffe\ud800 title"
    finding = code_finding(title=title, rule_id="r\x00id", message=HOSTILE)
    verdict = Verdict(decision=Decision.BLOCK, findings=(evaluated(finding, Action.BLOCK),))
    failure = _suites(render_junit(verdict))["semgrep"].find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "bad  title"  # one line: \x0b\x0c became a space
    assert (failure.text or "").startswith("bad\x7f title\n")  # DEL is legal XML 1.0
    assert xml_text("ok\ttab\nline") == "ok\ttab\nline"


def test_skipped_scanner_is_a_skipped_testcase() -> None:
    run = ScannerRun(name="semgrep", status=ScannerStatus.SKIPPED, error="not selected")
    suites = _suites(render_junit(Verdict(decision=Decision.PASS, scanners=(run,))))
    skipped = suites["semgrep"].find("testcase/skipped")
    assert skipped is not None and skipped.get("message") == "not selected"
    assert suites["semgrep"].get("skipped") == "1"
