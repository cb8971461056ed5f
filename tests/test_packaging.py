"""The built wheel works outside the checkout: policies, schema and rule pack ship inside it.

A real wheel is built from a copy of the repository (pip, setuptools with build isolation) and
installed into a fresh venv in a temporary directory. Its dependencies come from the test venv
(a path entry, not an install) so the test runs offline; `.ci/run` does the full install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from gate.cli import cli
from tests.conftest import REPO_ROOT, require

pytestmark = [pytest.mark.slow, pytest.mark.semgrep]

EXAMPLES = REPO_ROOT / "examples"
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", ".tools", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
    ".riskgate", "test-output", "tests", "bench",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built by pip from a copy of the checkout (the checkout stays untouched)."""
    source = tmp_path_factory.mktemp("source") / "riskgate"
    shutil.copytree(REPO_ROOT, source, ignore=NOT_SOURCES, symlinks=True)
    out = tmp_path_factory.mktemp("wheelhouse")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        capture_output=True, text=True, check=False, timeout=600,
    )
    last = (built.stderr.strip().splitlines() or ["no output"])[-1]
    require(built.returncode == 0, f"cannot build the wheel (PyPI needed for setuptools): {last}")
    return next(out.glob("riskgate-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with the wheel installed; returns its bin/ folder."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         str(wheel)], check=True, capture_output=True,
    )
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    # Dependencies from the test venv; its editable riskgate is a .pth that this does not run.
    Path(site, "deps-from-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip-audit's console script is what a dependency install would have put beside `gate`.
    (venv / "bin" / "pip-audit").symlink_to(Path(sysconfig.get_paths()["scripts"], "pip-audit"))
    return venv / "bin"


def _run(
    bin_dir: Path, *args: str, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a command of the fresh venv with none of this session's GATE_/PYTHON settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GATE_", "PYTHON"))}
    clean["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    return subprocess.run([*args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True,
                          check=False, timeout=600)


def test_wheel_carries_policies_rules_and_licence(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    policies = REPO_ROOT / "policies"
    expected = [p.relative_to(policies).as_posix() for p in (
        *policies.glob("*.yml"), policies / "policy.schema.json",
        *policies.glob("examples/*.yml"), *policies.glob("semgrep/*.yml"))]
    assert expected and all(f"gate/_bundled/{name}" in names for name in expected)
    # semgrep's test targets are deliberately vulnerable Python: they stay in the repository.
    assert not [n for n in names if n.startswith("gate/_bundled/") and n.endswith(".py")]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: Apache-2.0" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_installed_gate_scans_like_the_checkout(
    installed: Path, semgrep_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "elsewhere"
    shutil.copytree(EXAMPLES / "vulnerable-app", work / "app")
    shutil.copytree(EXAMPLES / "advisories", work / "advisories")
    kev = EXAMPLES / "kev" / "known_exploited_vulnerabilities.json"
    where = _run(installed, "python", "-c", "import gate.config as c; print(c.policies_dir())",
                 cwd=work, env={})
    assert where.stdout.strip().startswith(str(installed.parent)), where

    args = ["app", "--advisories", "advisories", "--kev", str(kev), "--no-progress"]
    outside = _run(installed, "gate", "scan", *args, "--json", "outside.json", cwd=work,
                   env={"GATE_SEMGREP_BIN": semgrep_bin})
    assert outside.returncode == 1, outside.stderr

    monkeypatch.chdir(work)
    monkeypatch.setenv("GATE_SEMGREP_BIN", semgrep_bin)
    checkout = CliRunner().invoke(cli, ["scan", *args, "--json", "checkout.json"])
    assert checkout.exit_code == 1, checkout.output

    def fingerprints(name: str) -> list[str]:
        verdict = json.loads((work / name).read_text())
        return sorted(e["finding"]["fingerprint"] for e in verdict["findings"])

    assert fingerprints("outside.json") == fingerprints("checkout.json")
    assert len(fingerprints("outside.json")) > 10


def test_missing_semgrep_says_how_to_install_it(installed: Path, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "clean-app", tmp_path / "app")
    result = _run(installed, "gate", "scan", "app", "--advisories",
                  str(EXAMPLES / "advisories"), "--json", "v.json", "--no-progress",
                  cwd=tmp_path, env={})
    assert result.returncode == 2, result.stdout + result.stderr
    verdict = json.loads((tmp_path / "v.json").read_text())
    reasons = [reason for reason in verdict["reasons"] if reason.startswith("semgrep failed")]
    assert len(reasons) == 1, verdict["reasons"]
    assert "pipx install semgrep" in reasons[0] and "uv tool install semgrep" in reasons[0]
    assert "GATE_SEMGREP_BIN" in reasons[0]
