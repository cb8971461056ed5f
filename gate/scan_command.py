"""The body of `gate scan`: run the gate, write every report asked for, record, upload.

Kept out of `gate.cli` so the click layer stays a thin list of options.
"""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from gate.errors import ConfigError, GateError
from gate.models import Verdict
from gate.pipeline import run_gate
from gate.progress import LineProgress, LiveProgress, ProgressSink
from gate.report import render
from gate.report.text import render_text

FILE_OPTIONS = {
    "json_out": "json",
    "sarif_out": "sarif",
    "markdown_out": "markdown",
    "junit_out": "junit",
    "github_out": "github",
}
DEFAULT_SPOOL_DIR = Path(".riskgate") / "spool"


def execute_scan(options: dict[str, Any]) -> int:
    """Run `gate scan` with parsed options; return the exit code."""
    from gate.cli import build_config

    config = build_config(options)
    if options.get("upload_url") and not options.get("token"):
        raise ConfigError("--upload needs --token (or GATE_TOKEN)")
    interactive = sys.stderr.isatty()
    show_progress = interactive if options["progress"] is None else options["progress"]
    with ExitStack() as stack:
        sink: ProgressSink | None = None
        if show_progress:
            sink = stack.enter_context(LiveProgress()) if interactive else LineProgress()
        verdict = run_gate(config, progress=sink)
    write_reports(verdict, options)
    print_verdict(verdict, options.get("stdout_format"))
    send_to_register(verdict, options)
    return verdict.exit_code


def write_reports(verdict: Verdict, options: dict[str, Any]) -> None:
    """Write each report file named by an option; '-' means standard output."""
    for option, fmt in FILE_OPTIONS.items():
        destination = options.get(option)
        if destination is None:
            continue
        text = render(fmt, verdict)
        if str(destination) == "-":
            click.echo(text, nl=not text.endswith("\n"))
            continue
        _write_atomically(Path(destination), text)


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file so a reader never sees half a report."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        raise GateError(f"{path}: cannot write report: {exc.strerror or exc}") from exc


def print_verdict(verdict: Verdict, fmt: str | None) -> None:
    """Print the verdict: the human table by default, or the format asked for."""
    if fmt in (None, "text"):
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        width = shutil.get_terminal_size((120, 40)).columns if sys.stdout.isatty() else 120
        click.echo(render_text(verdict, color=color, width=width), nl=False)
        return
    text = render(fmt, verdict)
    click.echo(text, nl=not text.endswith("\n"))


def send_to_register(verdict: Verdict, options: dict[str, Any]) -> None:
    """Record locally and/or upload; failures spool the run and never change the exit code."""
    spool_dir = Path(os.environ.get("GATE_SPOOL_DIR", DEFAULT_SPOOL_DIR))
    if options.get("record"):
        from gate.recording_sink import record_verdict

        outcome = record_verdict(verdict, database_url=options.get("database"), spool_dir=spool_dir)
        click.echo(f"gate: register: {outcome.message}", err=True)
    if options.get("upload_url"):
        from gate.upload import upload_verdict

        uploaded = upload_verdict(
            verdict, url=options["upload_url"], token=options["token"], spool_dir=spool_dir
        )
        click.echo(f"gate: upload: {uploaded.message}", err=True)
