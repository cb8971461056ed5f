"""The gate never runs code from the tree it scans: a real `gate scan` process, real pip-audit.

The scanned tree holds a package whose build backend writes a marker file, named every way a
requirements file or a project can name it, and a `pip` package that would shadow pip if
pip-audit ran with the tree as its working directory. After the scan no marker may exist and
each of those requirements is a `riskgate-dependency-not-audited` finding that blocks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

ADVISORIES = REPO_ROOT / "examples" / "advisories"
NOT_AUDITED = "riskgate-dependency-not-audited"


def _evil_tree(root: Path, marker: Path) -> None:
    """An in-tree package whose build backend (and a shadowing `pip`) writes `marker`."""
    evil = root / "evil"
    evil.mkdir(parents=True)
    write = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (evil / "backend.py").write_text(write)
    (evil / "setup.py").write_text(write)
    (evil / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "evil"\nversion = "1.0"\n'
    )
    (root / "pip").mkdir()
    (root / "pip" / "__init__.py").write_text(write)
    (root / "pip" / "__main__.py").write_text(write)
    (root / "setup.py").write_text(write)


def _gate_scan(root: Path, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str],
                                                                 dict[str, object]]:
    out = tmp_path / "verdict.json"
    env = {**os.environ, "PIP_NO_INDEX": "1", "GATE_SPOOL_DIR": str(tmp_path / "spool")}
    process = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "gate", "scan", str(root), "--scanner", "pip-audit",
         "--advisories", str(ADVISORIES), "--json", str(out), "--no-progress", *extra],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )
    assert out.is_file(), process.stderr
    return process, json.loads(out.read_text())


def _not_audited(verdict: dict[str, object]) -> dict[str, str]:
    findings = [entry["finding"] for entry in verdict["findings"]]  # type: ignore[attr-defined]
    assert all(entry["action"] == "block" for entry in verdict["findings"]  # type: ignore[attr-defined]
               if entry["finding"]["rule_id"] == NOT_AUDITED)
    return {f["location"]["package"]: f["message"] for f in findings if f["rule_id"] == NOT_AUDITED}


def test_requirements_naming_in_tree_code_are_reported_never_built(tmp_path: Path) -> None:
    root, marker = tmp_path / "tree", tmp_path / "marker"
    _evil_tree(root, marker)
    (root / "requirements.txt").write_text(
        "jinja2==2.10\n./evil\n-e ./evil\nevil @ file:./evil\n-r more.txt\n"
        "-c constraints.txt\n-r ../outside.txt\n-r requirements.txt\n"
    )
    (root / "more.txt").write_text("file:evil\ngit+https://example.invalid/evil.git#egg=evil\n"
                                   "evil/dist/evil-1.0.tar.gz\n")
    (root / "constraints.txt").write_text("./evil\n")
    (tmp_path / "outside.txt").write_text("flask==0.12\n")

    process, verdict = _gate_scan(root, tmp_path)

    assert not marker.exists(), marker.read_text()
    assert process.returncode == 1, process.stderr
    assert "Traceback" not in process.stderr
    reasons = _not_audited(verdict)
    assert set(reasons) == {
        "./evil", "evil", "file:evil", "git+https://example.invalid/evil.git#egg=evil",
        "evil/dist/evil-1.0.tar.gz", "../outside.txt", "requirements.txt",
    }
    assert "local path requirement" in reasons["./evil"]
    assert "VCS requirement" in reasons["git+https://example.invalid/evil.git#egg=evil"]
    assert "outside the scanned tree" in reasons["../outside.txt"]
    assert "include loop" in reasons["requirements.txt"]
    # the named pin beside them is still audited, against the offline advisories
    packages = {e["finding"]["location"]["package"] for e in verdict["findings"]}  # type: ignore[attr-defined]
    assert "jinja2" in packages


@pytest.mark.parametrize(
    ("files", "reported"),
    [
        ({"pyproject.toml": '[project]\nname = "app"\nversion = "1"\n'
                            'dependencies = ["jinja2==2.10", "evil @ file:./evil"]\n'}, "evil"),
        ({"pyproject.toml": '[project]\nname = "app"\nversion = "1"\n'
                            'dynamic = ["dependencies"]\n'}, "setup.py"),
        ({"setup.cfg": "[options]\ninstall_requires =\n    jinja2==2.10\n    ./evil\n"}, "./evil"),
    ],
)
def test_projects_are_read_statically_never_built(
    tmp_path: Path, files: dict[str, str], reported: str
) -> None:
    root, marker = tmp_path / "tree", tmp_path / "marker"
    _evil_tree(root, marker)
    for name, text in files.items():
        (root / name).write_text(text)

    process, verdict = _gate_scan(root, tmp_path)

    assert not marker.exists(), marker.read_text()
    assert process.returncode == 1, process.stderr
    assert reported in _not_audited(verdict)
