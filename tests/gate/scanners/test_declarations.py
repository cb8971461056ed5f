"""Dependency findings point at the manifest line that declares their package."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gate.cli import cli
from gate.models import Finding, FindingKind, Location
from gate.scanners.declarations import declaration_lines, with_declaration_lines
from tests.conftest import REPO_ROOT

REQUIREMENTS = """\
# Pinned for production. flask==0.1 in a comment declares nothing.
--index-url https://pypi.org/simple

Jinja2==2.10 \\
    --hash=sha256:abc
PyYAML >= 5.3 ; python_version >= "3.8"
requests[socks]==2.19.0
-r base.txt
salt @ https://example.com/salt-3000.tar.gz
"""

PYPROJECT = """\
[build-system]
requires = ["setuptools>=77", "wheel"]

[project]
name = "demo"
version = "1.0"
requires-python = ">=3.11"
dependencies = [
  "flask==0.12.2",
  'requests>=2',
  "setuptools>=60",
]

[project.optional-dependencies]
dev = ["pytest>=8", "PyYAML==5.3"]

[tool.poetry.dependencies]
jinja2 = "^2.10"
"""

POETRY_LOCK = """\
[[package]]
name = "click"
version = "8.1.7"

[package.dependencies]
flask = ">=1"

[[package]]
name = "Flask"
version = "0.12.2"
"""

PIPFILE_LOCK = """\
{
    "default": {
        "flask": {
            "hashes": [],
            "version": "==0.12.2"
        }
    }
}
"""


def test_requirement_lines_are_found_whatever_their_form() -> None:
    lines = declaration_lines(REQUIREMENTS)
    assert lines == {"jinja2": 4, "pyyaml": 6, "requests": 7, "salt": 9}


def test_pyproject_dependencies_win_over_build_requirements() -> None:
    lines = declaration_lines(PYPROJECT)
    assert lines["flask"] == 9
    assert lines["requests"] == 10
    assert lines["setuptools"] == 11  # the project's own dependency, not [build-system]
    assert lines["wheel"] == 2
    assert lines["pytest"] == lines["pyyaml"] == 15
    assert lines["jinja2"] == 18
    assert not {"name", "version", "requires-python", "dev", "dependencies"} & set(lines)


def test_lock_files_point_at_the_package_entry_not_its_dependents() -> None:
    assert declaration_lines(POETRY_LOCK) == {"click": 2, "flask": 9}
    assert declaration_lines(PIPFILE_LOCK) == {"flask": 3}


def _finding(package: str, manifest: str | None) -> Finding:
    return Finding(
        kind=FindingKind.DEPENDENCY, scanner="pip-audit", rule_id="PYSEC-1", title="t",
        fingerprint=f"fp-{package}", location=Location(package=package, version="1",
                                                       manifest=manifest),
    )


def test_findings_get_the_line_of_their_manifest(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    findings = [_finding("pyyaml", "requirements.txt"), _finding("idna", "requirements.txt"),
                _finding("jinja2", None)]
    moved = with_declaration_lines(findings, root=tmp_path)
    assert (moved[0].location.start_line, moved[0].location.end_line) == (6, 6)
    assert moved[0].fingerprint == findings[0].fingerprint
    assert moved[1] == findings[1]  # transitive: the manifest never names it
    assert moved[2] == findings[2]  # no manifest


@pytest.mark.parametrize("manifest", ["../outside.txt", "/etc/hostname", "missing.txt"])
def test_manifests_outside_the_tree_or_missing_are_never_read(tmp_path: Path,
                                                              manifest: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("idna==2.0\n", encoding="utf-8")
    finding = _finding("idna", manifest)
    assert with_declaration_lines([finding], root=root) == [finding]


@pytest.mark.semgrep
def test_sarif_of_the_example_points_each_dependency_at_its_pin(
    tmp_path: Path, semgrep_env: str
) -> None:
    """End to end: every pip-audit result of the vulnerable app sits on its package's line."""
    app = tmp_path / "app"
    shutil.copytree(REPO_ROOT / "examples" / "vulnerable-app", app)
    sarif = tmp_path / "out.sarif"
    result = CliRunner().invoke(cli, [
        "scan", str(app), "--advisories", str(REPO_ROOT / "examples" / "advisories"),
        "--scanner", "pip-audit", "--sarif", str(sarif), "--no-progress",
    ])
    assert result.exit_code == 1, result.output
    pins = {line.split("==")[0]: number for number, line in enumerate(
        (app / "requirements.txt").read_text().splitlines(), start=1) if "==" in line}
    (run,) = json.loads(sarif.read_text())["runs"]
    assert len(run["results"]) > 30
    for item in run["results"]:
        region = item["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] == pins[item["properties"]["package"]], item["ruleId"]
