"""Run a scanner executable: find it, bound it by a timeout, and translate every failure.

A timeout really stops the tool: its process group, and any child that escaped the group
(`setsid`) yet carries the run's token or holds its output pipes, are killed (`reaper`), and
the gate waits at most `GRACE_SECONDS` more for the pipes to close.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from gate.config import REPO_ROOT
from gate.errors import ScannerError
from gate.scanners.reaper import MARKER_VARIABLE, kill_run, pipe_inode

TOOLS_DIR = REPO_ROOT / ".tools"
GRACE_SECONDS = 5.0


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
    token = uuid.uuid4().hex
    try:
        process = subprocess.Popen(  # noqa: S603 - argv is built by us, never a shell string
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {}), MARKER_VARIABLE: token},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise ScannerError(name, f"cannot start {argv[0]}: {exc.strerror or exc}") from exc
    pipes = [pipe_inode(stream.fileno()) for stream in (process.stdout, process.stderr) if stream]
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _stop(process, token=token, pipes=pipes)
        raise ScannerError(name, f"timed out after {timeout:g} s and was stopped") from exc
    kill_run(group=None, token=token, pipes=())  # nothing it started may outlive it
    return ToolResult(returncode=process.returncode, stdout=stdout, stderr=stderr)


def _stop(process: subprocess.Popen[bytes], *, token: str, pipes: list[int]) -> None:
    """Kill the tool and everything it started (semgrep forks workers; a child may setsid)."""
    kill_run(group=process.pid, token=token, pipes=pipes)
    try:
        process.communicate(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:  # a holder we could not see: stop reading
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
        process.wait()


def last_line(stderr: bytes, *, limit: int = 300) -> str:
    """The last non-empty line of a tool's stderr, shortened, for one-line error messages."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    text = next((line for line in reversed(lines) if line), "no error output")
    return text if len(text) <= limit else text[: limit - 1] + "…"
