"""CLI conventions next to the original flags: -f/-o, --fail-on, -q/-v, GATE_* variables for
every option, FORCE_COLOR/NO_COLOR, help with examples, usage errors exit 3.

Scans evaluate a recorded pip-audit report (`--import`) so no scanner runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gate.cli import cli
from tests.conftest import FIXTURES, REPO_ROOT

APP = REPO_ROOT / "examples" / "vulnerable-app"
REPORT = FIXTURES / "pip-audit" / "vulnerable-app.json"
WARN_ONLY = "version: 1\nname: warn-only\nrules:\n  - {name: warn-all, action: warn, match: {}}\n"


def gate(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def scan(*args: str, env: dict[str, str] | None = None) -> Result:
    return gate("scan", str(APP), "--import", str(REPORT), "--no-progress", *args, env=env)


def test_format_and_output_write_the_report_and_print_one_line(tmp_path: Path) -> None:
    result = scan("-f", "sarif", "-o", str(tmp_path / "out.sarif"))
    assert result.exit_code == 1
    assert json.loads((tmp_path / "out.sarif").read_text())["version"] == "2.1.0"
    assert result.output.splitlines() == [result.output.strip()]
    assert result.output.startswith("BLOCK") and "block" in result.output

    plain = scan("-o", str(tmp_path / "out.txt"))
    assert plain.exit_code == 1 and "\x1b" not in (tmp_path / "out.txt").read_text()
    assert "BLOCK (" in (tmp_path / "out.txt").read_text()


def test_fail_on_blocks_what_the_policy_only_warns(tmp_path: Path) -> None:
    policy = tmp_path / "warn.yml"
    policy.write_text(WARN_ONLY)
    assert scan("--policy", str(policy), "-f", "json").exit_code == 0
    result = scan("--policy", str(policy), "--fail-on", "HIGH", "-f", "json")
    assert result.exit_code == 1
    verdict = json.loads(result.output)
    blocked = [f for f in verdict["findings"] if f["action"] == "block"]
    assert blocked and all(f["policy_rule"] == "--fail-on high" for f in blocked)
    assert {f["finding"]["severity"] for f in blocked} <= {"critical", "high", "unknown"}


def test_every_option_has_an_environment_variable(tmp_path: Path) -> None:
    policy = tmp_path / "warn.yml"
    policy.write_text(WARN_ONLY)
    result = scan(env={"GATE_SCAN_POLICY": str(policy), "GATE_SCAN_FAIL_ON": "high",
                       "GATE_SCAN_FORMAT": "json"})
    verdict = json.loads(result.output)
    assert verdict["policy_source"] == str(policy)
    assert {f["policy_rule"] for f in verdict["findings"]} >= {"--fail-on high"}


def test_quiet_prints_the_verdict_line_and_verbose_the_details() -> None:
    quiet = scan("-q")
    assert quiet.exit_code == 1 and len(quiet.output.strip().splitlines()) == 1
    normal, verbose = scan(), scan("-v")
    assert "reason: " not in normal.output and "reason: " in verbose.output
    assert len(verbose.output.splitlines()) > len(normal.output.splitlines())


@pytest.mark.parametrize(
    ("env", "coloured"),
    [({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False), ({}, False)],
)
def test_force_color_and_no_color(env: dict[str, str], coloured: bool) -> None:
    assert ("\x1b[" in scan(env={"NO_COLOR": "", "FORCE_COLOR": "", **env}).output) is coloured


def test_piped_report_is_80_columns_unless_columns_says_otherwise() -> None:
    narrow = scan(env={"COLUMNS": ""}).output.splitlines()
    wide = scan(env={"COLUMNS": "160"}).output.splitlines()
    assert max(map(len, narrow)) <= 80 < max(map(len, wide)) <= 160


@pytest.mark.parametrize(
    "args", [("--fail-on", "severe"), ("--no-such-option",), ("-f", "xml"), ("--timeout", "x")]
)
def test_usage_errors_exit_3(args: tuple[str, ...]) -> None:
    result = scan(*args)
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "scan: error:" in lines[0] and "--help" in lines[0]


def test_help_shows_examples_defaults_and_the_environment() -> None:
    result = gate("scan", "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "gate scan --fail-on high" in result.output
    flat = " ".join(result.output.split())
    assert "default: text]" in flat and "[env var: GATE_SCAN_FAIL_ON]" in flat
    assert "GATE_<COMMAND>_<OPTION>" in gate("--help").output
