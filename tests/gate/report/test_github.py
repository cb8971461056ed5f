"""GitHub annotations: escaping rules, most severe first, and the per-step caps."""

from __future__ import annotations

import pytest

from gate.models import Action, Decision, Location, Severity, Verdict
from gate.report.github import MAX_PER_LEVEL, escape_data, escape_property, render_github
from tests.gate.report.verdicts import (
    code_finding,
    evaluated,
    hostile_verdict,
    mixed_verdict,
    scanners,
)


def test_escaping_follows_the_runner_rules() -> None:
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("::x::") == "::x::"  # harmless inside the message


def test_blocked_are_errors_warned_are_warnings_with_file_and_lines() -> None:
    lines = render_github(mixed_verdict()).splitlines()
    assert lines == [
        line for line in lines if line.startswith(("::error ", "::warning "))
    ]
    assert len(lines) == 3
    assert lines[0].startswith(
        "::error file=requirements.txt,line=3,title=critical GHSA-h5c8-rqwp-cp95%3A ReDoS"
    )
    assert lines[1].startswith(
        "::error file=app/db.py,line=12,endLine=13,title=high python.sqli.string-concat%3A SQL"
    )
    assert lines[2].startswith("::warning file=requirements.txt,title=medium PYSEC-2021-66")
    assert "Policy: block: known exploited%0AFix: upgrade to 2.11.3" in lines[0]


def test_hostile_text_cannot_start_a_new_command() -> None:
    output = render_github(hostile_verdict())
    lines = output.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert line.startswith(("::error file=", "::warning file="))
        props, _, message = line.partition("::")[2].partition("::")
        assert "\r" not in line and "\x00" not in line and "\x1b" not in line
        for value in props.split(" ", 1)[1].split(","):
            key, _, text = value.partition("=")
            assert key in {"file", "line", "endLine", "title"}
            assert ":" not in text
        assert "%0A::set-output" in message
    assert "file=src/we ird%2Cdir/fi%3Ale%250.py" in lines[0]


def _findings(action: Action, count: int, severity: Severity) -> tuple:  # type: ignore[type-arg]
    return tuple(
        evaluated(code_finding(rule_id=f"{action.value}.{severity.value}.{i}", severity=severity,
                               location=Location(path=f"f{i}.py", start_line=i + 1)), action)
        for i in range(count)
    )


def test_caps_keep_the_most_severe_and_count_the_rest() -> None:
    findings = (
        _findings(Action.BLOCK, 8, Severity.LOW)
        + _findings(Action.BLOCK, 5, Severity.CRITICAL)
        + _findings(Action.WARN, 12, Severity.MEDIUM)
    )
    verdict = Verdict(decision=Decision.ERROR, findings=findings, scanners=scanners(failed=True))
    lines = render_github(verdict).splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    warnings = [line for line in lines if line.startswith("::warning")]
    assert len(errors) == len(warnings) == MAX_PER_LEVEL
    assert "scanner semgrep failed" in errors[0]
    assert all("block.critical" in line for line in errors[1:6])
    assert sum("block.low" in line for line in errors) == 4
    # 14 errors and 12 warnings were candidates: 4 + 2 left out
    assert lines[-1] == (
        "::notice title=riskgate::6 more findings were not annotated (GitHub shows at most "
        "10 errors and 10 warnings per step); see the full riskgate report"
    )


@pytest.mark.parametrize("count", [0, 10])
def test_no_notice_when_nothing_is_left_out(count: int) -> None:
    verdict = Verdict(decision=Decision.BLOCK,
                      findings=_findings(Action.BLOCK, count, Severity.HIGH))
    output = render_github(verdict)
    assert "::notice" not in output
    assert output.count("::error") == count
