"""The step summary: decision, counts, an escaped findings table, and GitHub's size limit."""

from __future__ import annotations

import pytest

from gate.models import Action, Decision, Verdict
from gate.report.markdown import GITHUB_SUMMARY_LIMIT, escape_markdown, render_markdown
from tests.gate.report.verdicts import code_finding, evaluated, hostile_verdict, mixed_verdict


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("| BLOCK", "| WARN"))]


def test_summary_has_heading_reasons_counts_and_actionable_rows() -> None:
    text = render_markdown(mixed_verdict())
    assert text.startswith("## ⛔ riskgate: BLOCK")
    assert "- 1 known exploited vulnerability" in text
    assert "| By action | 2 block, 1 warn, 1 ignore, 1 existing, 1 pass |" in text
    assert "1 unknown" in text
    rows = _table_rows(text)
    assert len(rows) == 3  # block and warn only
    assert rows[0].startswith("| BLOCK | critical | GHSA-h5c8-rqwp-cp95 (CVE-2023-32681) |")
    assert rows[0].endswith("| upgrade to 2.11.3 | KEV |")
    assert "Expired ignore python.exec (owner alice, expired 2024-01-31)" in text


def test_hostile_text_cannot_break_the_table_or_inject_html() -> None:
    text = render_markdown(hostile_verdict())
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    rows = _table_rows(text)
    assert len(rows) == 3
    for row in rows:
        unescaped_pipes = row.replace("\\|", "").count("|")
        assert unescaped_pipes == 8  # 7 cells
        assert "`" not in row.replace("\\`", "")
    assert "\x00" not in text and "\x1b" not in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a|b", "a\\|b"),
        ("`x`", "\\`x\\`"),
        ("<b>&", "&lt;b&gt;&amp;"),
        ("[link](http://x)", "\\[link\\](http://x)"),
        ("two\nlines", "two lines"),
    ],
)
def test_escape_markdown(raw: str, expected: str) -> None:
    assert escape_markdown(raw) == expected


def _many_findings(count: int) -> Verdict:
    findings = tuple(
        evaluated(code_finding(rule_id=f"rule.{index:05d}", title="Ü" * 150), Action.BLOCK)
        for index in range(count)
    )
    return Verdict(decision=Decision.BLOCK, findings=findings)


def test_long_summaries_drop_whole_rows_and_say_how_many() -> None:
    verdict = _many_findings(60)
    text = render_markdown(verdict, max_bytes=8_000)
    assert len(text.encode("utf-8")) <= 8_000
    shown = len(_table_rows(text))
    assert 0 < shown < 60
    assert f"… {60 - shown} more findings not shown (summary limit)" in text
    assert all(row.endswith("|") for row in _table_rows(text))  # no half rows


def test_default_limit_keeps_a_huge_run_under_one_mebibyte() -> None:
    text = render_markdown(_many_findings(4_000))
    assert len(text.encode("utf-8")) <= GITHUB_SUMMARY_LIMIT
    assert "more findings not shown (summary limit)" in text


def test_summary_within_the_limit_is_not_truncated() -> None:
    text = render_markdown(_many_findings(5))
    assert "summary limit" not in text
    assert len(_table_rows(text)) == 5


def test_clean_run_has_no_table() -> None:
    text = render_markdown(Verdict(decision=Decision.PASS))
    assert text.startswith("## ✅ riskgate: PASS")
    assert "| Action |" not in text


def test_a_diff_aware_summary_counts_what_the_change_fixed() -> None:
    fixed = (code_finding(rule_id="python.exec", snippet="exec(x)"),)
    text = render_markdown(mixed_verdict(baseline_ref="origin/main", fixed=fixed))
    assert "| Fixed since origin/main | 1 |" in text
    assert "Fixed since" not in render_markdown(mixed_verdict())
