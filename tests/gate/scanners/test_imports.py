"""Importing reports: the format comes from the content; every broken file says what is wrong."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gate.errors import ReportFormatError
from gate.models import FindingKind
from gate.scanners.imports import detect_format, load_report
from tests.conftest import FIXTURES

IMPORTS = FIXTURES / "imports"
PROJECT = FIXTURES / "sarif" / "project"


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} has not landed yet")


def test_sarif_is_detected_and_parsed() -> None:
    findings = load_report(FIXTURES / "sarif" / "codeql-python.sarif", root=PROJECT)
    assert {f.scanner for f in findings} == {"CodeQL"}
    assert len(findings) == 3


def test_pip_audit_json_is_detected_from_content_not_the_name() -> None:
    _needs("gate.scanners.pip_audit")
    findings = load_report(IMPORTS / "pip-audit-named.sarif", root=PROJECT)
    assert [f.rule_id for f in findings if f.kind is FindingKind.DEPENDENCY] == ["PYSEC-2021-66"]
    assert findings[0].location.package == "jinja2"


def test_legacy_pip_audit_list_is_detected() -> None:
    _needs("gate.scanners.pip_audit")
    findings = load_report(IMPORTS / "pip-audit-legacy.json", root=PROJECT)
    assert [f.rule_id for f in findings if f.kind is FindingKind.DEPENDENCY] == ["PYSEC-2020-96"]


def test_semgrep_json_is_detected() -> None:
    _needs("gate.scanners.semgrep")
    findings = load_report(IMPORTS / "semgrep.json", root=PROJECT)
    assert [f.rule_id for f in findings] == [
        "python.lang.security.audit.subprocess-shell-true.subprocess-shell-true"]
    assert findings[0].kind is FindingKind.CODE
    assert findings[0].location.path == "app/views.py"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"version": "2.1.0", "runs": []}, "sarif"),
        ({"results": [], "errors": [], "version": "1.90.0"}, "semgrep"),
        ({"dependencies": [], "fixes": []}, "pip-audit"),
        ([{"name": "a", "version": "1", "vulns": []}], "pip-audit"),
        ([{"name": "a", "skip_reason": "not on PyPI"}], "pip-audit"),
    ],
)
def test_detect_format(document: object, expected: str) -> None:
    assert detect_format(document, source="r.json") == expected


@pytest.mark.parametrize(
    "document",
    [{"issues": []}, [], [1, 2], "text", None, {"results": [], "errors": "none"},
     [{"name": "a"}]],
)
def test_unknown_shapes_are_refused(document: object) -> None:
    with pytest.raises(ReportFormatError, match=r"^r.json: unknown report format \(expected "
                       r"pip-audit JSON, semgrep JSON or SARIF 2.1.0\)$"):
        detect_format(document, source="r.json")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.json", r"empty.json: empty file$"),
        ("truncated.json",
         r"truncated.json: invalid JSON at line 2 column 22: Unterminated string"),
        ("unknown.json", r"unknown.json: unknown report format \(expected pip-audit JSON, "
                         r"semgrep JSON or SARIF 2.1.0\)$"),
        ("sarif-2.0.json", r"sarif-2.0.json: SARIF version '2.0.0' is not supported "
                           r"\(expected 2.1.0\)$"),
        ("missing.json", r"missing.json: cannot read: No such file or directory$"),
    ],
)
def test_broken_files_fail_closed_with_one_line_naming_the_file(name: str, message: str) -> None:
    path = IMPORTS / name
    with pytest.raises(ReportFormatError, match=message) as caught:
        load_report(path, root=PROJECT)
    text = str(caught.value)
    assert text.startswith(str(path))
    assert "\n" not in text
    assert caught.value.exit_code == 2


def test_a_directory_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ReportFormatError, match=r": cannot read: Is a directory$"):
        load_report(tmp_path, root=tmp_path)


def test_non_utf8_bytes_are_refused(tmp_path: Path) -> None:
    report = tmp_path / "latin1.json"
    report.write_bytes(b'{"results": ["\xff\xfe\xfa"], "errors": []}')
    with pytest.raises(ReportFormatError, match=r"latin1.json: "):
        load_report(report, root=tmp_path)
