"""Run a scanner executable: find it, bound it by a timeout, and translate every failure."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gate.config import REPO_ROOT
from gate.errors import ScannerError

TOOLS_DIR = REPO_ROOT / ".tools"


@dataclass(frozen=True, kw_only=True)
class ToolResult:
    """What a finished tool printed and how it exited."""

    returncode: int
    stdout: bytes
    stderr: bytes


def find_executable(name: str, *, setting: str, install_hint: str | None = None) -> str:
    """Locate a tool: the `setting` variable, PATH, beside our Python, then `.tools/<name>/`.

    The last place is where `scripts/setup.sh` installs tools that need a venv of their own.
    `install_hint` ends the error message when the tool is nowhere.
    """
    configured = os.environ.get(setting)
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ScannerError(name, f"{setting}={configured} is not an executable file")
    found = shutil.which(name)
    if found:
        return found
    for candidate in (Path(sys.executable).parent / name, TOOLS_DIR / name / "bin" / name):
        if candidate.is_file():
            return str(candidate)
    hint = install_hint or "install it"
    raise ScannerError(name, f"executable not found on PATH ({hint}, or set {setting})")


def run_tool(
    name: str,
    argv: list[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> ToolResult:
    """Run argv; raise `ScannerError` when it cannot start or outlives its timeout."""
    try:
        process = subprocess.Popen(  # noqa: S603 - argv is built by us, never a shell string
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise ScannerError(name, f"cannot start {argv[0]}: {exc.strerror or exc}") from exc
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_group(process)
        raise ScannerError(name, f"timed out after {timeout:g} s and was stopped") from exc
    return ToolResult(returncode=process.returncode, stdout=stdout, stderr=stderr)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the tool and every child it started (semgrep forks workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def last_line(stderr: bytes, *, limit: int = 300) -> str:
    """The last non-empty line of a tool's stderr, shortened, for one-line error messages."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    text = next((line for line in reversed(lines) if line), "no error output")
    return text if len(text) <= limit else text[: limit - 1] + "…"
