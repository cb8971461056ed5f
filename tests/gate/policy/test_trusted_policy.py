"""A change under review is judged by the policy it merges into, not by the one it brings.

Real git repositories and real semgrep: the pull request adds a blocking finding and, in the
same change, rewrites (or adds) `riskgate.yml` to switch the code scanner off.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from gate.cli import cli
from tests.conftest import REPO_ROOT

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


def test_a_named_policy_inside_the_tree_is_read_at_the_baseline_too(
    tmp_path: Path, semgrep_env: str
) -> None:
    """The Action's `policy:` input names a file of the repository: the change's own edit of
    that file does not judge it either."""
    repo = _repo(tmp_path, base_policy=True)
    named = repo / "riskgate.yml"
    result, verdict = _scan(repo, "--baseline", "HEAD~1", "--policy", str(named))
    assert result.exit_code == 1, result.output
    assert verdict["policy_source"] == f"{named} at HEAD~1"

    added = repo / "ci-policy.yml"  # a policy file the next change brings, with a new flaw
    added.write_text(_permissive())
    (repo / "calc2.py").write_text(EVAL.replace("calc", "calc2"))
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "a new permissive policy")
    result, verdict = _scan(repo, "--baseline", "HEAD~1", "--policy", str(added))
    assert result.exit_code == 1, result.output
    assert verdict["policy_source"] == f"bundled:default.yml ({added} is not at HEAD~1)"


def test_a_named_policy_outside_the_tree_is_used_as_given(
    tmp_path: Path, semgrep_env: str
) -> None:
    repo = _repo(tmp_path, base_policy=True)
    outside = tmp_path / "central-policy.yml"
    outside.write_text(_permissive())
    result, verdict = _scan(repo, "--baseline", "HEAD~1", "--policy", str(outside))
    assert result.exit_code == 0, result.output
    assert verdict["policy_source"] == str(outside)


def test_relative_paths_of_the_baseline_policy_point_into_the_tree(tmp_path: Path) -> None:
    """`enrichment.advisories: data` means the tree's `data/`, also when the policy is read
    as committed at the baseline (it used to point into a temporary copy: exit 3)."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "examples" / "advisories", repo / "data")
    (repo / "requirements.txt").write_text("click==8.1.7\n")
    (repo / "riskgate.yml").write_text(
        "version: 1\nname: t\nenrichment:\n  advisories: data\nrules:\n"
        "  - {name: block-all, action: block, match: {kind: dependency}}\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    (repo / "requirements.txt").write_text("click==8.1.7\njinja2==2.10\n")
    _git(repo, "commit", "-qam", "a vulnerable pin")
    out = tmp_path / "verdict.json"
    result = CliRunner().invoke(cli, ["scan", str(repo), "--scanner", "pip-audit",
                                      "--baseline", "HEAD~1", "--no-progress", "--json", str(out)])
    assert result.exit_code == 1, result.output
    verdict = json.loads(out.read_text())
    assert verdict["policy_source"] == "riskgate.yml at HEAD~1"
    assert sorted(item["action"] for item in verdict["findings"]) == ["block", "block"]


def test_a_named_policy_the_change_turns_into_a_link_out_of_the_tree_is_still_the_baselines(
    tmp_path: Path, semgrep_env: str
) -> None:
    repo = _repo(tmp_path, base_policy=True)
    outside = tmp_path / "outside.yml"
    outside.write_text(_permissive())
    named = repo / "riskgate.yml"
    named.unlink()
    named.symlink_to(outside)  # resolves outside the tree, but lies in it
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "the policy, now a link")
    (repo / "calc3.py").write_text(EVAL.replace("calc", "calc3"))
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "a new flaw")
    base = "HEAD~3"  # the base commit: its riskgate.yml is the default policy
    result, verdict = _scan(repo, "--baseline", base, "--policy", str(named))
    assert result.exit_code == 1, result.output
    assert verdict["policy_source"] == f"{named} at {base}"
