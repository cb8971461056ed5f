"""Policy discovery: --policy, then the target's riskgate.yml/.riskgate.yml, then [tool.riskgate]
in its pyproject.toml, then the bundled default; every report names the policy that applied."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gate.cli import cli
from gate.config import default_policy_path
from gate.errors import ConfigError, PolicyError
from gate.policy.discover import discover_policy, read_policy
from tests.conftest import FIXTURES, REPO_ROOT

WARN_ONLY_YAML = """\
version: 1
name: warn-only
rules:
  - name: warn-everything
    action: warn
    match: {}
"""
WARN_ONLY_TOML = """\
[project]
name = "demo"

[tool.ruff]
line-length = 100

[tool.riskgate]
version = 1
name = "warn-only"

[[tool.riskgate.rules]]
name = "warn-everything"
action = "warn"
match = {}
"""


def gate(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO_ROOT / "examples" / "vulnerable-app" / "requirements.txt", root)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def scan_import(root: Path, out: Path, *extra: str) -> Result:
    """A scan of `root` that evaluates a recorded pip-audit report (no scanner runs)."""
    report = FIXTURES / "pip-audit" / "vulnerable-app.json"
    return gate("scan", str(root), "--import", str(report), "--json", str(out / "v.json"),
                "--sarif", str(out / "v.sarif"), "--markdown", str(out / "v.md"),
                "--junit", str(out / "v.xml"), "--no-progress", *extra)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"riskgate.yml": WARN_ONLY_YAML}, "riskgate.yml"),
        ({".riskgate.yml": WARN_ONLY_YAML}, ".riskgate.yml"),
        ({"pyproject.toml": WARN_ONLY_TOML}, "pyproject.toml"),
        ({"riskgate.yml": WARN_ONLY_YAML, "pyproject.toml": WARN_ONLY_TOML}, "riskgate.yml"),
    ],
)
def test_the_targets_own_policy_applies(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    root = project(tmp_path, files)
    source = discover_policy(root)
    assert source.path == root / expected and not source.bundled
    assert read_policy(source.path).name == "warn-only"

    result = scan_import(root, tmp_path)
    assert result.exit_code == 0, result.output  # warn-only: the same findings no longer block
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert verdict["decision"] == "warn"
    assert verdict["policy_source"].startswith(str(root / expected))


def test_without_a_policy_of_its_own_the_bundled_default_applies(tmp_path: Path) -> None:
    root = project(tmp_path, {"pyproject.toml": '[project]\nname = "demo"\n'})
    source = discover_policy(root)
    assert source.bundled and source.path == default_policy_path()
    assert source.describe() == "bundled:default.yml"
    assert scan_import(root, tmp_path).exit_code == 1


def test_policy_option_wins_over_discovery(tmp_path: Path) -> None:
    root = project(tmp_path, {"riskgate.yml": WARN_ONLY_YAML})
    strict = REPO_ROOT / "policies" / "strict.yml"
    assert discover_policy(root, given=strict).path == strict
    assert scan_import(root, tmp_path, "--policy", str(strict)).exit_code == 1


def test_both_policy_files_is_a_configuration_error(tmp_path: Path) -> None:
    root = project(tmp_path, {"riskgate.yml": WARN_ONLY_YAML, ".riskgate.yml": WARN_ONLY_YAML})
    with pytest.raises(ConfigError, match="both exist"):
        discover_policy(root)
    assert scan_import(root, tmp_path).exit_code == 3


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ('[project]\nname = "demo"\n[tool.riskgate\n', ":3:", "invalid TOML"),
        (WARN_ONLY_TOML.replace('action = "warn"', 'action = "explode"'), ":13:", "action"),
        (WARN_ONLY_TOML + "\n[tool.riskgate.sla_days]\ncritcal = 3\n", ":17:", "critcal"),
        (WARN_ONLY_TOML.replace("version = 1", 'version = 1\nunknown_severty = "low"'), ":9:",
         "unknown key 'unknown_severty' (did you mean 'unknown_severity'?)"),
        (WARN_ONLY_TOML.replace('name = "warn-only"\n', ""), ":7:", "missing required key 'name'"),
    ],
)
def test_malformed_pyproject_policy_is_one_line_naming_file_and_line(
    tmp_path: Path, text: str, where: str, problem: str
) -> None:
    root = project(tmp_path, {"pyproject.toml": text})
    with pytest.raises(PolicyError) as caught:
        read_policy(discover_policy(root).path)
    message = str(caught.value)
    assert message.startswith(f"{root / 'pyproject.toml'}{where}") and problem in message
    assert "\n" not in message

    result = scan_import(root, tmp_path)
    assert result.exit_code == 3
    assert result.output.strip().splitlines() == [f"gate: error: {message}"]


def test_malformed_riskgate_yml_names_file_and_line(tmp_path: Path) -> None:
    root = project(tmp_path, {".riskgate.yml": WARN_ONLY_YAML.replace("action: warn", "action: x")})
    result = scan_import(root, tmp_path)
    assert result.exit_code == 3
    assert re.fullmatch(rf"gate: error: {re.escape(str(root / '.riskgate.yml'))}:5:\d+: .*\n",
                        result.output)


def test_policy_validate_reads_pyproject(tmp_path: Path) -> None:
    root = project(tmp_path, {"pyproject.toml": WARN_ONLY_TOML})
    result = gate("policy", "validate", str(root / "pyproject.toml"))
    assert result.exit_code == 0 and "ok (1 rules" in result.output


def test_every_report_names_the_policy_and_its_digest(tmp_path: Path) -> None:
    root = project(tmp_path, {"riskgate.yml": WARN_ONLY_YAML})
    result = scan_import(root, tmp_path)
    digest = read_policy(root / "riskgate.yml").digest
    source = str(root / "riskgate.yml")

    human = " ".join(result.output.split())
    assert f"Policy: {source} (sha256:{digest[:16]})" in human
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert (verdict["policy_source"], verdict["policy_digest"]) == (source, digest)
    markdown = (tmp_path / "v.md").read_text().replace("\\", "")  # markup is escaped
    assert f"Policy: {source} (sha256:{digest})" in markdown
    runs = json.loads((tmp_path / "v.sarif").read_text())["runs"]
    assert runs and all(
        run["properties"] == {"policy": source, "policyDigest": f"sha256:{digest}"} for run in runs
    )
    suites = ET.parse(tmp_path / "v.xml").getroot().findall("testsuite")  # noqa: S314 - ours
    assert suites and all(
        {p.get("name"): p.get("value") for p in suite.iter("property")}.get("policyDigest")
        == f"sha256:{digest}"
        for suite in suites
    )
