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
from gate.report.sarif import render_sarif
from gate.report.text import render_text, summary_line
from gate.spool import SpoolError, spool_verdict, spooled_where

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
    if options.get("register_url") and not options.get("token"):
        raise ConfigError("--register needs --token (or GATE_TOKEN)")
    interactive = sys.stderr.isatty()
    show_progress = interactive if options["progress"] is None else options["progress"]
    with ExitStack() as stack:
        sink: ProgressSink | None = None
        if show_progress:
            sink = stack.enter_context(LiveProgress()) if interactive else LineProgress()
        verdict = run_gate(config, progress=sink)
    write_reports(verdict, options)
    print_verdict(verdict, options)
    register_code = send_to_register(verdict, options)
    return verdict.exit_code or register_code


def write_reports(verdict: Verdict, options: dict[str, Any]) -> None:
    """Write each report file named by an option; '-' means standard output."""
    for option, fmt in FILE_OPTIONS.items():
        destination = options.get(option)
        if destination is None:
            continue
        text = _report(fmt, verdict, options)
        if str(destination) == "-":
            click.echo(text, nl=not text.endswith("\n"))
            continue
        _write_atomically(Path(destination), text)


def _report(fmt: str, verdict: Verdict, options: dict[str, Any]) -> str:
    if fmt == "sarif" and not options.get("sarif_absent", True):
        return render_sarif(verdict, absent=False)
    return render(fmt, verdict)


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file so a reader never sees half a report."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        raise GateError(f"{path}: cannot write report: {exc.strerror or exc}") from exc


def print_verdict(verdict: Verdict, options: dict[str, Any]) -> None:
    """Print the `--format` report (the human one by default), or write it to `--output`."""
    fmt = options.get("stdout_format") or "text"
    verbosity = options.get("verbose", 0) - options.get("quiet", 0)
    width = shutil.get_terminal_size((80, 24)).columns  # COLUMNS, the terminal, else 80
    output = options.get("output")
    if output is not None:
        plain = render_text(verdict, color=False, width=width, verbosity=max(verbosity, 0))
        _write_atomically(Path(output), plain if fmt == "text" else _report(fmt, verdict, options))
        click.echo(summary_line(verdict))
        return
    if fmt == "text":
        color = use_color()
        text = render_text(verdict, color=color, width=width, verbosity=verbosity)
        click.echo(text, nl=False, color=color)  # click strips escapes off a TTY unless told
        return
    text = _report(fmt, verdict, options)
    click.echo(text, nl=not text.endswith("\n"))


def use_color() -> bool:
    """NO_COLOR (non-empty) turns colour off, FORCE_COLOR (non-empty, not 0) on; else a TTY."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "").lower() not in ("", "0", "false"):
        return True
    return sys.stdout.isatty()


def send_to_register(verdict: Verdict, options: dict[str, Any]) -> int:
    """Record locally and/or upload; return 0, or the exit code of a refused upload.

    An unreachable database or service spools the run and changes nothing; a service that
    refuses the upload (bad token, rejected body) spools it too, and the refusal's exit code
    is used when the verdict itself passed, so a misconfigured pipeline does not stay green.
    When even the spool cannot take the run (a full disk), it says where the verdict still is.
    """
    try:
        return _send(verdict, options)
    except SpoolError as exc:
        json_out = options.get("json_out")
        if json_out and str(json_out) != "-":
            kept = f"the verdict is kept in {json_out} (later: gate register record {json_out})"
            click.echo(f"gate: register: error: {exc}; {kept}", err=True)
        else:
            click.echo(f"gate: register: error: {exc}; the verdict follows as JSON", err=True)
            click.echo(verdict.model_dump_json(), err=True)
        return exc.exit_code


def _send(verdict: Verdict, options: dict[str, Any]) -> int:
    spool_dir = Path(os.environ.get("GATE_SPOOL_DIR", DEFAULT_SPOOL_DIR))
    if options.get("record"):
        from gate.recording_sink import record_verdict

        outcome = record_verdict(verdict, database_url=options.get("database"), spool_dir=spool_dir)
        click.echo(f"gate: register: {outcome.message}", err=True)
    if not options.get("upload_url"):
        return 0
    from gate.upload import runs_endpoint, upload_verdict

    url = options["upload_url"]
    try:
        uploaded = upload_verdict(verdict, url=url, token=options["token"], spool_dir=spool_dir)
    except GateError as exc:
        path = spool_verdict(
            verdict, spool_dir=spool_dir, destination=runs_endpoint(url), kind="upload",
            reason=str(exc),
        )
        click.echo(f"gate: upload: error: {exc}; spooled to {spooled_where(path, spool_dir)}",
                   err=True)
        return exc.exit_code
    click.echo(f"gate: upload: {uploaded.message}", err=True)
    return 0
