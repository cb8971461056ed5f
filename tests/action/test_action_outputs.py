"""gate.action_outputs: extra-args splitting, step outputs, summary limit and the exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gate.action_outputs import (
    SUMMARY_LIMIT,
    TRUNCATION_NOTE,
    ActionInputError,
    decide,
    fit_summary,
    format_outputs,
    main,
    parse_flag,
    split_extra_args,
    verdict_outputs,
)
from tests.action.local_runner import parse_output_file

BLOCKED = {
    "decision": "block",
    "findings": [
        {"action": "block", "finding": {}},
        {"action": "block", "finding": {}},
        {"action": "warn", "finding": {}},
        {"action": "existing", "finding": {}},
    ],
}


def test_extra_args_are_split_like_a_shell_without_expansion() -> None:
    text = "--kev 'my kev.json' --project \"$(touch /tmp/pwned)\" `id` --timeout=5"
    assert split_extra_args(text) == [
        "--kev", "my kev.json", "--project", "$(touch /tmp/pwned)", "`id`", "--timeout=5",
    ]


def test_unbalanced_quotes_in_extra_args_are_an_input_error() -> None:
    with pytest.raises(ActionInputError, match="extra-args"):
        split_extra_args("--project 'unterminated")


def test_split_args_command_prints_nul_terminated_parts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gate.action_outputs", "split-args", "--", "--timeout 5 'a b'"],
        capture_output=True, check=True,
    )
    assert result.stdout == b"--timeout\x005\x00a b\x00"


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("FALSE", False), ("", True),
                                                 (" no ", False), ("1", True)])
def test_fail_on_error_words(value: str, expected: bool) -> None:
    assert parse_flag(value, name="fail-on-error") is expected


def test_an_unreadable_flag_is_an_error_not_false() -> None:
    with pytest.raises(ActionInputError, match="fail-on-error"):
        parse_flag("maybe", name="fail-on-error")


def test_outputs_count_blocking_and_all_findings() -> None:
    assert verdict_outputs(BLOCKED, sarif_file="out.sarif") == {
        "verdict": "block", "blocking": "2", "findings": "4", "sarif-file": "out.sarif",
    }


def test_no_verdict_means_error_outputs() -> None:
    assert verdict_outputs(None, sarif_file="")["verdict"] == "error"


def test_output_values_with_line_breaks_cannot_add_outputs() -> None:
    text = format_outputs({"sarif-file": "a\nverdict=pass", "verdict": "block"})
    assert parse_output_file(text) == {"sarif-file": "a\nverdict=pass", "verdict": "block"}


def test_summary_under_the_limit_is_unchanged() -> None:
    assert fit_summary("## ok\n", limit=100) == "## ok\n"


def test_summary_over_the_limit_is_cut_at_a_line_with_a_note() -> None:
    text = "".join(f"| row {i} | ü |\n" for i in range(200_000))
    fitted = fit_summary(text, already_used=1000)
    assert len(fitted.encode("utf-8")) + 1000 <= SUMMARY_LIMIT < 1024 * 1024
    assert fitted.endswith(TRUNCATION_NOTE)
    assert fitted.removesuffix(TRUNCATION_NOTE).endswith("|\n")


@pytest.mark.parametrize(
    ("gate_exit", "verdict", "fail_on_error", "expected"),
    [
        (0, {"decision": "pass", "findings": []}, True, 0),
        (0, {"decision": "warn", "findings": []}, True, 0),
        (1, BLOCKED, True, 1),
        (1, BLOCKED, False, 1),  # fail-on-error never lets a block through
        (2, {"decision": "error", "findings": []}, True, 2),
        (2, None, False, 0),
        (3, None, True, 3),
        (3, None, False, 3),  # a bad policy or option is never covered by fail-on-error
        (0, None, True, 2),  # exit 0 without a verdict: fail closed
        (1, None, True, 2),
        (0, {"decision": "block", "findings": []}, False, 1),
    ],
)
def test_exit_code(
    gate_exit: int, verdict: dict[str, object] | None, fail_on_error: bool, expected: int
) -> None:
    code, commands = decide(gate_exit=gate_exit, verdict=verdict, fail_on_error=fail_on_error)
    assert code == expected
    assert (commands == ()) == (expected == 0 and fail_on_error)


def test_finish_writes_outputs_summary_and_returns_the_code(tmp_path: Path) -> None:
    verdict, markdown = tmp_path / "verdict.json", tmp_path / "summary.md"
    verdict.write_text(json.dumps(BLOCKED))
    markdown.write_text("## ⛔ riskgate: block\n")
    sarif = tmp_path / "out.sarif"
    sarif.write_text("{}")
    env = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "sum")}
    argv = ["finish", "--gate-exit", "1", "--json", str(verdict), "--markdown", str(markdown),
            f"--sarif={sarif}"]
    assert main(argv, env) == 1
    outputs = parse_output_file((tmp_path / "out").read_text())
    assert outputs == {"verdict": "block", "blocking": "2", "findings": "4",
                       "sarif-file": str(sarif)}
    assert (tmp_path / "sum").read_text() == "## ⛔ riskgate: block\n"


@pytest.mark.parametrize(("gate_exit", "stderr_text", "code", "command"), [
    # fail-on-error covers scanner failures, never a bad policy or option
    (3, "gate: error: policy.yml:3:5: unknown key 'blok'", 3,
     "::error::riskgate: bad policy, option or input (exit 3); fail-on-error covers scanner"),
    (2, "gate: error: semgrep: timed out after 600 s", 0,
     "::warning::riskgate: the gate failed (exit 2)"),
], ids=["bad-policy-fails", "scanner-failure-warns"])
def test_finish_without_verdict_and_fail_on_error_false(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], gate_exit: int, stderr_text: str,
    code: int, command: str,
) -> None:
    stderr = tmp_path / "stderr"
    stderr.write_text(stderr_text + "\n")
    env = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "sum")}
    argv = ["finish", "--gate-exit", str(gate_exit), "--json", str(tmp_path / "missing.json"),
            "--stderr", str(stderr), "--sarif=missing.sarif", "--fail-on-error=false"]
    assert main(argv, env) == code
    assert stderr_text.removeprefix("gate: error: ") in (tmp_path / "sum").read_text()
    assert parse_output_file((tmp_path / "out").read_text())["sarif-file"] == ""
    assert capsys.readouterr().out.startswith(command)
