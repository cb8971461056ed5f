"""Fuzzing the parsers of untrusted input: the policy loader, report imports, the verdict.

Arbitrary bytes, and structures shaped like the real thing (keys drawn from each format's own
vocabulary, so the parsers go deep), must give a result or a `GateError` with exit 2 or 3:
never any other exception. Bounded in examples and without a deadline, so it is not timed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gate.cli import cli
from gate.config import GateConfig
from gate.errors import GateError
from gate.pipeline import run_gate
from gate.policy.load import parse_policy
from gate.policy.schema import known_keys
from gate.report.json_report import load_verdict, render_json
from gate.scanners.imports import parse_report
from register.record_files import checked
from register.verdict_stream import read_verdict_file
from tests.conftest import FIXTURES, REPO_ROOT

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ROOT = REPO_ROOT / "examples" / "clean-app"
SARIF_KEYS = [
    "version", "runs", "tool", "driver", "name", "rules", "id", "results", "ruleId", "ruleIndex",
    "level", "message", "text", "locations", "physicalLocation", "artifactLocation", "uri",
    "uriBaseId", "region", "startLine", "endLine", "snippet", "properties", "security-severity",
    "tags", "partialFingerprints", "invocations", "executionSuccessful",
    "toolExecutionNotifications", "originalUriBaseIds", "suppressions", "kind", "baselineState",
    "fixes", "relatedLocations", "help", "helpUri", "defaultConfiguration",
]
SEMGREP_KEYS = ["results", "errors", "paths", "scanned", "skipped", "path", "check_id", "start",
                "end", "line", "extra", "lines", "severity", "metadata", "message", "reason"]
PIP_AUDIT_KEYS = ["dependencies", "name", "version", "vulns", "id", "aliases", "fix_versions",
                  "description", "skip_reason"]
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False) | st.text(max_size=30)
           | st.sampled_from(["2.1.0", "error", "warning", "note", "file:///etc/passwd", "../x",
                              "app.py", "9999-12-30T00:00:00Z", "CVE-2024-1", "critical"]))


def shaped(keys: list[str]) -> st.SearchStrategy[Any]:
    """JSON values whose object keys mostly come from a format's vocabulary."""
    key = st.sampled_from(keys) | st.text(max_size=8)
    return st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(key, inner, max_size=6),
        max_leaves=30,
    )


def sarif_documents() -> st.SearchStrategy[Any]:
    """SARIF-looking logs: the right version and runs of arbitrary shape."""
    value = shaped(SARIF_KEYS)
    return st.fixed_dictionaries(
        {"version": st.just("2.1.0"), "runs": st.lists(st.dictionaries(
            st.sampled_from(SARIF_KEYS), value, max_size=6), max_size=3)},
    )


def expect_gate_error(call: Any) -> None:
    """Run `call`; it may succeed or raise a GateError of exit 2 or 3, nothing else."""
    try:
        call()
    except GateError as exc:
        assert exc.exit_code in (2, 3)
        assert "\n" not in str(exc)


# --- the policy loader ----------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=400))
def test_policy_text(text: str) -> None:
    expect_gate_error(lambda: parse_policy(text, source="fuzz.yml"))


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(known_keys())) | st.text(max_size=8),
                       shaped(sorted(known_keys())), max_size=8))
def test_policy_structures(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document, allow_unicode=True)
    expect_gate_error(lambda: parse_policy(text, source="fuzz.yml"))


@FUZZ
@given(st.binary(max_size=300))
def test_gate_policy_validate_on_arbitrary_bytes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "fuzz.yml"
    path.write_bytes(raw)
    result = CliRunner().invoke(cli, ["policy", "validate", str(path)])
    assert result.exit_code in (0, 3), result.output
    assert "internal error" not in result.output


# --- report imports -------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=300))
def test_import_bytes(raw: bytes) -> None:
    expect_gate_error(lambda: parse_report(raw, root=ROOT, source="fuzz.json"))


@FUZZ
@given(sarif_documents() | shaped(SEMGREP_KEYS) | shaped(PIP_AUDIT_KEYS))
def test_import_structures(document: Any) -> None:
    raw = json.dumps(document).encode()
    expect_gate_error(lambda: parse_report(raw, root=ROOT, source="fuzz.json"))


@FUZZ
@given(sarif_documents())
def test_gate_scan_import_of_arbitrary_sarif(tmp_path: Path, document: Any) -> None:
    path = tmp_path / "fuzz.sarif"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(cli, ["scan", str(ROOT), "--import", str(path), "--no-progress"])
    assert result.exit_code in (0, 1, 2), result.output
    assert "internal error" not in result.output


# --- the verdict ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def verdict_document() -> dict[str, Any]:
    """A real verdict with findings (an import of the vulnerable app's pip-audit report)."""
    verdict = run_gate(GateConfig(
        target=ROOT, policy_path=REPO_ROOT / "policies" / "default.yml",
        imports=(FIXTURES / "pip-audit" / "vulnerable-app.json",),
    ))
    document: dict[str, Any] = json.loads(render_json(verdict))
    return document


@FUZZ
@given(st.binary(max_size=300))
def test_verdict_bytes(raw: bytes) -> None:
    expect_gate_error(lambda: load_verdict(raw, source="fuzz.json"))


@FUZZ
@given(st.data())
def test_verdict_with_fields_replaced(
    verdict_document: dict[str, Any], data: st.DataObject
) -> None:
    document = json.loads(json.dumps(verdict_document))
    value = shaped([*document, "finding", "location", "started_at", "severity"])
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        target = _inner_object(document, data)
        if target:
            target[data.draw(st.sampled_from(sorted(target)))] = data.draw(value)
    raw = json.dumps(document).encode()
    expect_gate_error(lambda: load_verdict(raw, source="fuzz.json"))


def _inner_object(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The verdict, one of its findings, or a finding's body (earlier draws may have replaced
    any of them with something else)."""
    findings = document.get("findings")
    if not (isinstance(findings, list) and findings and data.draw(st.booleans())):
        return document
    entry = data.draw(st.sampled_from(findings))
    if not isinstance(entry, dict):
        return document
    inner = entry.get("finding")
    return inner if isinstance(inner, dict) and data.draw(st.booleans()) else entry


@FUZZ
@given(st.binary(max_size=200) | shaped(["spool_version", "kind", "destination", "verdict"]).map(
    lambda v: json.dumps(v).encode()))
def test_spool_files(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "database-fuzz.json"
    path.write_bytes(raw)
    expect_gate_error(lambda: checked(read_verdict_file(path, within="verdict")))
