"""The human report: plain without a terminal, colour with one, scanner text shown literally."""

from __future__ import annotations

from gate.models import Action, Decision, Location, ScannerRun, ScannerStatus, Verdict
from gate.report.text import TextRenderer, render_text
from tests.gate.report.verdicts import (
    LONG_TITLE,
    dependency_finding,
    evaluated,
    hostile_verdict,
    mixed_verdict,
    scanners,
)


def test_plain_report_shows_decision_reasons_findings_and_scanners() -> None:
    text = render_text(mixed_verdict(), color=False, width=160)
    assert "\x1b" not in text
    assert text.lstrip().startswith("BLOCK")
    assert "2 findings at or above high" in text
    for expected in ("GHSA-h5c8-rqwp-cp95 (CVE-2023-32681)", "python.sqli.string-concat",
                     "app/db.py:12", "requests 2.0.0 → 2.11.3", "critical KEV"):
        assert expected in text
    assert "semgrep ok 1.90.0 3.2s" in text
    assert "pip-audit ok 2.7.3 1.5s" in text
    assert "Expired ignore: python.exec (owner alice, expired 2024-01-31)" in text


def test_most_urgent_findings_come_first() -> None:
    text = render_text(mixed_verdict(), color=False, width=200, verbosity=1)
    positions = [text.index(rule) for rule in
                 ("GHSA-h5c8-rqwp-cp95", "python.sqli.string-concat", "PYSEC-2021-66",
                  "python.assert", "python.exec", "PYSEC-2020-1")]
    assert "upgrade to 2.11.3" in text  # -v: the fix in words
    assert positions == sorted(positions)


def test_colour_output_uses_terminal_escapes() -> None:
    assert "\x1b[" in render_text(mixed_verdict(), color=True, width=160)


def test_default_renderer_is_plain() -> None:
    assert "\x1b" not in TextRenderer().render(mixed_verdict())


def test_hostile_scanner_text_is_shown_literally_without_control_characters() -> None:
    for color in (False, True):
        text = render_text(hostile_verdict(), color=color, width=400)
        assert "[bold red]markup[/]" in text
        assert "<script>alert(1)</script>" in text
        assert "日本語" in text
        assert "\x00" not in text and "\x07" not in text
    plain = render_text(hostile_verdict(), color=False, width=400)
    assert "\x1b" not in plain
    assert LONG_TITLE not in plain  # shortened, not dumped whole
    assert "…" in plain


def test_failed_scanner_and_empty_run_are_reported() -> None:
    verdict = Verdict(decision=Decision.ERROR, reasons=("semgrep failed",),
                      scanners=scanners(failed=True))
    text = render_text(verdict, color=False, width=160)
    assert text.lstrip().startswith("ERROR")
    assert "No findings." in text
    assert "semgrep failed (semgrep: timed out after 60 s)" in text


def test_clean_run_passes() -> None:
    verdict = Verdict(decision=Decision.PASS,
                      scanners=(ScannerRun(name="semgrep", status=ScannerStatus.SKIPPED),))
    text = render_text(verdict, color=False, width=100)
    assert text.lstrip().startswith("PASS")
    assert "no findings" in text
    assert "semgrep skipped" in text


def test_a_run_over_several_manifests_names_each_findings_manifest() -> None:
    root = dependency_finding()
    nested = dependency_finding(location=Location(
        package="jinja2", version="2.10", manifest="services/api/requirements.txt"))
    two = Verdict(decision=Decision.WARN, findings=(
        evaluated(root, Action.WARN), evaluated(nested, Action.WARN)), scanners=scanners())
    text = render_text(two, color=False, width=160)
    assert "jinja2 2.11.2 → 2.11.3 in requirements.txt" in text
    assert "jinja2 2.10 → 2.11.3 in services/api/requirements.txt" in text
    one = Verdict(decision=Decision.WARN, findings=(evaluated(root, Action.WARN),),
                  scanners=scanners())
    assert " in requirements.txt" not in render_text(one, color=False, width=160)
