"""Loading policy files: every error names file:line:column, valid files load with defaults."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gate.errors import PolicyError
from gate.models import Severity
from gate.policy.load import load_policy, parse_policy
from gate.policy.schema import RuleAction
from tests.conftest import FIXTURES

POLICIES = FIXTURES / "policies"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "malformed.yml",
            "malformed.yml:6:4: invalid YAML: expected <block end>, but found "
            "'<block mapping start>' (while parsing a block collection)",
        ),
        (
            "unknown-key.yml",
            "unknown-key.yml:7:7: rules[0].match: unknown key 'severty' (did you mean 'severity'?)",
        ),
        (
            "wrong-type.yml",
            "wrong-type.yml:5:9: sla_days.high: input should be a valid integer, "
            "unable to parse string as an integer (got 'a month')",
        ),
        (
            "bad-enum.yml",
            "bad-enum.yml:5:13: rules[0].action: input should be 'block', 'warn' or 'pass' "
            "(got 'deny')",
        ),
        (
            "ignore-no-expiry.yml",
            "ignore-no-expiry.yml:4:5: ignores[0]: missing required key 'expires'",
        ),
        (
            "ignore-no-reason.yml",
            "ignore-no-reason.yml:5:13: ignores[0].reason: must not be empty (got '   ')",
        ),
        (
            "duplicate-key.yml",
            "duplicate-key.yml:6:5: duplicate key 'action' (first defined on line 5)",
        ),
        ("empty.yml", "empty.yml:1:1: the policy is empty (expected a mapping of keys)"),
        (
            "several-errors.yml",
            "several-errors.yml:3:17: default_action: input should be 'block', 'warn' or "
            "'pass' (got 'stop') (and 2 more)",
        ),
    ],
)
def test_invalid_policy_names_file_line_and_column(name: str, expected: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(POLICIES / name)
    assert str(caught.value) == f"{POLICIES}/{expected}"
    assert caught.value.exit_code == 3


def test_missing_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    with pytest.raises(PolicyError, match=r"nope\.yml: cannot read: No such file"):
        load_policy(missing)


def test_directory_instead_of_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "p.yml:1:1: a policy must be a mapping of keys, not a list"),
        ("version: 1\nname: x\n---\nversion: 1\n", "p.yml:3:1: invalid YAML:"),
        (
            "version: 1\nname: x\nignores:\n  - match: {rule_id: X}\n    reason: r\n"
            "    owner: o\n    expires: 2027-02-30\n",
            "p.yml:7:14: invalid YAML: invalid date '2027-02-30'",
        ),
        ("version: 2\nname: x\n", "p.yml:1:10: version: input should be 1 (got 2)"),
        ("name: x\n", "p.yml:1:1: missing required key 'version'"),
        (
            "version: 1\nname: x\nscanners:\n  pip_audit: {fail_open: true}\n",
            "p.yml:4:3: scanners: unknown key 'pip_audit' (did you mean 'pip-audit'?)",
        ),
        (
            "version: 1\nname: x\ntimeout: 30\n",
            "p.yml:3:1: unknown key 'timeout' ('timeout' is a key of another section)",
        ),
        (
            "version: 1\nname: x\nrules:\n  - {name: a, action: block}\n"
            "  - {name: a, action: warn}\n",
            "p.yml:4:3: rules: rule name 'a' is used twice",
        ),
        (
            "version: 1\nname: x\nignores:\n  - {match: {}, reason: r, owner: o, "
            "expires: 2027-01-01}\n",
            "p.yml:4:13: ignores[0].match: an ignore must match something specific",
        ),
        (
            "version: 1\nname: x\nrules:\n  - {name: a, action: block, match: {rule_id: [1]}}\n",
            "p.yml:4:48: rules[0].match.rule_id[0]: input should be a valid string (got 1)",
        ),
        (
            "version: 1\nname: x\nrules:\n  - {name: a, action: block, match: {epss_min: 2}}\n",
            "p.yml:4:48: rules[0].match.epss_min: input should be less than or equal to 1",
        ),
        (
            "version: 1\nname: x\nowners:\n  rules: [{owner: '@a'}]\n",
            "p.yml:4:11: owners.rules[0]: an owner rule needs exactly one of 'path' or 'package'",
        ),
        (
            "version: 1\nname: x\nunknown_severity: unknown\n",
            "p.yml:3:19: unknown_severity: unknown_severity must be a real severity",
        ),
    ],
)
def test_parse_errors_point_at_the_key_or_value(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="p.yml")
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


MONEY_LEVELS = "  annual_frequency_per_probability: {1: 0.1, 2: 0.2, 3: 0.5, 4: 1, 5: 3}\n"


def test_money_range_low_above_high_is_rejected() -> None:
    text = (
        "version: 1\nname: x\nmoney:\n  loss_per_impact: {1: [10, 1], 2: [1, 2], 3: [1, 2], "
        "4: [1, 2], 5: [1, 2]}\n" + MONEY_LEVELS
    )
    with pytest.raises(PolicyError, match=r"p\.yml:4:20: money\.loss_per_impact: level 1: low 10"):
        parse_policy(text, source="p.yml")


def test_money_level_out_of_range_points_at_the_key() -> None:
    text = (
        "version: 1\nname: x\nmoney:\n  loss_per_impact: {1: [1, 2], 2: [1, 2], 3: [1, 2], "
        "4: [1, 2], 5: [1, 2], 6: [1, 2]}\n" + MONEY_LEVELS
    )
    with pytest.raises(PolicyError, match=r"p\.yml:4:76: money\.loss_per_impact\[6\]: input"):
        parse_policy(text, source="p.yml")


def test_minimal_policy_gets_documented_defaults() -> None:
    policy = load_policy(POLICIES / "minimal.yml")
    assert policy.unknown_severity is Severity.HIGH
    assert policy.default_action is RuleAction.PASS
    assert policy.rules == ()
    assert policy.scanners.fail_open("semgrep") is False
    assert policy.scanners.fail_open("some-imported-tool") is False
    assert policy.sla_for() == {
        Severity.CRITICAL: 7,
        Severity.HIGH: 30,
        Severity.MEDIUM: 90,
        Severity.LOW: 180,
        Severity.INFO: 365,
        Severity.UNKNOWN: 30,
    }


def test_single_values_stand_for_one_item_lists() -> None:
    policy = parse_policy(
        "version: 1\nname: x\nrules:\n  - name: a\n    action: warn\n"
        "    match: {severity: medium, package: Jinja2, cwe: '89'}\n",
        source="p.yml",
    )
    match = policy.rules[0].match
    assert match.severity == (Severity.MEDIUM,)
    assert match.package == ("Jinja2",)
    assert match.cwe == ("CWE-89",)


def test_relative_enrichment_paths_resolve_against_the_policy_folder() -> None:
    policy = load_policy(POLICIES / "enrichment.yml")
    assert policy.enrichment.advisories == POLICIES / "data" / "osv"
    assert policy.enrichment.kev == Path("/absolute/kev.json")
    assert policy.enrichment.epss is None


def test_ignore_expiry_is_read_as_a_date() -> None:
    policy = parse_policy(
        "version: 1\nname: x\nignores:\n  - match: {rule_id: [PYSEC-1]}\n    reason: r\n"
        "    owner: '@a'\n    expires: 2027-01-31\n",
        source="p.yml",
    )
    assert policy.ignores[0].expires == date(2027, 1, 31)
    assert policy.ignores[0].label == "rule_id=PYSEC-1"


def test_sections_left_empty_read_as_empty() -> None:
    policy = parse_policy("version: 1\nname: x\nrules:\nignores:\nowners:\n", source="p.yml")
    assert policy.rules == ()
    assert policy.ignores == ()
    assert policy.owners.use_codeowners is True


def test_null_name_is_still_an_error() -> None:
    with pytest.raises(PolicyError, match=r"p\.yml:2:6: name: input should be a valid string"):
        parse_policy("version: 1\nname:\n", source="p.yml")


def test_sla_days_beyond_a_century_are_refused(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("version: 1\nname: x\nsla_days:\n  critical: 99999999\n")
    with pytest.raises(PolicyError, match=r"policy\.yml:4:13: .*36500"):
        load_policy(policy)
