"""SARIF import: third-party logs (CodeQL, Bandit, Trivy-like) and a round trip of our own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ReportFormatError
from gate.fingerprint import code_fingerprint, dependency_fingerprint
from gate.models import FindingKind, Severity
from gate.report.sarif import render_sarif
from gate.scanners.sarif import parse_sarif, severity_from_score
from tests.conftest import FIXTURES
from tests.gate.report.verdicts import hostile_verdict, mixed_verdict

SARIF = FIXTURES / "sarif"
PROJECT = SARIF / "project"


def _log(*results: dict[str, Any], rules: list[dict[str, Any]] | None = None,
         **run: Any) -> bytes:
    driver = {"name": "tool", "rules": rules or []}
    return json.dumps({"version": "2.1.0", "runs": [
        {"tool": {"driver": driver}, "results": list(results), **run}
    ]}).encode()


def _result(**overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": "r1",
        "message": {"text": "found it"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "app/views.py"},
            "region": {"startLine": 19, "snippet": {"text": "shell=True"}},
        }}],
    }
    result.update(overrides)
    return result


def test_codeql_log_maps_rules_severity_cwe_and_locations() -> None:
    findings = parse_sarif((SARIF / "codeql-python.sarif").read_bytes(), root=PROJECT,
                           source="codeql.sarif")
    assert [f.rule_id for f in findings] == [
        "py/sql-injection", "py/command-line-injection", "py/unused-import"]
    sqli, command, unused = findings
    assert sqli.scanner == "CodeQL"
    assert sqli.kind is FindingKind.CODE
    assert sqli.title == "SQL query built from user-controlled sources"
    assert sqli.message == "This SQL query depends on a [user-provided value](1)."
    assert sqli.severity is Severity.HIGH  # security-severity 8.8
    assert command.severity is Severity.CRITICAL  # 9.8
    assert unused.severity is Severity.LOW  # no security-severity: default level note
    assert sqli.cwe == ("CWE-89",)
    assert command.cwe == ("CWE-78", "CWE-88")
    assert sqli.confidence == "high"
    assert (sqli.location.path, sqli.location.start_line, sqli.location.end_line) == (
        "app/views.py", 12, 14)
    assert command.location.path == "app/views.py"  # from the artifact index


def test_missing_snippet_is_read_from_the_file_for_the_fingerprint() -> None:
    sqli, command, unused = parse_sarif((SARIF / "codeql-python.sarif").read_bytes(),
                                        root=PROJECT)
    assert sqli.snippet is not None and "SELECT * FROM users" in sqli.snippet
    assert sqli.fingerprint == code_fingerprint(
        rule_id="py/sql-injection", path="app/views.py", matched_code=sqli.snippet)
    assert command.snippet is not None and "shell=True" in command.snippet
    # the file is gone: the tool's partial fingerprint stands in for the code
    assert unused.snippet is None
    assert unused.fingerprint == code_fingerprint(
        rule_id="py/unused-import", path="app/gone.py", matched_code="ffee00112233aabb:1")


def test_bandit_log_uses_its_severity_property_and_snippets() -> None:
    shell, sql = parse_sarif((SARIF / "bandit.sarif").read_bytes(), root=PROJECT)
    assert (shell.scanner, shell.rule_id, shell.severity) == ("Bandit", "B602", Severity.HIGH)
    assert sql.severity is Severity.MEDIUM
    assert sql.confidence == "low"
    assert shell.title == "subprocess call with shell=True identified, security issue."
    assert shell.help_url is not None
    assert shell.help_url.endswith("b602_subprocess_popen_with_shell_equals_true.html")
    assert sql.location.path == "app/views.py"  # ./ removed
    assert sql.cwe == ("CWE-89",)
    assert shell.fingerprint == code_fingerprint(
        rule_id="B602", path="app/views.py",
        matched_code='return subprocess.check_output("ping -c 1 " + host, shell=True)')


def test_fingerprint_survives_moved_lines_and_reindentation() -> None:
    first = parse_sarif(_log(_result()), root=PROJECT)[0]
    moved = _result(locations=[{"physicalLocation": {
        "artifactLocation": {"uri": "app/views.py"},
        "region": {"startLine": 40, "snippet": {"text": "  shell = True  "}},
    }}])
    assert parse_sarif(_log(moved), root=PROJECT)[0].fingerprint == first.fingerprint


def test_our_own_sarif_round_trips() -> None:
    verdict = mixed_verdict()
    findings = parse_sarif(render_sarif(verdict).encode(), root=PROJECT, source="gate.sarif")
    expected = {(i.finding.scanner, i.finding.rule_id, i.finding.fingerprint,
                 i.finding.severity, i.finding.kind) for i in verdict.findings}
    assert {(f.scanner, f.rule_id, f.fingerprint, f.severity, f.kind) for f in findings} == expected
    requests = next(f for f in findings if f.rule_id == "GHSA-h5c8-rqwp-cp95")
    assert requests.location.package == "requests"
    assert requests.location.manifest == "requirements.txt"
    assert requests.cvss_score == 9.8
    assert requests.fix_versions == ("2.11.3",)
    assert requests.aliases == ("CVE-2023-32681",)
    assert requests.known_exploited is True
    sqli = next(f for f in findings if f.rule_id == "python.sqli.string-concat")
    assert (sqli.location.path, sqli.location.start_line) == ("app/db.py", 12)
    assert sqli.cwe == ("CWE-89",)


def test_hostile_paths_round_trip_through_uri_escaping() -> None:
    verdict = hostile_verdict()
    findings = parse_sarif(render_sarif(verdict).encode(), root=PROJECT)
    assert sorted(f.location.path or "" for f in findings) == sorted(
        i.finding.location.path or "" for i in verdict.findings)


def test_advisory_rule_ids_are_dependencies_with_a_dependency_fingerprint() -> None:
    trivy = _result(
        ruleId="CVE-2024-22195", level="warning",
        message={"text": "Package: jinja2\nInstalled Version: 3.1.2\nVulnerability CVE-2024-22195"
                         "\nSeverity: MEDIUM\nFixed Version: 3.1.3"},
        locations=[{"physicalLocation": {"artifactLocation": {"uri": "requirements.txt"},
                                         "region": {"startLine": 4}}}],
    )
    rules = [{"id": "CVE-2024-22195",
              "shortDescription": {"text": "jinja2: HTML attribute injection"},
              "properties": {"security-severity": "5.4", "tags": ["vulnerability", "security"]}}]
    finding = parse_sarif(_log(trivy, rules=rules), root=PROJECT)[0]
    assert finding.kind is FindingKind.DEPENDENCY
    assert finding.severity is Severity.MEDIUM
    assert (finding.location.package, finding.location.version) == ("jinja2", "3.1.2")
    assert finding.location.manifest == "requirements.txt"
    assert finding.fingerprint == dependency_fingerprint(
        package="jinja2", advisory_ids=["CVE-2024-22195"])


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"level": "error"}, Severity.HIGH),
        ({"level": "warning"}, Severity.MEDIUM),
        ({"level": "note"}, Severity.LOW),
        ({"level": "none"}, Severity.INFO),
        ({}, Severity.UNKNOWN),  # never invent one
        ({"level": "note", "properties": {"security-severity": "9.1"}}, Severity.CRITICAL),
        ({"properties": {"security-severity": "not a number"}}, Severity.UNKNOWN),
    ],
)
def test_severity_from_security_severity_then_level(overrides: dict[str, Any],
                                                    expected: Severity) -> None:
    assert parse_sarif(_log(_result(**overrides)), root=PROJECT)[0].severity is expected


@pytest.mark.parametrize(("score", "expected"), [
    (10.0, Severity.CRITICAL), (9.0, Severity.CRITICAL), (8.9, Severity.HIGH),
    (7.0, Severity.HIGH), (4.0, Severity.MEDIUM), (3.9, Severity.LOW), (0.1, Severity.LOW),
    (0.0, Severity.INFO),
])
def test_cvss_banding(score: float, expected: Severity) -> None:
    assert severity_from_score(score) is expected


def test_uri_base_ids_and_file_uris_become_paths_relative_to_root(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a b.py").write_text("x = 1\neval(data)\n")
    results = [
        _result(locations=[{"physicalLocation": {
            "artifactLocation": {"uri": "a%20b.py", "uriBaseId": "SRC"},
            "region": {"startLine": 2}}}]),
        _result(locations=[{"physicalLocation": {
            "artifactLocation": {"uri": (tmp_path / "src" / "a b.py").as_uri()},
            "region": {"startLine": 2}}}]),
        _result(locations=[{"physicalLocation": {
            "artifactLocation": {"uri": "file:///opt/elsewhere/x.py"}}}]),
    ]
    bases = {"SRC": {"uri": (tmp_path / "src").as_uri() + "/"}}
    first, second, outside = parse_sarif(_log(*results, originalUriBaseIds=bases), root=tmp_path)
    assert first.location.path == second.location.path == "src/a b.py"
    assert first.snippet == "eval(data)"
    assert outside.location.path == "/opt/elsewhere/x.py"


def test_files_outside_root_are_never_read(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("password=hunter2\n")
    escape = _result(locations=[{"physicalLocation": {
        "artifactLocation": {"uri": "../secret.txt"}, "region": {"startLine": 1}}}])
    finding = parse_sarif(_log(escape), root=root)[0]
    assert finding.snippet is None


def test_absent_results_are_fixed_and_skipped() -> None:
    findings = parse_sarif(_log(_result(baselineState="absent"), _result(ruleId="r2")),
                           root=PROJECT)
    assert [f.rule_id for f in findings] == ["r2"]


def test_rule_id_from_the_rule_index_and_empty_runs() -> None:
    result = _result(ruleIndex=0)
    del result["ruleId"]
    log = _log(result, rules=[{"id": "by-index", "shortDescription": {"text": "Indexed"}}])
    finding = parse_sarif(log, root=PROJECT)[0]
    assert (finding.rule_id, finding.title) == ("by-index", "Indexed")
    assert parse_sarif(_log(), root=PROJECT) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"version": "2.1.0", "runs": [',
         r"^x.sarif: invalid JSON at line 1 column 31: Expecting value$"),
        (b"", r"^x.sarif: empty file$"),
        (b'{"version": "2.0.0", "runs": []}',
         r"^x.sarif: SARIF version '2.0.0' is not supported"),
        (b'{"version": "2.1.0", "runs": {}}', r"^x.sarif: runs: expected a list$"),
        (b'{"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}',
         r"^x.sarif: runs\[0\].tool.driver.name: missing$"),
        (_log(_result(), {"message": {"text": "no rule"}}),
         r"^x.sarif: runs\[0\].results\[1\]: no ruleId"),
        (_log("oops"), r"^x.sarif: runs\[0\].results\[0\]: expected an object$"),  # type: ignore[arg-type]
    ],
)
def test_errors_name_the_source_and_the_place(raw: bytes, message: str) -> None:
    with pytest.raises(ReportFormatError, match=message) as caught:
        parse_sarif(raw, root=PROJECT, source="x.sarif")
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


SHELL_RULE = """\
rules:
  - id: shell-true
    pattern: subprocess.check_output(..., shell=True)
    message: shell=True with user input
    languages: [python]
    severity: ERROR
    metadata:
      cwe: ["CWE-78: OS Command Injection"]
"""


@pytest.mark.semgrep
def test_real_semgrep_sarif_is_imported(semgrep_bin: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    (tmp_path / "rule.yml").write_text(SHELL_RULE)
    completed = subprocess.run(
        [semgrep_bin, "--config", str(tmp_path / "rule.yml"), "--sarif", "--metrics=off",
         "--disable-version-check", "--quiet", "."],
        cwd=project, capture_output=True, check=True, timeout=300,
        env={**os.environ, "SEMGREP_SEND_METRICS": "off"},
    )
    (finding,) = parse_sarif(completed.stdout, root=project, source="semgrep.sarif")
    assert finding.scanner.startswith("Semgrep")
    assert finding.rule_id.endswith("shell-true")
    assert finding.severity is Severity.HIGH  # defaultConfiguration level error
    assert finding.cwe == ("CWE-78",)
    assert (finding.location.path, finding.location.start_line) == ("app/views.py", 19)
    assert finding.fingerprint == code_fingerprint(
        rule_id=finding.rule_id, path="app/views.py",
        matched_code='return subprocess.check_output("ping -c 1 " + host, shell=True)')
