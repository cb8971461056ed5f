"""A change under review is judged by the policy it merges into, not by the one it brings.

Real git repositories and real semgrep: the pull request adds a blocking finding and, in the
same change, rewrites (or adds) `riskgate.yml` to switch the code scanner off.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from gate.cli import cli

POLICIES = Path(__file__).resolve().parents[3] / "policies"
EVAL = "def calc(expr):\n    return eval(expr)\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True, capture_output=True,
    )


def _permissive() -> str:
    default = (POLICIES / "default.yml").read_text()
    return default.replace("  semgrep:\n    enabled: true", "  semgrep:\n    enabled: false")


def _scan(repo: Path, *extra: str) -> tuple[Result, dict[str, object]]:
    out = repo.parent / "verdict.json"
    result = CliRunner().invoke(cli, ["scan", str(repo), "--scanner", "semgrep",
                                      "--no-progress", "--json", str(out), *extra])
    return result, json.loads(out.read_text())


def _repo(tmp_path: Path, *, base_policy: bool) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("x = 1\n")
    if base_policy:
        (repo / "riskgate.yml").write_text((POLICIES / "default.yml").read_text())
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    # The change: a blocking finding, and a policy that would wave it through.
    (repo / "calc.py").write_text(EVAL)
    (repo / "riskgate.yml").write_text(_permissive())
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "change")
    return repo


def test_a_change_cannot_loosen_the_policy_it_is_judged_by(
    tmp_path: Path, semgrep_env: str
) -> None:
    repo = _repo(tmp_path, base_policy=True)
    assert "semgrep:\n    enabled: false" in (repo / "riskgate.yml").read_text()
    result, verdict = _scan(repo, "--baseline", "HEAD~1")
    assert result.exit_code == 1, result.output
    assert verdict["policy_source"] == "riskgate.yml at HEAD~1"
    # A full scan of the merged tree applies the tree's own policy (it is the base then).
    result, verdict = _scan(repo)
    assert result.exit_code == 0, result.output
    assert verdict["policy_source"] == str(repo / "riskgate.yml")


def test_a_policy_added_by_the_change_does_not_apply_to_it(
    tmp_path: Path, semgrep_env: str
) -> None:
    repo = _repo(tmp_path, base_policy=False)
    result, verdict = _scan(repo, "--baseline", "HEAD~1")
    assert result.exit_code == 1, result.output
    assert verdict["policy_source"] == "bundled:default.yml"


def test_a_named_policy_is_used_as_given(tmp_path: Path, semgrep_env: str) -> None:
    repo = _repo(tmp_path, base_policy=True)
    result, verdict = _scan(repo, "--baseline", "HEAD~1", "--policy", str(repo / "riskgate.yml"))
    assert result.exit_code == 0, result.output
    assert verdict["policy_source"] == str(repo / "riskgate.yml")
