"""`gate pre-commit FILE...`: the fast path for staged files, run by the pre-commit framework.

Only semgrep runs, only on the files given (relative to the repository root, which is where
pre-commit runs hooks); the policy is the repository's own (see `gate.policy.discover`). The
verdict's exit code is the hook's: 1 blocks the commit.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import click

from gate.config import GateConfig
from gate.models import Decision
from gate.pipeline import run_gate
from gate.report.text import render_text, summary_line


def run_pre_commit(
    files: Sequence[Path], *, policy_path: Path | None, root: Path = Path(".")
) -> int:
    """Scan `files` under `root`; print the report unless it passed; return the exit code."""
    base = root.resolve()
    only = frozenset(
        Path(file).resolve().relative_to(base).as_posix()
        for file in files
        if Path(file).resolve().is_relative_to(base)
    )
    if not only:
        return 0
    config = GateConfig(target=root, policy_path=policy_path, scanners=("semgrep",), only=only)
    verdict = run_gate(config)
    if verdict.decision is Decision.PASS:
        click.echo(summary_line(verdict))
    else:
        width = shutil.get_terminal_size((80, 24)).columns
        click.echo(render_text(verdict, color=False, width=width), nl=False)
    return verdict.exit_code
