"""Diff-aware mode: scanning only what changed gives the verdict a full baseline scan gives.

A real git repository with real semgrep and pip-audit (offline advisories). The expected
verdict is built the old way: the whole baseline commit checked out and scanned by the gate,
its fingerprints taken, and every blocking or warning finding of a plain scan whose
fingerprint is among them turned `existing`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from gate.baseline import anywhere_key, scan_baseline
from gate.config import GateConfig, default_policy_path
from gate.models import Action, Decision, Verdict
from gate.pipeline import SCANNERS, run_gate
from gate.report.sarif import sarif_document
from gate.scanners.interface import ScanTarget
from tests.conftest import REPO_ROOT

ADVISORIES = REPO_ROOT / "examples" / "advisories"
SHELL = "import os\n\ndef run(cmd):\n    os.system(cmd)\n"
PICKLE = "import pickle\n\ndef load(data):\n    return pickle.loads(data)\n"
YAML = "import yaml\n\ndef parse(text):\n    return yaml.load(text)\n"
EVAL = "def calc(expr):\n    return eval(expr)\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True, capture_output=True,
    )


def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """Two commits and an uncommitted change: modified, unchanged, deleted, new and untracked
    files; an unchanged, a changed and a deleted manifest."""
    repo = tmp_path / "repo"
    _write(repo, {
        "app.py": SHELL,                       # unchanged: its flaw is existing
        "svc/old.py": PICKLE,                  # modified: keeps the pickle flaw, adds yaml
        "gone.py": EVAL,                       # deleted
        "requirements.txt": "jinja2==2.10\n",  # unchanged manifest
        "requirements-dev.txt": "pyyaml==5.3\n",  # changed manifest
        "requirements-old.txt": "flask==0.12.2\n",  # deleted
    })
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "baseline")
    _write(repo, {
        "svc/old.py": "\n\n" + PICKLE + "\n" + YAML,
        "requirements-dev.txt": "pyyaml==5.3\nrequests==2.19.0\n",
        "requirements.txt": "jinja2==2.10\n",
        "lib/new.py": EVAL,                    # committed new file: its flaw blocks
    })
    (repo / "gone.py").unlink()
    (repo / "requirements-old.txt").unlink()
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "change")
    _write(repo, {
        "scratch.py": SHELL.replace("run", "go"),  # untracked: new
        "requirements-extra.txt": "flask==0.12.2\n",  # untracked manifest, flask was in -old
    })
    return repo


def _config(target: Path, baseline: str | None = None) -> GateConfig:
    return GateConfig(
        target=target, policy_path=default_policy_path(), advisories_dir=ADVISORIES,
        baseline_ref=baseline,
    )


def _full_baseline(repo: Path, tmp_path: Path) -> tuple[frozenset[str], dict[str, str]]:
    """The old way: the whole baseline commit checked out and scanned; its fingerprints, and
    its dependency findings' package, version and advisory (a finding counts as existing
    wherever the baseline had those: a pin moved to another manifest is no new risk)."""
    old = tmp_path / "old"
    _git(repo, "worktree", "add", "--detach", "-q", str(old), "HEAD~1")
    try:
        verdict = run_gate(_config(old))
    finally:
        _git(repo, "worktree", "remove", "--force", str(old))
    keys = {item.finding.fingerprint: anywhere_key(item.finding) for item in verdict.findings}
    return (frozenset(keys), {fp: key for fp, key in keys.items() if key is not None})


def _outcomes(verdict: Verdict, *, with_key: bool = False) -> set[tuple[Any, ...]]:
    return {
        (item.finding.fingerprint, item.finding.rule_id,
         item.finding.location.path or item.finding.location.manifest, item.action.value,
         *([anywhere_key(item.finding)] if with_key else []))
        for item in verdict.findings
    }


def test_diff_aware_verdict_equals_a_full_baseline_scan(
    repo: Path, tmp_path: Path, semgrep_env: str
) -> None:
    old_fingerprints, old_keys_by_fp = _full_baseline(repo, tmp_path)
    old_keys = set(old_keys_by_fp.values())
    plain = run_gate(_config(repo))
    gating = (Action.BLOCK, Action.WARN)
    expected = {
        (fp, rule, where, Action.EXISTING.value
         if (fp in old_fingerprints or key in old_keys) and action in gating
         else action)
        for fp, rule, where, action, key in _outcomes(plain, with_key=True)
    }

    diff_aware = run_gate(_config(repo, baseline="HEAD~1"))

    assert _outcomes(diff_aware) == expected
    existing = {where for _, _, where, action in expected if action == "existing"}
    blocked = {where for _, _, where, action in expected if action == "block"}
    assert {"app.py", "svc/old.py", "requirements.txt", "requirements-extra.txt"} <= existing
    assert {"svc/old.py", "lib/new.py", "scratch.py", "requirements-dev.txt"} <= blocked
    assert diff_aware.decision is Decision.BLOCK
    counts = diff_aware.count_by_action()
    assert counts == {action: sum(1 for *_, a in expected if a == action) for action in counts}
    now = {fp for fp, *_ in expected}
    moved_now = {key for *_, key in _outcomes(plain, with_key=True) if key is not None}
    assert {f.fingerprint for f in diff_aware.fixed} == {
        fp for fp in old_fingerprints - now if old_keys_by_fp.get(fp) not in moved_now}
    assert "requirements-old.txt" not in {f.location.manifest for f in diff_aware.fixed}
    assert "gone.py" in {f.location.path for f in diff_aware.fixed}
    assert all((item.in_baseline is True) == (item.finding.fingerprint in old_fingerprints
                                              or anywhere_key(item.finding) in old_keys)
               for item in diff_aware.findings)


def test_sarif_of_a_diff_aware_run_marks_new_unchanged_and_absent(
    repo: Path, semgrep_env: str
) -> None:
    verdict = run_gate(_config(repo, baseline="HEAD~1"))
    states: dict[str, set[str]] = {}
    for run in sarif_document(verdict)["runs"]:
        for result in run["results"]:
            where = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            states.setdefault(result["baselineState"], set()).add(where)
    assert states["absent"] == {"gone.py"}
    assert {"app.py", "requirements.txt"} <= states["unchanged"]
    assert {"lib/new.py", "scratch.py"} <= states["new"]
    without = sarif_document(verdict, absent=False)
    assert all(r["baselineState"] != "absent" for run in without["runs"] for r in run["results"])


def test_only_changed_files_and_manifests_are_scanned_at_the_baseline(
    repo: Path, semgrep_env: str
) -> None:
    target = ScanTarget(root=repo, advisories_dir=ADVISORIES)
    scan = scan_baseline(ref="HEAD~1", target=target, names=("pip-audit", "semgrep"),
                         scanners=SCANNERS)
    assert scan.unchanged_files == {"app.py", "requirements.txt"}
    assert scan.unchanged_manifests == {"requirements.txt"}
    assert scan.found, "the changed file and manifests had findings at the baseline"


def test_a_changed_semgrepignore_scans_the_whole_baseline(repo: Path, semgrep_env: str) -> None:
    _write(repo, {".semgrepignore": "lib/\n"})
    _git(repo, "add", ".semgrepignore")
    target = ScanTarget(root=repo, advisories_dir=ADVISORIES)
    scan = scan_baseline(ref="HEAD~1", target=target, names=("semgrep",), scanners=SCANNERS)
    assert scan.unchanged_files == frozenset()
    assert scan.fingerprints([]) == scan.found
    assert len(scan.found) >= 3, "app.py, svc/old.py and gone.py scanned at the baseline"
