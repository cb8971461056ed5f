"""SARIF for GitHub: baseline states (new, unchanged, absent) and the per-run result limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.models import Action, Decision, EvaluatedFinding, Location, Verdict
from gate.report.sarif import MAX_RESULTS_PER_RUN, OMITTED_KEY, render_sarif, sarif_document
from tests.gate.report.verdicts import code_finding, dependency_finding, evaluated, scanners


@pytest.fixture(scope="module")
def validator(shared_dir: Path) -> jsonschema.Draft7Validator:
    schema = json.loads((shared_dir / "data/sarif/sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft7Validator(schema)


def _code(index: int, action: Action = Action.BLOCK, *,
          in_baseline: bool | None = None) -> EvaluatedFinding:
    finding = code_finding(rule_id=f"rule-{index % 3}", snippet=f"call({index})",
                           location=Location(path=f"app/m{index}.py", start_line=index + 1))
    return EvaluatedFinding(finding=finding, action=action, reason="r", in_baseline=in_baseline)


def _baseline_verdict() -> Verdict:
    fixed_dependency = dependency_finding(
        rule_id="PYSEC-2018-28", package="requests",
        location=Location(package="requests", version="2.19.0", manifest="requirements.txt",
                          start_line=5))
    return Verdict(
        decision=Decision.BLOCK, baseline_ref="origin/main", scanners=scanners(),
        findings=(
            _code(1, Action.BLOCK, in_baseline=False),
            _code(2, Action.EXISTING, in_baseline=True),
            _code(3, Action.IGNORE, in_baseline=True),   # ignored, but old: unchanged
            _code(4, Action.IGNORE, in_baseline=False),  # ignored and new
        ),
        fixed=(code_finding(rule_id="rule-gone", snippet="gone()"), fixed_dependency),
    )


def _states(document: dict[str, Any]) -> dict[str, str]:
    return {result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]:
            result["baselineState"] for run in document["runs"] for result in run["results"]}


def test_baseline_state_follows_the_baseline_not_the_action() -> None:
    states = _states(sarif_document(_baseline_verdict()))
    assert states == {
        "app/m1.py": "new", "app/m2.py": "unchanged", "app/m3.py": "unchanged",
        "app/m4.py": "new", "app/db.py": "absent", "requirements.txt": "absent",
    }


def test_absent_results_say_fixed_and_keep_their_rule_and_line() -> None:
    document = sarif_document(_baseline_verdict())
    pip_audit = next(r for r in document["runs"] if r["tool"]["driver"]["name"] == "pip-audit")
    (absent,) = pip_audit["results"]
    assert pip_audit["tool"]["driver"]["rules"][absent["ruleIndex"]]["id"] == "PYSEC-2018-28"
    assert absent["message"]["text"].startswith("Fixed since origin/main: requests==2.19.0")
    assert absent["properties"]["action"] == "fixed"
    assert absent["locations"][0]["physicalLocation"]["region"]["startLine"] == 5


def test_absent_results_can_be_left_out_for_github() -> None:
    states = _states(json.loads(render_sarif(_baseline_verdict(), absent=False)))
    assert "absent" not in states.values()
    assert len(states) == 4


def test_without_a_baseline_no_result_has_a_state_and_fixed_is_ignored() -> None:
    verdict = _baseline_verdict().model_copy(update={"baseline_ref": None})
    results = [r for run in sarif_document(verdict)["runs"] for r in run["results"]]
    assert len(results) == 4
    assert all("baselineState" not in result for result in results)


@pytest.mark.shared
def test_baseline_and_split_documents_validate(validator: jsonschema.Draft7Validator) -> None:
    verdict = _baseline_verdict()
    for document in (sarif_document(verdict), sarif_document(verdict, max_results=1),
                     sarif_document(verdict, max_results=1, max_runs=2)):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == []


def test_a_scanner_over_the_limit_is_split_into_runs_of_the_same_tool() -> None:
    items = tuple(_code(index) for index in range(7))
    verdict = Verdict(decision=Decision.BLOCK, findings=items, scanners=scanners())
    runs = sarif_document(verdict, max_results=3)["runs"]
    semgrep = [run for run in runs if run["tool"]["driver"]["name"] == "semgrep"]
    assert [len(run["results"]) for run in semgrep] == [3, 3, 1]
    assert [run["properties"]["riskgate/part"] for run in semgrep] == ["1 of 3", "2 of 3",
                                                                       "3 of 3"]
    # GitHub takes one run per tool and category: the first keeps the upload's category.
    assert "automationDetails" not in semgrep[0]
    assert [run["automationDetails"]["id"] for run in semgrep[1:]] == [
        "riskgate/semgrep/part-2/", "riskgate/semgrep/part-3/"]
    assert "invocations" in semgrep[0] and "invocations" not in semgrep[1]
    for run in semgrep:
        rules = run["tool"]["driver"]["rules"]
        assert len(rules) == len({rule["id"] for rule in rules})
        assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    fingerprints = [r["partialFingerprints"]["riskgateFingerprint/v1"]
                    for run in semgrep for r in run["results"]]
    assert sorted(fingerprints) == sorted(item.finding.fingerprint for item in items)
    assert [run["tool"]["driver"]["name"] for run in runs][-1] == "pip-audit"  # empty run kept


def test_runs_past_the_file_limit_are_counted_not_written() -> None:
    items = tuple(_code(index) for index in range(10))
    verdict = Verdict(decision=Decision.BLOCK, findings=items, scanners=scanners())
    runs = sarif_document(verdict, max_results=2, max_runs=3)["runs"]
    assert len(runs) == 3
    assert sum(len(run["results"]) for run in runs) == 6
    assert runs[-1]["properties"][OMITTED_KEY] == 4  # 4 semgrep results; pip-audit had none
    note = runs[-1]["invocations"][0]["toolExecutionNotifications"][-1]
    assert note["level"] == "warning" and note["message"]["text"].startswith("4 more results")


@pytest.mark.slow
def test_thirty_thousand_imported_results_become_two_runs_under_githubs_limit() -> None:
    count = 30_000
    findings = tuple(
        evaluated(code_finding(scanner="CodeQL", rule_id=f"cq-{index % 50}",
                               snippet=f"x{index}", location=Location(path="a.py",
                                                                        start_line=index + 1)),
                  Action.WARN)
        for index in range(count)
    )
    document = json.loads(render_sarif(Verdict(decision=Decision.WARN, findings=findings)))
    sizes = [len(run["results"]) for run in document["runs"]]
    assert sizes == [MAX_RESULTS_PER_RUN, count - MAX_RESULTS_PER_RUN]
    assert {run["tool"]["driver"]["name"] for run in document["runs"]} == {"CodeQL"}
