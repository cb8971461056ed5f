"""The bundled policies, the published JSON Schema, the risk context and the policy digest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from click.testing import CliRunner

from gate.cli import cli
from gate.config import REPO_ROOT
from gate.models import Criticality, DataClassification, Severity
from gate.policy.load import load_policy, parse_policy
from gate.policy.schema import policy_json_schema, policy_json_schema_text
from tests.conftest import FIXTURES

POLICY_DIR = REPO_ROOT / "policies"
BUNDLED = sorted([*POLICY_DIR.glob("*.yml"), *POLICY_DIR.glob("examples/*.yml")]) + [
    REPO_ROOT / "riskgate.yml"
]


def _jsonable(value: Any) -> Any:
    """YAML data as JSON would carry it (string keys, ISO dates)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


def test_bundled_policies_are_all_checked() -> None:
    names = {p.relative_to(REPO_ROOT).as_posix() for p in BUNDLED}
    assert {"policies/default.yml", "policies/strict.yml", "riskgate.yml"} <= names
    assert len([n for n in names if n.startswith("policies/examples/")]) >= 2


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_policy_validates_and_matches_the_json_schema(path: Path) -> None:
    policy = load_policy(path)
    assert policy.name
    data = _jsonable(yaml.safe_load(path.read_text(encoding="utf-8")))
    jsonschema.validate(data, policy_json_schema())


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_policy_points_editors_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema_ref = first.split("$schema=", 1)[1]
    assert (path.parent / schema_ref).resolve() == POLICY_DIR / "policy.schema.json"


def test_published_schema_is_current() -> None:
    published = (POLICY_DIR / "policy.schema.json").read_text(encoding="utf-8")
    regenerate = "gate policy schema > policies/policy.schema.json"
    assert published == policy_json_schema_text() + "\n", f"out of date; run: {regenerate}"


def test_schema_is_valid_json_schema_and_rejects_unknown_keys() -> None:
    schema = json.loads(policy_json_schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "name": "x", "rulez": []}, schema)


def test_default_policy_blocks_what_it_promises() -> None:
    policy = load_policy(POLICY_DIR / "default.yml")
    blocking = {r.name for r in policy.rules if r.action.value == "block"}
    assert {
        "block-known-exploited",
        "block-not-audited",
        "block-not-scanned",
        "block-critical-high",
    } == blocking
    assert policy.unknown_severity is Severity.HIGH
    assert not any(policy.scanners.fail_open(s) for s in ("pip-audit", "semgrep"))


def test_default_policy_spells_out_which_decisions_may_unblock() -> None:
    text = (POLICY_DIR / "default.yml").read_text(encoding="utf-8")
    assert "\ndecisions:\n" in text, "the example a user copies shows the decisions block"
    decisions = load_policy(POLICY_DIR / "default.yml").decisions
    assert decisions.allows("register") and decisions.allows("vex")
    assert decisions.max_severity is Severity.HIGH


def test_strict_policy_is_stricter() -> None:
    policy = load_policy(POLICY_DIR / "strict.yml")
    assert policy.acceptance.max_days == 30
    assert any(r.match.epss_min == 0.1 and r.action.value == "block" for r in policy.rules)
    assert not any(policy.scanners.fail_open(s) for s in ("pip-audit", "semgrep"))


def test_riskgate_own_ignores_are_accountable() -> None:
    policy = load_policy(REPO_ROOT / "riskgate.yml")
    for ignore in policy.ignores:
        assert ignore.reason and ignore.owner and ignore.expires


def test_risk_context_carries_sla_asset_owner_and_money() -> None:
    policy = load_policy(POLICY_DIR / "examples" / "full.yml")
    context = policy.risk_context()
    assert context.sla_days[Severity.CRITICAL] == 5
    assert context.sla_days[Severity.UNKNOWN] == 14
    assert set(context.sla_days) == set(Severity)
    assert context.business_criticality is Criticality.CRITICAL
    assert context.data_classification is DataClassification.RESTRICTED
    assert context.default_owner == "@security-team"
    assert context.acceptance_max_days == 60
    assert context.money is not None
    assert context.money.currency == "EUR"
    assert context.money.loss_per_impact[5] == (1_000_000, 10_000_000)


def test_unknown_sla_follows_unknown_severity() -> None:
    policy = parse_policy(
        "version: 1\nname: x\nunknown_severity: critical\nsla_days: {critical: 3}\n", source="p"
    )
    assert policy.risk_context().sla_days[Severity.UNKNOWN] == 3


def test_digest_ignores_formatting_but_not_content() -> None:
    compact = parse_policy("version: 1\nname: x\nrules: [{name: a, action: block}]\n", source="a")
    spread = parse_policy(
        "# comment\nname: x\nversion: 1\nrules:\n  - action: block\n    name: a\n", source="b"
    )
    changed = parse_policy("version: 1\nname: x\nrules: [{name: a, action: warn}]\n", source="c")
    assert compact.digest == spread.digest
    assert compact.digest != changed.digest
    assert len(compact.digest) == 64


def test_cli_validate_ok_lists_rules_and_ignores() -> None:
    result = CliRunner().invoke(
        cli,
        ["policy", "validate", str(POLICY_DIR / "default.yml"), str(REPO_ROOT / "riskgate.yml")],
    )
    assert result.exit_code == 0, result.output
    rules = len(load_policy(POLICY_DIR / "default.yml").rules)
    assert f"default.yml: ok ({rules} rules, 0 ignores)" in result.output
    ignores = len(load_policy(REPO_ROOT / "riskgate.yml").ignores)
    assert f"riskgate.yml: ok (5 rules, {ignores} ignores)" in result.output


def test_cli_validate_error_is_one_line_with_exit_3() -> None:
    bad = FIXTURES / "policies" / "unknown-key.yml"
    result = CliRunner().invoke(cli, ["policy", "validate", str(bad)])
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert lines == [
        f"gate: error: {bad}:7:7: rules[0].match: unknown key 'severty' (did you mean 'severity'?)"
    ]


def test_cli_schema_prints_the_published_schema() -> None:
    result = CliRunner().invoke(cli, ["policy", "schema"])
    assert result.exit_code == 0
    assert result.output == (POLICY_DIR / "policy.schema.json").read_text(encoding="utf-8")
