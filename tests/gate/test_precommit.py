"""`gate pre-commit`: semgrep on the staged files only, with the repository's policy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gate.cli import cli
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.semgrep


@pytest.fixture()
def repo(tmp_path: Path, semgrep_env: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "bad.py").write_text("import os\n\ndef run(cmd):\n    os.system(cmd)\n")
    (tmp_path / "good.py").write_text("def add(a, b):\n    return a + b\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_only_the_staged_files_are_scanned(repo: Path) -> None:
    clean = CliRunner().invoke(cli, ["pre-commit", "good.py"])
    assert clean.exit_code == 0, clean.output
    assert clean.output.startswith("PASS")

    flawed = CliRunner().invoke(cli, ["pre-commit", "good.py", "bad.py"])
    assert flawed.exit_code == 1
    assert "python-os-command-injection" in flawed.output and "bad.py:4" in flawed.output


def test_the_repositorys_policy_applies(repo: Path) -> None:
    (repo / ".riskgate.yml").write_text(
        "version: 1\nname: lenient\nrules:\n  - {name: warn-all, action: warn, match: {}}\n"
    )
    result = CliRunner().invoke(cli, ["pre-commit", "bad.py"])
    assert result.exit_code == 0 and "WARN" in result.output


def test_no_files_is_a_pass_without_scanning(repo: Path) -> None:
    assert CliRunner().invoke(cli, ["pre-commit"]).exit_code == 0


def test_hook_definition_calls_the_command() -> None:
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [hook["id"] for hook in hooks] == ["riskgate"]
    assert hooks[0]["entry"] == "gate pre-commit" and hooks[0]["language"] == "python"
