"""Coverage is part of the verdict: a file in scope that the scanner did not scan blocks.

Each case runs `gate scan` end to end (real semgrep, or a fake one that lies the way a broken
scanner would) on a real tree, and fails on a gate that trusts the scanner's silence.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gate.cli import cli
from gate.scanners.scope import Targets, enumerate_scope

PICKLE = (
    "import pickle\nimport requests\n\n\ndef load(u):\n"
    "    return pickle.loads(requests.get(u).content)\n"
)
NOT_SCANNED = "riskgate-file-not-scanned"


def gate(*args: str) -> Result:
    """Invoke the CLI as the console script does."""
    return CliRunner().invoke(cli, [*args, "--scanner", "semgrep", "--no-progress"])


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def policy(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "policy.yml"
    base = (REPO_POLICIES / "default.yml").read_text()
    path.write_text(base.replace("money: null", extra + "\nmoney: null"))
    return path


REPO_POLICIES = Path(__file__).resolve().parents[3] / "policies"


def fake_semgrep(directory: Path, report: dict[str, object]) -> Path:
    """A semgrep stand-in that exits 0 with a valid report, scanning nothing."""
    path = directory / "semgrep"
    data = directory / "report.json"
    data.write_text(json.dumps(report))
    path.write_text(f"#!/usr/bin/env bash\ncat {data}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def findings(verdict_path: Path) -> list[dict[str, object]]:
    verdict = json.loads(verdict_path.read_text())
    return [item["finding"] for item in verdict["findings"]]


def test_file_over_the_policy_size_limit_blocks_in_every_report(
    tmp_path: Path, semgrep_env: str
) -> None:
    tree = write(tmp_path / "app", {"app.py": PICKLE + "#" * 300_000 + "\n", "ok.py": "x = 1\n"})
    limits = policy(tmp_path, "")
    limits.write_text(
        limits.read_text().replace("max_target_bytes: 20000000", "max_target_bytes: 100000")
    )
    out = tmp_path / "out"
    result = gate(
        "scan", str(tree), "--policy", str(limits), "--json", str(out / "v.json"),
        "--sarif", str(out / "v.sarif"), "--markdown", str(out / "v.md"),
        "--junit", str(out / "v.xml"), "--github-annotations", str(out / "v.gh"),
    )
    assert result.exit_code == 1, result.output
    missed = [f for f in findings(out / "v.json") if f["rule_id"] == NOT_SCANNED]
    assert [f["location"]["path"] for f in missed] == ["app.py"]
    verdict = json.loads((out / "v.json").read_text())
    coverage = verdict["scanners"][0]["coverage"]
    assert (coverage["in_scope"], coverage["scanned"]) == (2, 1)
    assert "size limit" in coverage["not_scanned"][0]["reason"]
    for name in ("v.sarif", "v.md", "v.xml", "v.gh"):
        text = (out / name).read_text()
        assert "scanned 1 of 2 files in scope" in text, name
        assert "not scanned: app.py" in text, name
    assert "scanned 1 of 2 files in scope" in result.output
    assert "block-not-scanned" in result.output


def test_code_past_one_megabyte_is_scanned_by_default(tmp_path: Path, semgrep_env: str) -> None:
    tree = write(tmp_path / "app", {"app.py": PICKLE + "#" * 1_100_000 + "\n"})
    out = tmp_path / "v.json"
    result = gate("scan", str(tree), "--json", str(out))
    assert result.exit_code == 1, result.output
    rules = {f["rule_id"] for f in findings(out)}
    assert "python-pickle-load" in rules, result.output


def test_a_scanner_that_scans_nothing_does_not_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = write(tmp_path / "app", {"a.py": "x = 1\n", "pkg/b.py": "y = 2\n", "notes.txt": "-"})
    fake = fake_semgrep(tmp_path, {"results": [], "errors": [], "paths": {"scanned": []}})
    monkeypatch.setenv("GATE_SEMGREP_BIN", str(fake))
    out = tmp_path / "v.json"
    result = gate("scan", str(tree), "--json", str(out))
    assert result.exit_code == 1, result.output
    paths = sorted(str(f["location"]["path"]) for f in findings(out))  # type: ignore[index]
    assert paths == ["a.py", "pkg/b.py"]
    assert "semgrep did not report scanning it" in result.output


def test_skips_and_per_file_errors_become_findings_with_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = write(tmp_path / "app", {"many.py": "x\n", "slow.py": "y\n", "ok.py": "z\n"})
    report = {
        "results": [],
        "errors": [{"code": 3, "level": "warn", "type": ["Timeout", []], "path": "slow.py",
                    "message": "Timeout when running python-sqli on slow.py"}],
        "paths": {
            "scanned": ["many.py", "slow.py", "ok.py"],
            "skipped": [{"path": "many.py", "reason": "too_many_matches"}],
        },
    }
    monkeypatch.setenv("GATE_SEMGREP_BIN", str(fake_semgrep(tmp_path, report)))
    out = tmp_path / "v.json"
    result = gate("scan", str(tree), "--json", str(out))
    assert result.exit_code == 1, result.output
    titles = {str(f["location"]["path"]): str(f["title"]) for f in findings(out)}  # type: ignore[index]
    assert set(titles) == {"many.py", "slow.py"}
    assert "too many matches" in titles["many.py"]
    assert "Timeout" in titles["slow.py"]


def test_tests_folder_is_scanned_and_policy_exclusions_are_reported(
    tmp_path: Path, semgrep_env: str
) -> None:
    tree = write(tmp_path / "app", {"tests/test_x.py": PICKLE, "vendor/lib.py": PICKLE,
                                    "main.py": "x = 1\n"})
    scoped = policy(tmp_path, "")
    scoped.write_text(scoped.read_text().replace(
        "exclude: [node_modules/", "exclude: [vendor/, node_modules/"))
    out = tmp_path / "v.json"
    result = gate("scan", str(tree), "--policy", str(scoped), "--json", str(out))
    assert result.exit_code == 1, result.output
    located = {str(f["location"]["path"]) for f in findings(out)}  # type: ignore[index]
    assert located == {"tests/test_x.py"}, "semgrep's default ignore of tests/ is off"
    coverage = json.loads(out.read_text())["scanners"][0]["coverage"]
    assert coverage["excluded"] == [
        {"path": "vendor/", "reason": "excluded by the policy (scope.exclude 'vendor/')"}
    ]
    assert "excluded: vendor/ (excluded by the policy" in result.output


def test_semgrepignore_and_symlinks_are_excluded_not_findings(tmp_path: Path) -> None:
    tree = write(tmp_path / "app", {".semgrepignore": "gen/\n:include extra.ignore\n",
                                    "extra.ignore": "*_pb2.py\n", "gen/a.py": "",
                                    "api_pb2.py": "", "src/b.py": "", "src/c.txt": ""})
    (tree / "link.py").symlink_to(tree / "src" / "b.py")
    scope = enumerate_scope(tree, targets=Targets(extensions=frozenset({".py"})))
    assert scope.files == ("src/b.py",)
    reasons = {note.path: note.reason for note in scope.excluded}
    assert reasons == {
        "gen/": "excluded by .semgrepignore",
        "api_pb2.py": "excluded by .semgrepignore",
        "link.py": "symbolic link",
    }


def test_imported_sarif_of_a_failed_run_does_not_pass(tmp_path: Path) -> None:
    tree = write(tmp_path / "app", {"a.py": "x = 1\n"})
    report = tmp_path / "failed.sarif"
    report.write_text(json.dumps({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "bandit"}}, "results": [],
        "invocations": [{"executionSuccessful": False, "toolExecutionNotifications": [
            {"level": "error", "message": {"text": "out of memory"}}]}]}]}))
    result = CliRunner().invoke(cli, ["scan", str(tree), "--import", str(report)])
    assert result.exit_code == 2, result.output
    assert "executionSuccessful: false" in result.output and "out of memory" in result.output


def test_imported_sarif_file_error_is_a_not_scanned_finding(tmp_path: Path) -> None:
    tree = write(tmp_path / "app", {"a.py": "x = 1\n"})
    report = tmp_path / "partial.sarif"
    location = {"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}
    report.write_text(json.dumps({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "CodeQL"}}, "results": [],
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": [
            {"level": "error", "message": {"text": "could not extract"},
             "locations": [location]}]}]}]}))
    out = tmp_path / "v.json"
    result = CliRunner().invoke(
        cli, ["scan", str(tree), "--import", str(report), "--json", str(out)]
    )
    assert result.exit_code == 1, result.output
    (finding,) = findings(out)
    assert finding["rule_id"] == NOT_SCANNED and "could not extract" in str(finding["title"])


def test_imported_semgrep_report_with_skipped_files_blocks(tmp_path: Path) -> None:
    tree = write(tmp_path / "app", {"big.py": "x = 1\n", "t/x.py": ""})
    report = tmp_path / "semgrep.json"
    report.write_text(json.dumps({"results": [], "errors": [], "paths": {
        "scanned": [], "skipped": [{"path": "big.py", "reason": "exceeded_size_limit"},
                                   {"path": "t/x.py", "reason": "semgrepignore_patterns_match"}]}}))
    out = tmp_path / "v.json"
    result = CliRunner().invoke(
        cli, ["scan", str(tree), "--import", str(report), "--json", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert [f["location"]["path"] for f in findings(out)] == ["big.py"]  # type: ignore[index]
