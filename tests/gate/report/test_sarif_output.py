"""SARIF output validates against the official 2.1.0 schema and carries what GitHub needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.models import Action, Decision, Location, Severity, Verdict
from gate.report.sarif import SECURITY_SEVERITY, render_sarif, sarif_document
from tests.gate.report.verdicts import (
    code_finding,
    dependency_finding,
    evaluated,
    hostile_verdict,
    mixed_verdict,
    scanners,
)


@pytest.fixture(scope="module")
def validator(shared_dir: Path) -> jsonschema.Draft7Validator:
    schema = json.loads((shared_dir / "data/sarif/sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft7Validator(schema)


def _results(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [result for run in document["runs"] for result in run["results"]]


def _run(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(run for run in document["runs"] if run["tool"]["driver"]["name"] == name)


@pytest.mark.shared
@pytest.mark.parametrize(
    "verdict",
    [
        mixed_verdict(baseline_ref="origin/main"),
        hostile_verdict(),
        Verdict(decision=Decision.PASS),
        Verdict(decision=Decision.ERROR, scanners=scanners(failed=True)),
    ],
    ids=["mixed", "hostile", "empty", "failed-scanner"],
)
def test_output_validates_against_the_official_schema(
    validator: jsonschema.Draft7Validator, verdict: Verdict
) -> None:
    document = json.loads(render_sarif(verdict))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


@pytest.mark.shared
def test_the_validator_does_reject_a_broken_log(validator: jsonschema.Draft7Validator) -> None:
    document = sarif_document(mixed_verdict())
    document["runs"][0]["results"][0]["level"] = "fatal"
    del document["runs"][1]["tool"]["driver"]["name"]
    assert len(list(validator.iter_errors(document))) == 2


def test_one_run_per_scanner_with_driver_details() -> None:
    document = sarif_document(mixed_verdict())
    assert document["version"] == "2.1.0"
    assert [run["tool"]["driver"]["name"] for run in document["runs"]] == ["semgrep", "pip-audit"]
    driver = _run(document, "pip-audit")["tool"]["driver"]
    assert driver["version"] == "2.7.3"
    assert driver["informationUri"] == "https://github.com/pypa/pip-audit"


def test_rules_are_unique_and_carry_descriptions_help_and_tags() -> None:
    driver = _run(sarif_document(mixed_verdict()), "semgrep")["tool"]["driver"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids)) == 3
    rule = next(rule for rule in driver["rules"] if rule["id"] == "python.sqli.string-concat")
    assert rule["shortDescription"]["text"] == "SQL built by string concatenation"
    assert rule["fullDescription"]["text"] == "User input reaches a SQL query."
    assert "Severity: high" in rule["help"]["text"]
    assert "**SQL built by string concatenation**" in rule["help"]["markdown"]
    assert rule["helpUri"] == "https://semgrep.dev/r/python.sqli"
    assert {"security", "external/cwe/cwe-89", "CWE-89"} <= set(rule["properties"]["tags"])


def test_results_point_at_their_rule_and_carry_fingerprints() -> None:
    verdict = mixed_verdict()
    document = sarif_document(verdict)
    for run in document["runs"]:
        rules = run["tool"]["driver"]["rules"]
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    fingerprints = {r["partialFingerprints"]["riskgateFingerprint/v1"] for r in _results(document)}
    assert fingerprints == {item.finding.fingerprint for item in verdict.findings}


def test_security_severity_is_cvss_when_known_else_the_documented_band() -> None:
    rules = {
        rule["id"]: rule["properties"]["security-severity"]
        for run in sarif_document(mixed_verdict())["runs"]
        for rule in run["tool"]["driver"]["rules"]
    }
    assert rules["GHSA-h5c8-rqwp-cp95"] == "9.8"  # CVSS score
    assert rules["python.sqli.string-concat"] == "8.0"  # high, no score
    assert rules["python.exec"] == "8.0"  # unknown must not look low
    assert rules["python.assert"] == "2.0"  # low
    assert rules["PYSEC-2020-1"] == "1.0"  # info
    assert all(float(value) >= 0 for value in rules.values())
    assert SECURITY_SEVERITY[Severity.UNKNOWN] == SECURITY_SEVERITY[Severity.HIGH]
    assert SECURITY_SEVERITY[Severity.CRITICAL] > 9.0


def test_levels_follow_the_policy_action() -> None:
    levels = {
        result["properties"]["action"]: result["level"]
        for result in _results(sarif_document(mixed_verdict()))
    }
    assert levels == {"block": "error", "warn": "warning", "ignore": "note",
                      "existing": "note", "pass": "note"}


def test_result_properties_and_suppressions_and_baseline_state() -> None:
    results = _results(sarif_document(mixed_verdict(baseline_ref="origin/main")))
    by_action = {result["properties"]["action"]: result for result in results}
    ignored = by_action["ignore"]
    assert ignored["suppressions"] == [{"kind": "external", "justification": "accepted until June"}]
    assert "suppressions" not in by_action["block"]
    assert by_action["existing"]["baselineState"] == "unchanged"
    assert by_action["warn"]["baselineState"] == "new"
    kev = next(r for r in results if r["ruleId"] == "GHSA-h5c8-rqwp-cp95")
    assert kev["properties"]["kev"] is True
    assert kev["properties"]["reason"] == "known exploited"


def test_locations_are_relative_to_the_repository() -> None:
    results = _results(sarif_document(mixed_verdict()))
    for result in results:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert not artifact["uri"].startswith(("/", "file:"))
    code = next(r for r in results if r["ruleId"] == "python.sqli.string-concat")
    physical = code["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "app/db.py"
    assert physical["region"]["startLine"] == 12
    assert physical["region"]["endLine"] == 13
    assert "cursor.execute" in physical["region"]["snippet"]["text"]


def test_dependency_findings_point_at_the_manifest_line() -> None:
    results = {r["ruleId"]: r for r in _results(sarif_document(mixed_verdict()))}
    pinned = results["GHSA-h5c8-rqwp-cp95"]["locations"][0]["physicalLocation"]
    assert pinned["artifactLocation"]["uri"] == "requirements.txt"
    assert pinned["region"]["startLine"] == 3
    unpinned = results["PYSEC-2021-66"]["locations"][0]["physicalLocation"]
    assert unpinned["region"] == {"startLine": 1, "endLine": 1}


@pytest.mark.parametrize(
    ("path", "target", "expected"),
    [
        ("src\\pkg\\mod.py", None, "src/pkg/mod.py"),
        ("./app/a b.py", None, "app/a%20b.py"),
        ("/work/repo/app/x.py", "/work/repo", "app/x.py"),
        ("weird:name%.py", None, "weird%3Aname%25.py"),
    ],
)
def test_paths_become_relative_forward_slash_uris(path: str, target: str | None,
                                                  expected: str) -> None:
    finding = code_finding(location=Location(path=path, start_line=1))
    verdict = Verdict(decision=Decision.BLOCK, findings=(evaluated(finding, Action.BLOCK),),
                      target=target)
    artifact = _results(sarif_document(verdict))[0]["locations"][0]["physicalLocation"][
        "artifactLocation"]
    assert artifact == {"uri": expected, "uriBaseId": "%SRCROOT%"}


def test_absolute_path_outside_the_target_stays_a_file_uri() -> None:
    finding = code_finding(location=Location(path="/elsewhere/x.py", start_line=1))
    verdict = Verdict(decision=Decision.BLOCK, findings=(evaluated(finding, Action.BLOCK),),
                      target="/work/repo")
    artifact = _results(sarif_document(verdict))[0]["locations"][0]["physicalLocation"][
        "artifactLocation"]
    assert artifact == {"uri": "file:///elsewhere/x.py"}


def test_failed_scanner_is_an_unsuccessful_invocation() -> None:
    document = sarif_document(Verdict(decision=Decision.ERROR, scanners=scanners(failed=True)))
    invocation = _run(document, "semgrep")["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notification = invocation["toolExecutionNotifications"][0]
    assert notification["message"]["text"].endswith("timed out after 60 s")
    assert _run(document, "pip-audit")["invocations"][0]["executionSuccessful"] is True


def test_hostile_text_stays_inert_in_help_markdown() -> None:
    document = sarif_document(hostile_verdict())
    for rule in document["runs"][0]["tool"]["driver"]["rules"]:
        assert "<script>" not in rule["help"]["markdown"]
        assert "&lt;script&gt;" in rule["help"]["markdown"]
        assert "helpUri" in rule  # a plain https URL is kept as data, never interpreted


def test_findings_of_unlisted_scanners_get_their_own_run() -> None:
    imported = code_finding(scanner="CodeQL")
    findings = (evaluated(imported, Action.BLOCK), evaluated(dependency_finding(), Action.PASS))
    verdict = Verdict(decision=Decision.BLOCK, findings=findings)
    names = [run["tool"]["driver"]["name"] for run in sarif_document(verdict)["runs"]]
    assert names == ["CodeQL", "pip-audit"]


@pytest.mark.shared
def test_dependency_without_manifest_has_no_location_but_stays_valid(
    validator: jsonschema.Draft7Validator,
) -> None:
    imported = dependency_finding(location=Location(package="jinja2", version="2.10"))
    verdict = Verdict(decision=Decision.WARN, findings=(evaluated(imported, Action.WARN),))
    document = sarif_document(verdict)
    (result,) = _results(document)
    assert "locations" not in result
    assert result["message"]["text"].startswith("jinja2==2.10: ")
    assert list(validator.iter_errors(document)) == []
