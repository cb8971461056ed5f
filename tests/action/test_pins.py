"""Supply chain of the action and its example workflows: every action pinned by full commit SHA
with its version in a comment, current runtimes, and semgrep installed at one exact version.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.action.local_runner import ACTION_FILE, REPO_ROOT

WORKFLOWS = REPO_ROOT / "examples" / "workflows"
PINNED_FILES = [ACTION_FILE, *sorted(WORKFLOWS.glob("*.yml"))]
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"^v\d+(\.\d+){0,2}$")
# The one reference that cannot be pinned here: riskgate itself, whose SHA is the reader's
# vetted release; the workflows say so in a comment.
PLACEHOLDER = "your-org/riskgate@v1"
# Oldest major version still on a supported runtime (node24 or node20).
MINIMUM_MAJOR = {"actions/checkout": 5, "actions/setup-python": 6, "actions/cache": 4,
                 "github/codeql-action/upload-sarif": 4}
SEMGREP_REQUIREMENTS = REPO_ROOT / "scripts" / "action" / "semgrep-requirements.txt"
SEMGREP_CONSTRAINTS = REPO_ROOT / "scripts" / "action" / "semgrep-constraints.txt"


def _uses_lines(path: Path) -> list[tuple[str, str | None]]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = USES.match(line)
        if match:
            found.append((match.group("ref"), match.group("comment")))
    return found


@pytest.mark.parametrize("path", PINNED_FILES, ids=lambda p: p.name)
def test_file_is_yaml_with_steps(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    assert _uses_lines(path), f"{path.name}: no uses: line found"


@pytest.mark.parametrize("path", PINNED_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_full_sha_with_its_version(path: Path) -> None:
    for ref, comment in _uses_lines(path):
        if ref == PLACEHOLDER:
            continue
        match = PINNED.match(ref)
        assert match, f"{path.name}: {ref} is not pinned by a full commit SHA"
        assert comment and VERSION_COMMENT.match(comment.strip()), (
            f"{path.name}: {ref} needs its version in a comment (# v1.2.3)")
        major = int(comment.strip()[1:].split(".")[0])
        assert major >= MINIMUM_MAJOR.get(match.group("action"), 0), f"{ref} # {comment}"


def test_the_same_action_has_the_same_pin_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in PINNED_FILES:
        for ref, comment in _uses_lines(path):
            if ref != PLACEHOLDER:
                action, sha = ref.split("@")
                pins.setdefault(action, set()).add(f"{sha} {comment}")
    assert all(len(found) == 1 for found in pins.values()), pins


def test_the_riskgate_placeholder_tells_readers_to_pin_it() -> None:
    text = (WORKFLOWS / "minimal.yml").read_text(encoding="utf-8")
    assert "full commit SHA" in text


def _pin() -> str:
    lines = [line for line in SEMGREP_REQUIREMENTS.read_text().splitlines()
             if line and not line.startswith("#")]
    assert len(lines) == 1
    match = re.fullmatch(r"semgrep==(\d+\.\d+\.\d+)", lines[0])
    assert match, f"semgrep must be pinned exactly: {lines[0]}"
    return match.group(1)


def test_semgrep_and_every_dependency_are_pinned_exactly() -> None:
    _pin()
    pins = [line for line in SEMGREP_CONSTRAINTS.read_text().splitlines()
            if line and not line.startswith("#")]
    assert len(pins) > 20
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9.+!-]+", pin) for pin in pins), pins
    assert not any(pin.lower().startswith("semgrep==") for pin in pins)
    install = (REPO_ROOT / "scripts" / "action" / "install.sh").read_text()
    assert "semgrep-requirements.txt" in install and "semgrep-constraints.txt" in install
    setup = (REPO_ROOT / "scripts" / "setup.sh").read_text()
    assert "semgrep-requirements.txt" in setup and "semgrep-constraints.txt" in setup


@pytest.mark.semgrep
def test_the_tests_run_the_semgrep_the_action_installs(semgrep_bin: str) -> None:
    version = subprocess.run([semgrep_bin, "--version"], capture_output=True, text=True,
                             check=True, timeout=120).stdout.strip()
    assert version == _pin()
