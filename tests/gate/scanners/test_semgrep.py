"""The semgrep adapter: parsing recorded reports, real scans, and failing closed.

Parser tests read reports recorded with the real semgrep (tests/fixtures/semgrep/record.sh).
Real-run tests use the semgrep of `.tools/`; failure tests put a small fake `semgrep` script in
GATE_SEMGREP_BIN to play a scanner that crashes, hangs or prints garbage.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner

from gate.cli import cli
from gate.config import bundled_semgrep_rules
from gate.errors import ReportFormatError, ScannerError
from gate.models import FindingKind, Severity
from gate.scanners.interface import ScanTarget
from gate.scanners.semgrep import (
    PER_FILE_TIMEOUT,
    SemgrepScanner,
    normalise_cwe,
    normalise_rule_id,
    parse_report,
    parse_semgrep,
    severity_of,
    title_of,
)
from tests.conftest import FIXTURES, REPO_ROOT

SEMGREP = FIXTURES / "semgrep"
PROJECT = SEMGREP / "project"
EXAMPLE_APP = REPO_ROOT / "examples" / "vulnerable-app"


def _recorded(name: str) -> bytes:
    return (SEMGREP / name).read_bytes()


def _report(path: str, *, line: int, end_line: int | None = None, check_id: str = "p.rule-a",
            extra: Mapping[str, object] | None = None) -> bytes:
    """A minimal semgrep report with one result, for cases no real run can produce."""
    result = {
        "check_id": check_id,
        "path": path,
        "start": {"line": line, "col": 1, "offset": 0},
        "end": {"line": end_line or line, "col": 2, "offset": 1},
        "extra": extra or {"message": "m", "severity": "ERROR", "metadata": {}},
    }
    return json.dumps({"version": "1.0", "results": [result], "errors": []}).encode()


# --- parsing recorded reports -------------------------------------------------------------


def test_recorded_report_becomes_normalised_code_findings() -> None:
    findings = parse_semgrep(_recorded("results.json"), root=PROJECT)
    assert [(f.rule_id, f.location.path, f.location.start_line) for f in findings] == [
        ("python-sql-injection", "app.py", 15),
        ("python-markup-request-data", "app.py", 21),
        ("python-pickle-load", "app.py", 25),
        ("python-eval-injection", "app.py", 29),
    ]
    sql = findings[0]
    assert sql.kind is FindingKind.CODE
    assert sql.scanner == "semgrep"
    assert sql.severity is Severity.HIGH
    assert sql.cwe == ("CWE-89",)
    assert sql.owasp == ("A03:2021 - Injection",)
    assert sql.confidence == "MEDIUM"
    assert sql.help_url is not None and sql.help_url.startswith("https://cheatsheetseries.owasp")
    assert sql.title == (
        "SQL query built from a string (f-string, %, + or .format) is passed to execute().")
    assert sql.snippet is not None and "cur.execute(\"SELECT * FROM users" in sql.snippet
    assert len({f.fingerprint for f in findings}) == 4


def test_hostile_code_in_a_match_is_kept_as_plain_data() -> None:
    markup = parse_semgrep(_recorded("results.json"), root=PROJECT)[1]
    assert markup.snippet is not None
    assert '<script>alert(1)</script>' in markup.snippet


def test_absolute_paths_are_made_relative_to_the_root() -> None:
    raw = _recorded("results-absolute.json").replace(b"@ROOT@", str(PROJECT).encode())
    absolute = parse_semgrep(raw, root=PROJECT)
    relative = parse_semgrep(_recorded("results.json"), root=PROJECT)
    assert [f.location.path for f in absolute] == ["app.py"] * 4
    assert [f.fingerprint for f in absolute] == [f.fingerprint for f in relative]


def test_a_file_that_does_not_parse_is_counted_not_fatal() -> None:
    report = parse_report(_recorded("results.json"), root=PROJECT)
    assert report.file_errors == 1
    assert len(report.findings) == 4
    assert report.version == "1.185.0"


def test_a_truncated_report_fails_with_its_position() -> None:
    with pytest.raises(ReportFormatError) as caught:
        parse_semgrep(_recorded("truncated.json"), root=PROJECT, source="truncated.json")
    message = str(caught.value)
    assert message.startswith("truncated.json: not valid semgrep JSON at line ")
    assert " column " in message and "\n" not in message


def test_a_report_with_a_fatal_config_error_is_refused() -> None:
    with pytest.raises(ReportFormatError) as caught:
        parse_semgrep(_recorded("config-error.json"), root=PROJECT, source="scan.json")
    message = str(caught.value)
    assert message.startswith("scan.json: semgrep failed: InvalidRuleSchemaError")
    assert "invalid.yml:2" in message and "\n" not in message


@pytest.mark.parametrize(
    ("raw", "problem"),
    [(b"", "empty output"), (b"[]", "expected a JSON object"),
     (b'{"errors": []}', "no 'results' list"), (b"\xff\xfe", "not UTF-8"),
     (b'{"results": [{"path": "a.py"}], "errors": []}', "result 0: needs a 'check_id'"),
     (b'{"results": [{"check_id": " ", "path": "a.py"}], "errors": []}',
      "result 0: needs a 'check_id'")],
)
def test_other_malformed_reports_are_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(ReportFormatError, match=problem):
        parse_semgrep(raw, root=PROJECT, source="r.json")


def test_registry_style_and_dotted_rule_ids() -> None:
    raw = _recorded("dotted-ids.json")
    [guessed] = parse_semgrep(raw, root=PROJECT)
    [known] = parse_semgrep(raw, root=PROJECT, rule_ids={"python.lang.security.eval-used"})
    assert guessed.rule_id == "eval-used"
    assert known.rule_id == "python.lang.security.eval-used"
    assert known.cwe == ("CWE-95",)
    assert known.help_url == "https://example.org/rules/eval-used"
    assert known.severity is Severity.MEDIUM
    assert known.title == "Eval of a non-literal."


def _results(*results: tuple[str, str, int, str]) -> bytes:
    """A report of (check_id, severity, start column, part-of) results, all on line 3 of a.py."""
    items = [{"check_id": check_id, "path": "a.py",
              "start": {"line": 3, "col": col, "offset": 0},
              "end": {"line": 3, "col": col + 5, "offset": 5},
              "extra": {"message": "m", "severity": level,
                        "metadata": {"riskgate-part-of": part} if part else {}}}
             for check_id, level, col, part in results]
    return json.dumps({"results": items, "errors": []}).encode()


def test_parts_of_a_rule_report_one_finding_under_its_id(tmp_path: Path) -> None:
    """A rule split into semgrep rules for speed: its users see one rule and one finding."""
    (tmp_path / "a.py").write_text("import db\n\ndb.execute(query)\n")
    raw = _results(("p.sql-injection", "WARNING", 1, ""),
                   ("p.sql-injection-formatted", "ERROR", 1, "sql-injection"),
                   ("p.sql-injection-formatted", "ERROR", 9, "sql-injection"))
    findings = parse_semgrep(raw, root=tmp_path)
    assert [(f.rule_id, f.severity) for f in findings] == [
        ("sql-injection", Severity.HIGH),  # the two results at column 1, the worse kept
        ("sql-injection", Severity.HIGH),  # the part's own result at column 9
    ]


def test_results_of_ordinary_rules_are_never_merged(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import db\n\ndb.execute(query)\n")
    raw = _results(("p.rule-a", "ERROR", 1, ""), ("p.rule-a", "WARNING", 1, ""),
                   ("p.rule-b", "ERROR", 1, ""))
    assert [f.rule_id for f in parse_semgrep(raw, root=tmp_path)] == ["rule-a", "rule-a", "rule-b"]


@pytest.mark.parametrize(
    ("check_id", "known", "expected"),
    [
        ("policies.semgrep.python-sql-injection", (), "python-sql-injection"),
        ("tmp.x.y.rule", (), "rule"),
        ("python-sql-injection", (), "python-sql-injection"),
        ("a.b.lang.x.rule", ("lang.x.rule", "x.rule"), "x.rule"),
        ("python.lang.security.audit.eval-detected.eval-detected", (),
         "python.lang.security.audit.eval-detected.eval-detected"),
    ],
)
def test_rule_id_normalisation(check_id: str, known: tuple[str, ...], expected: str) -> None:
    assert normalise_rule_id(check_id, known) == expected


@pytest.mark.parametrize(
    ("metadata", "level", "expected"),
    [
        ({"riskgate-severity": "critical"}, "INFO", Severity.CRITICAL),
        ({"riskgate-severity": "nonsense"}, "WARNING", Severity.MEDIUM),
        ({}, "ERROR", Severity.HIGH),
        ({}, "INFO", Severity.LOW),
        ({}, "EXPERIMENT", Severity.UNKNOWN),
        ({}, None, Severity.UNKNOWN),
    ],
)
def test_severity(metadata: dict[str, str], level: str | None, expected: Severity) -> None:
    assert severity_of(metadata, level) is expected


def test_cwe_and_title_normalisation() -> None:
    assert normalise_cwe(["CWE-89: SQL Injection", "cwe-89", 79, "no id"]) == ("CWE-89", "CWE-79")
    assert normalise_cwe(None) == ()
    assert title_of("First. Second.", "r") == "First."
    assert title_of("A clause; and more. Then.", "r") == "A clause"
    assert title_of("", "rule-x") == "rule-x"
    assert len(title_of("word " * 100, "r")) == 120


# --- fingerprints -------------------------------------------------------------------------


def test_fingerprint_survives_reindenting_and_moving_lines(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\neval(data)\n")
    before = parse_semgrep(_report("a.py", line=2), root=tmp_path)[0]
    (tmp_path / "a.py").write_text("x = 1\n\n\nif True:\n        eval( data )\n")
    after = parse_semgrep(_report("a.py", line=5), root=tmp_path)[0]
    assert after.location.start_line == 5
    assert after.fingerprint == before.fingerprint


def test_fingerprint_differs_by_rule_path_and_code(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("eval(data)\neval(other)\n")
    shutil.copy(tmp_path / "a.py", tmp_path / "b.py")
    base = parse_semgrep(_report("a.py", line=1), root=tmp_path)[0].fingerprint
    other_rule = parse_semgrep(_report("a.py", line=1, check_id="p.rule-b"), root=tmp_path)
    other_path = parse_semgrep(_report("b.py", line=1), root=tmp_path)
    other_code = parse_semgrep(_report("a.py", line=2), root=tmp_path)
    assert len({base, other_rule[0].fingerprint, other_path[0].fingerprint,
                other_code[0].fingerprint}) == 4


def test_an_imported_report_cannot_read_files_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("TOP-SECRET\n")
    [finding] = parse_semgrep(_report("../secret.txt", line=1), root=root)
    assert finding.snippet is None
    assert "TOP-SECRET" not in finding.model_dump_json()


def test_a_missing_file_falls_back_to_reported_lines(tmp_path: Path) -> None:
    extra = {"message": "m", "severity": "INFO", "lines": "eval(x)", "metadata": {}}
    [finding] = parse_semgrep(_report("gone.py", line=3, extra=extra), root=tmp_path)
    assert finding.snippet == "eval(x)"
    assert finding.location.path == "gone.py"


# --- real semgrep ---------------------------------------------------------------------------


def _scan(root: Path, **settings: object) -> list[tuple[str, str, int | None]]:
    target = ScanTarget(root=root, timeout_seconds=300, **settings)  # type: ignore[arg-type]
    output = SemgrepScanner().run(target)
    return sorted((f.rule_id, f.location.path or "", f.location.start_line)
                  for f in output.findings)


@pytest.mark.semgrep
def test_real_scan_of_the_example_app_finds_the_planted_flaws(semgrep_env: str) -> None:
    output = SemgrepScanner().run(ScanTarget(root=EXAMPLE_APP, timeout_seconds=300))
    rules = {f.rule_id for f in output.findings}
    assert {
        "python-sql-injection", "python-subprocess-shell-injection", "python-yaml-unsafe-load",
        "python-pickle-load", "python-flask-debug-enabled", "python-tls-verify-disabled",
        "python-weak-hash-md5", "python-hardcoded-api-key", "python-path-traversal-open",
        "python-flask-send-file-traversal",
    } <= rules
    assert {f.location.path for f in output.findings} == {"app.py", "storage.py"}
    assert output.version and output.version[0].isdigit()


@pytest.mark.semgrep
def test_real_scan_honours_the_targets_semgrepignore(semgrep_env: str, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "vendor").mkdir()
    (tmp_path / "src" / "a.py").write_text("import os\nos.system(cmd)\n")
    (tmp_path / "vendor" / "b.py").write_text("import os\nos.system(cmd)\n")
    (tmp_path / ".semgrepignore").write_text("vendor/\n")
    assert _scan(tmp_path) == [("python-os-command-injection", "src/a.py", 2)]


@pytest.mark.semgrep
def test_real_scan_does_not_let_a_nosemgrep_comment_silence_a_finding(
    semgrep_env: str, tmp_path: Path
) -> None:
    """Anyone who can change the code could add the comment: only the policy may say to honour
    it (`scanners.semgrep.honour_nosemgrep`)."""
    (tmp_path / "a.py").write_text(
        "import os\nos.system(cmd)  # nosemgrep\n# nosemgrep: python-os-command-injection\n"
        "os.system(other)\n")
    found = [("python-os-command-injection", "a.py", 2), ("python-os-command-injection", "a.py", 4)]
    assert _scan(tmp_path) == found
    assert _scan(tmp_path, semgrep_honour_nosemgrep=True) == []


@pytest.mark.semgrep
@pytest.mark.slow
def test_real_fingerprints_survive_reformatting(semgrep_env: str, tmp_path: Path) -> None:
    code = tmp_path / "a.py"
    code.write_text("import pickle\n\ndef load(b):\n    return pickle.loads(b)\n")
    first = SemgrepScanner().run(ScanTarget(root=tmp_path)).findings
    code.write_text("import pickle\n\n\n\nclass C:\n    def load(self, b):\n"
                    "        return pickle.loads(  b  )\n")
    second = SemgrepScanner().run(ScanTarget(root=tmp_path)).findings
    assert [f.location.start_line for f in first + second] == [4, 7]
    assert first[0].fingerprint == second[0].fingerprint


@pytest.mark.semgrep
def test_real_scan_with_an_extra_config_keeps_dotted_ids(semgrep_env: str, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("eval(data)\n")
    found = _scan(tmp_path, semgrep_configs=(str(SEMGREP / "configs" / "dotted.yml"),))
    assert found == [("python-eval-injection", "a.py", 1),
                     ("python.lang.security.eval-used", "a.py", 1)]


@pytest.mark.semgrep
def test_real_scan_reports_request_data_formatted_into_sql_once(
    semgrep_env: str, tmp_path: Path
) -> None:
    """Both parts of python-sql-injection see a query formatted from request data: one finding."""
    (tmp_path / "app.py").write_text(
        "import sqlite3\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
        "@app.route('/user')\ndef user():\n    name = request.args['name']\n"
        "    db = sqlite3.connect('app.db')\n"
        "    return db.execute(\"SELECT * FROM users WHERE name = '%s'\" % name).fetchall()\n\n\n"
        "def count(table):\n"
        "    return sqlite3.connect('app.db').execute(f'SELECT count(*) FROM {table}')\n")
    sql = [found for found in _scan(tmp_path) if "sql" in found[0]]
    assert sql == [("python-sql-injection", "app.py", 11), ("python-sql-injection", "app.py", 15)]


@pytest.mark.semgrep
def test_real_scan_with_an_invalid_config_fails_closed(semgrep_env: str, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("eval(data)\n")
    with pytest.raises(ScannerError) as caught:
        _scan(tmp_path, semgrep_configs=(str(SEMGREP / "configs" / "invalid.yml"),))
    message = str(caught.value)
    assert message.startswith("semgrep: exited with code 7: InvalidRuleSchemaError")
    assert "invalid.yml:2" in message and "\n" not in message


# --- failures with fake executables ---------------------------------------------------------


def _fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    script = tmp_path / "bin" / "semgrep"
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("GATE_SEMGREP_BIN", str(script))
    return script


def _failure(tmp_path: Path, timeout: float = 60) -> str:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    with pytest.raises(ScannerError) as caught:
        SemgrepScanner().run(ScanTarget(root=project, timeout_seconds=timeout))
    message = str(caught.value)
    assert message.startswith("semgrep: ") and "\n" not in message
    return message


def test_missing_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_SEMGREP_BIN", str(tmp_path / "nowhere" / "semgrep"))
    assert "nowhere/semgrep is not an executable file" in _failure(tmp_path)


def test_crash_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(tmp_path, monkeypatch, 'echo "Traceback ..." >&2\necho "semgrep-core: out of memory" >&2'
                                 "\nexit 2")
    assert _failure(tmp_path) == "semgrep: exited with code 2: semgrep-core: out of memory"


def test_hang_is_stopped_at_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(tmp_path, monkeypatch, "sleep 30")
    assert _failure(tmp_path, timeout=2) == "semgrep: timed out after 2 s and was stopped"


def test_garbage_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(tmp_path, monkeypatch, "echo 'this is not json'")
    assert _failure(tmp_path).startswith(
        "semgrep: stdout: not valid semgrep JSON at line 1 column 1: Expecting value")


def test_truncated_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(tmp_path, monkeypatch, f"cat '{SEMGREP / 'truncated.json'}'\nexit 1")
    message = _failure(tmp_path)
    assert message.startswith("semgrep: stdout: not valid semgrep JSON at line ")
    assert message.endswith("(exit 1)")


def test_fatal_error_reported_with_exit_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(tmp_path, monkeypatch, f"cat '{SEMGREP / 'config-error.json'}'")
    assert "semgrep failed: InvalidRuleSchemaError" in _failure(tmp_path)


def test_command_line_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log"
    _fake(tmp_path, monkeypatch, f'pwd > "{log}"\nprintf "%s\\n" "$@" >> "{log}"\n'
                                 f'env | grep ^SEMGREP_ >> "{log}"\n'
                                 "echo '{\"results\": [], \"errors\": [], \"version\": \"9.9\"}'")
    project = tmp_path / "project"
    project.mkdir()
    extra = tmp_path / "extra.yml"
    extra.write_text("rules: []\n")
    monkeypatch.chdir(tmp_path)
    target = ScanTarget(root=project, semgrep_configs=("extra.yml", "p/python"), semgrep_jobs=3)
    output = SemgrepScanner().run(target)
    lines = log.read_text().splitlines()
    assert output.findings == [] and output.version == "9.9"
    assert lines[0] == str(project)
    assert lines[1:10] == ["scan", "--json", "--metrics=off", "--disable-version-check",
                           "--jobs", "3", "--timeout", str(PER_FILE_TIMEOUT), "--config"]
    args = " ".join(lines[1:])
    assert f"--config {bundled_semgrep_rules()} --config {extra} --config p/python" in args
    assert "SEMGREP_ENABLE_VERSION_CHECK=0" in lines
    assert any(line.startswith("SEMGREP_SETTINGS_FILE=") for line in lines)
    assert "--x-rule-validation" not in lines  # a user's config gets semgrep's file:line errors


def test_the_bundled_pack_alone_skips_semgreps_python_rule_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "log"
    _fake(tmp_path, monkeypatch, f'printf "%s\\n" "$@" > "{log}"\n'
                                 "echo '{\"results\": [], \"errors\": []}'")
    (tmp_path / "project").mkdir()
    SemgrepScanner().run(ScanTarget(root=tmp_path / "project"))
    assert " --x-rule-validation none " in " ".join(log.read_text().splitlines())


def test_a_semgrep_without_the_rule_check_option_scans_with_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another semgrep version may not know the option: the scan runs again without it."""
    calls = tmp_path / "calls"
    _fake(tmp_path, monkeypatch,
          f'echo "$*" >> "{calls}"\n'
          'case "$*" in *--x-rule-validation*)\n'
          '  echo "Error: No such option: --x-rule-validation" >&2; exit 2;;\nesac\n'
          f"cat '{SEMGREP / 'results.json'}'\nexit 1")
    (tmp_path / "project").mkdir()
    output = SemgrepScanner().run(ScanTarget(root=tmp_path / "project"))
    runs = calls.read_text().splitlines()
    assert len(runs) == 2 and "--x-rule-validation" not in runs[1]
    assert len(output.findings) == 4


@pytest.mark.semgrep
def test_the_policy_decides_whether_nosemgrep_comments_count(
    semgrep_env: str, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text("import os\nos.system(cmd)  # nosemgrep\n")
    default = (REPO_ROOT / "policies" / "default.yml").read_text()
    outcomes = {}
    for honour in ("false", "true"):
        policy = tmp_path / f"{honour}.yml"
        policy.write_text(default.replace("honour_nosemgrep: false", f"honour_nosemgrep: {honour}"))
        result = CliRunner().invoke(cli, ["scan", str(project), "--scanner", "semgrep",
                                          "--policy", str(policy), "--no-progress"])
        outcomes[honour] = (result.exit_code, "python-os-command-injection" in result.output)
    assert outcomes == {"false": (1, True), "true": (0, False)}
