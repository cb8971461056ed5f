"""`gate scan` end to end, as a user or a pipeline runs it: real semgrep, real pip-audit.

Covers the example that must block offline, every report format at once, diff-aware mode,
and the bad inputs of the gate issue with their documented exit codes.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gate.cli import cli
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "vulnerable-app"
ADVISORIES = REPO_ROOT / "examples" / "advisories"
KEV = REPO_ROOT / "examples" / "kev" / "known_exploited_vulnerabilities.json"
CLEAN = REPO_ROOT / "examples" / "clean-app"


def gate(*args: str) -> Result:
    """Invoke the CLI exactly as the console script does."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def fake_tool(directory: Path, name: str, script: str) -> Path:
    """A small executable standing in for a broken scanner."""
    path = directory / name
    path.write_text(f"#!/usr/bin/env bash\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory, semgrep_bin: str) -> dict[str, object]:
    """One real offline scan of the example app, with every report format written."""
    out = tmp_path_factory.mktemp("reports")
    os.environ["GATE_SEMGREP_BIN"] = semgrep_bin
    result = gate(
        "scan", str(EXAMPLE), "--advisories", str(ADVISORIES), "--kev", str(KEV),
        "--json", str(out / "v.json"), "--sarif", str(out / "v.sarif"),
        "--markdown", str(out / "v.md"), "--junit", str(out / "v.xml"),
        "--github-annotations", str(out / "v.annotations"), "--no-progress",
    )
    return {"result": result, "out": out, "verdict": json.loads((out / "v.json").read_text())}


def test_example_blocks_offline_with_readable_reasons(example_run: dict[str, object]) -> None:
    result = example_run["result"]
    assert isinstance(result, Result)
    assert result.exit_code == 1, result.output
    assert "BLOCK" in result.output.upper()
    verdict = example_run["verdict"]
    assert isinstance(verdict, dict)
    assert verdict["decision"] == "block"
    assert verdict["reasons"], "a blocked verdict says why"


def test_example_finds_kev_dependency_and_code_flaws(example_run: dict[str, object]) -> None:
    verdict = example_run["verdict"]
    assert isinstance(verdict, dict)
    findings = [item["finding"] for item in verdict["findings"]]
    salt = [f for f in findings if f["location"].get("package") == "salt"]
    kev_salt = [f for f in salt if "CVE-2020-11651" in (f["rule_id"], *f["aliases"])]
    assert kev_salt and kev_salt[0]["known_exploited"] is True
    packages = {f["location"].get("package") for f in findings if f["kind"] == "dependency"}
    assert {"jinja2", "pyyaml", "requests", "salt"} <= packages
    code_rules = {f["rule_id"] for f in findings if f["kind"] == "code"}
    assert len(code_rules) >= 5, code_rules
    assert all("." not in rule for rule in code_rules), "semgrep check_id prefix is normalised"
    blocked = [item for item in verdict["findings"] if item["action"] == "block"]
    assert any(item["finding"]["known_exploited"] for item in blocked)


def test_every_report_is_written_at_once(example_run: dict[str, object]) -> None:
    out = example_run["out"]
    assert isinstance(out, Path)
    sarif = json.loads((out / "v.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert "## " in (out / "v.md").read_text()
    assert "<testsuite" in (out / "v.xml").read_text()
    assert "::error" in (out / "v.annotations").read_text()


def test_sarif_of_the_example_validates_against_the_official_schema(
    example_run: dict[str, object], shared_dir: Path
) -> None:
    import jsonschema

    out = example_run["out"]
    assert isinstance(out, Path)
    schema = json.loads((shared_dir / "data/sarif/sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(json.loads((out / "v.sarif").read_text()))


def test_clean_app_passes(semgrep_env: str) -> None:
    result = gate("scan", str(CLEAN), "--advisories", str(ADVISORIES), "--no-progress")
    assert result.exit_code == 0, result.output


def test_missing_target_is_a_configuration_error() -> None:
    result = gate("scan", "/nonexistent/project")
    assert result.exit_code == 3
    assert "/nonexistent/project: target path does not exist" in result.output


def test_malformed_policy_names_file_line_and_column(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("version: 1\nrules:\n  - name: x\n    action: [block\n")
    result = gate("scan", str(CLEAN), "--policy", str(policy))
    assert result.exit_code == 3
    assert f"{policy}:" in result.output
    assert result.output.count("\n") <= 2, "one clear line"


def test_unknown_import_format_fails_closed(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text('{"something": "else"}')
    result = gate("scan", str(CLEAN), "--import", str(report))
    assert result.exit_code == 2
    assert str(report) in result.output and "unknown report format" in result.output


def test_truncated_import_names_the_place(tmp_path: Path) -> None:
    report = tmp_path / "semgrep.json"
    report.write_text('{"results": [{"check_id": "x", "path": "a.py"')
    result = gate("scan", str(CLEAN), "--import", str(report))
    assert result.exit_code == 2
    assert str(report) in result.output and "line 1" in result.output


def test_missing_scanner_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_SEMGREP_BIN", str(tmp_path / "no-such-semgrep"))
    result = gate("scan", str(CLEAN), "--advisories", str(ADVISORIES), "--no-progress")
    assert result.exit_code == 2
    assert "semgrep" in result.output and "fail closed" in result.output


def test_crashing_scanner_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crash = fake_tool(tmp_path, "semgrep", 'echo "Segmentation fault" >&2; exit 139')
    monkeypatch.setenv("GATE_SEMGREP_BIN", str(crash))
    result = gate("scan", str(CLEAN), "--advisories", str(ADVISORIES), "--no-progress")
    assert result.exit_code == 2
    assert "semgrep" in result.output


def test_policy_may_declare_a_scanner_fail_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash = fake_tool(tmp_path, "semgrep", "echo garbage; exit 2")
    monkeypatch.setenv("GATE_SEMGREP_BIN", str(crash))
    policy = tmp_path / "open.yml"
    policy.write_text(
        "version: 1\nname: semgrep-fail-open\n"
        "scanners:\n  semgrep:\n    fail_open: true\n"
    )
    result = gate(
        "scan", str(CLEAN), "--policy", str(policy), "--advisories", str(ADVISORIES),
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    assert "semgrep" in result.output


def test_hanging_scanner_is_stopped_at_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hang = fake_tool(tmp_path, "semgrep", "sleep 60")
    monkeypatch.setenv("GATE_SEMGREP_BIN", str(hang))
    result = gate(
        "scan", str(CLEAN), "--advisories", str(ADVISORIES), "--timeout", "2", "--no-progress",
    )
    assert result.exit_code == 2
    assert "timed out" in result.output


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True, capture_output=True,
    )


def test_baseline_blocks_only_what_the_change_introduces(
    tmp_path: Path, semgrep_env: str
) -> None:
    require_git = shutil.which("git")
    assert require_git, "git is part of the test environment"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("click==8.1.7\n")
    (repo / "app.py").write_text("import os\n\ndef run(cmd):\n    os.system(cmd)\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "old flaw")
    with (repo / "app.py").open("a") as handle:
        handle.write("\ndef load(data):\n    import pickle\n    return pickle.loads(data)\n")
    _git(repo, "commit", "-qam", "new flaw")
    out = tmp_path / "v.json"
    result = gate(
        "scan", str(repo), "--baseline", "HEAD~1", "--advisories", str(ADVISORIES),
        "--json", str(out), "--no-progress",
    )
    verdict = json.loads(out.read_text())
    actions = {item["finding"]["rule_id"]: item["action"] for item in verdict["findings"]}
    assert verdict["scope"] == "diff"
    assert any(action == "existing" for action in actions.values()), actions
    assert any(action == "block" for action in actions.values()), actions
    assert result.exit_code == 1
    new_rules = [r for r, a in actions.items() if a == "block"]
    assert all("pickle" in rule or "deserial" in rule for rule in new_rules), new_rules


@pytest.mark.parametrize("had_ignore_file", [True, False])
def test_a_change_cannot_take_its_own_files_out_of_the_scan(
    tmp_path: Path, semgrep_env: str, had_ignore_file: bool
) -> None:
    """On a pull request the baseline's `.semgrepignore` decides the scope, as its policy does:
    a change that ignores the file it adds a flaw to is blocked, and its requirements too."""
    repo = tmp_path / "repo"
    (repo / "vendor").mkdir(parents=True)
    (repo / "requirements.txt").write_text("click==8.1.7\n")
    (repo / "app.py").write_text("def ok():\n    return 1\n")
    (repo / "vendor" / "lib.py").write_text("import os\nos.system(cmd)\n")
    if had_ignore_file:
        (repo / ".semgrepignore").write_text("vendor/\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    (repo / "evil.py").write_text("import pickle\n\ndef load(b):\n    return pickle.loads(b)\n")
    (repo / "extra").mkdir()
    (repo / "extra" / "requirements.txt").write_text("jinja2==2.10\n")
    (repo / ".semgrepignore").write_text("vendor/\nevil.py\nextra/\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "hide the flaw")
    out = tmp_path / "v.json"
    result = gate("scan", str(repo), "--baseline", "HEAD~1", "--advisories", str(ADVISORIES),
                  "--json", str(out), "--no-progress")
    verdict = json.loads(out.read_text())
    blocked = {(item["finding"]["rule_id"], item["finding"]["location"].get("path"),
                item["finding"]["location"].get("manifest"))
               for item in verdict["findings"] if item["action"] == "block"}
    assert result.exit_code == 1, result.output
    assert ("riskgate-file-not-scanned", "evil.py", None) in blocked
    assert any(manifest == "extra/requirements.txt" for _, _, manifest in blocked), blocked
    assert not any(path == "vendor/lib.py" for _, path, _ in blocked) or not had_ignore_file

    full = gate("scan", str(repo), "--advisories", str(ADVISORIES), "--json", str(out),
                "--no-progress")  # not diff-aware: the tree's own ignore file applies
    assert all(item["finding"]["location"].get("path") != "evil.py"
               for item in json.loads(out.read_text())["findings"]), full.output


def test_unknown_baseline_ref_is_a_configuration_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("click==8.1.7\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "one")
    result = gate("scan", str(repo), "--baseline", "no-such-ref", "--advisories", str(ADVISORIES))
    assert result.exit_code == 3
    assert "no-such-ref" in result.output


@pytest.mark.parametrize("width", [80, 120])
def test_example_report_fits_the_width_and_breaks_no_token(
    example_run: dict[str, object], width: int
) -> None:
    from gate.report.json_report import load_verdict
    from gate.report.text import render_text

    out = example_run["out"]
    assert isinstance(out, Path)
    verdict = load_verdict((out / "v.json").read_bytes(), source="v.json")
    text = render_text(verdict, color=False, width=width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    finding_lines = [line for line in lines if line.startswith(("  block ", "  warn ", "  pass "))]
    assert len(finding_lines) == len(verdict.findings)  # one line per finding
    words = set(text.split())
    for item in verdict.findings:  # every id and path whole, never split across lines
        assert item.finding.rule_id in words
        assert (item.finding.location.package or item.finding.location.display()) in words
    assert len(lines) < 2 * len(verdict.findings)
