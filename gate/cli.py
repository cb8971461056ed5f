"""The `gate` command line: parse options, build a config, call the core, print, exit.

Exit codes: 0 pass (warnings allowed), 1 blocked by policy, 2 scanner or runtime failure,
3 invalid policy or configuration, including usage errors. Every path ends in one line on
stderr: the group's `main` maps usage errors to 3 and any unexpected exception to 2 (the
traceback only with `--debug` or `GATE_DEBUG=1`). `register`, `db` and `serve` load lazily so
that a plain `gate scan` never imports the register or the web stack.
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from gate import __version__
from gate.config import GateConfig
from gate.errors import GateError
from gate.models import Severity

F = TypeVar("F", bound=Callable[..., Any])
USAGE_EXIT = 3
RUNTIME_EXIT = 2
INTERRUPTED_EXIT = 130
MAX_TIMEOUT = 86_400
DEBUG_FLAG = "--debug"
_DEBUG = {"on": False}  # set by the group's --debug option for this invocation
CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "auto_envvar_prefix": "GATE",  # every option: GATE_<COMMAND>_<OPTION>
    "show_default": True,
    "max_content_width": 100,
}
SCAN_EXAMPLES = """\b
Examples:
  gate scan                                   # this directory, its own policy if it has one
  gate scan app -f sarif -o riskgate.sarif    # SARIF to a file, a summary line on stdout
  gate scan --fail-on high -q                 # also block anything high or worse; verdict only
  gate scan --baseline origin/main -v         # block only what is new; list existing too
  gate scan --advisories vulns/ --json v.json # offline advisories; full verdict as JSON
"""

LAZY_COMMANDS = {
    "advisories": "gate.advisories.cli:advisories_group",
    "register": "register.cli:register_group",
    "db": "register.cli:db_group",
    "serve": "register.web.cli:serve_command",
}


class LazyGroup(click.Group):
    """A click group whose heavier sub-commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def main(
        self, args: Sequence[str] | None = None, prog_name: str | None = None,
        complete_var: str | None = None, standalone_mode: bool = True, **extra: Any,
    ) -> Any:
        """Run the CLI; every failure ends in one line and its documented exit code."""
        _DEBUG["on"] = False
        run = functools.partial(super().main, args, prog_name, complete_var,
                                standalone_mode=False, **extra)
        if not standalone_mode:
            return run()
        try:
            code: Any = run()
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "gate"
            click.echo(f"{command}: error: {exc.format_message().rstrip('.')} "
                       f"(see '{command} --help')",
                       err=True)
            sys.exit(USAGE_EXIT)
        except click.ClickException as exc:  # e.g. a file click itself could not open
            click.echo(f"gate: error: {exc.format_message()}", err=True)
            sys.exit(USAGE_EXIT)
        except click.Abort:
            click.echo("gate: interrupted", err=True)
            sys.exit(INTERRUPTED_EXIT)
        except GateError as exc:
            click.echo(f"gate: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - the last resort: one line, fail closed
            _report_unexpected(exc)
            sys.exit(RUNTIME_EXIT)
        sys.exit(code if isinstance(code, int) else 0)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attribute = LAZY_COMMANDS[cmd_name].split(":")
            found = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(found, click.Command)  # noqa: S101 - a programming error
            command: click.Command | None = found
        else:
            command = super().get_command(ctx, cmd_name)
        if command is not None:
            name_envvars(command, prefix=f"GATE_{cmd_name.upper()}")
        return command


def name_envvars(command: click.Command, *, prefix: str) -> None:
    """Give every option without one an environment variable named after its long flag.

    `gate scan --fail-on` reads GATE_SCAN_FAIL_ON (click's own automatic names follow the
    Python parameter, e.g. STDOUT_FORMAT, which users never see). Help texts show them.
    """
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            longs = [opt for opt in param.opts if opt.startswith("--")]
            if param.envvar is None and longs:
                param.envvar = f"{prefix}_{longs[0][2:].replace('-', '_').upper()}"
            param.show_envvar = True
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            name_envvars(sub, prefix=f"{prefix}_{name.upper().replace('-', '_')}")


def _report_unexpected(exc: BaseException) -> None:
    if _debug():
        traceback.print_exception(exc)
    message = str(exc).splitlines()[0] if str(exc) else ""
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    click.echo(f"gate: internal error: {detail} (run with --debug for the traceback)", err=True)


def _debug() -> bool:
    return _DEBUG["on"] or os.environ.get("GATE_DEBUG", "") not in ("", "0")


def _enable_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    del ctx, param
    _DEBUG["on"] = _DEBUG["on"] or value


def positive_seconds(
    ctx: click.Context, param: click.Parameter, value: float | None
) -> float | None:
    """A timeout: a finite number of seconds above 0, at most a day (else a usage error)."""
    del ctx
    if value is not None and not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise click.BadParameter(
            f"{value:g} is not a number of seconds above 0 and at most {MAX_TIMEOUT}",
            param=param,
        )
    return value


def handle_errors(func: F) -> F:
    """Turn a `GateError` into one line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GateError as exc:
            click.echo(f"gate: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="riskgate")
@click.option(DEBUG_FLAG, is_flag=True, expose_value=False, is_eager=True, callback=_enable_debug,
              help="Show the traceback of a crash.")
def cli() -> None:
    """riskgate: a CI security gate and risk register.

    Every option can also be set in the environment: GATE_<COMMAND>_<OPTION>, for example
    GATE_SCAN_FAIL_ON=high or GATE_SCAN_FORMAT=sarif (each command's help names them; a few
    have their own, such as GATE_TOKEN). Exit codes: 0 pass, 1 blocked, 2 scanner or
    runtime failure, 3 invalid policy, configuration or usage.
    """


REPORT_OPTIONS = ("json", "sarif", "markdown", "junit", "text", "github")
FAIL_ON = ("critical", "high", "medium", "low", "info")


@cli.command(epilog=SCAN_EXAMPLES)
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--policy", "policy_path", type=click.Path(path_type=Path),
              help="Policy YAML, or a pyproject.toml with [tool.riskgate] (default: PATH's "
              "riskgate.yml or .riskgate.yml, else [tool.riskgate] in PATH/pyproject.toml, "
              "else the bundled default).")
@click.option("--scanner", "scanners", multiple=True, type=click.Choice(["pip-audit", "semgrep"]),
              help="Run only these scanners (a partial scan never auto-fixes register entries).")
@click.option("--import", "imports", multiple=True, type=click.Path(path_type=Path),
              help="Evaluate existing reports (pip-audit JSON, semgrep JSON, SARIF) instead.")
@click.option(
    "--advisories", type=click.Path(path_type=Path),
    help="Offline OSV data: a directory of records or OSV's export .zip.",
)
@click.option("--kev", type=click.Path(path_type=Path), help="CISA KEV catalog JSON.")
@click.option("--epss", type=click.Path(path_type=Path), help="EPSS scores CSV.")
@click.option("-r", "--requirement", "requirements", multiple=True,
              type=click.Path(path_type=Path),
              help="Manifest(s) for pip-audit: requirements or lock files (default: every "
                   "manifest in scope below the target).")
@click.option("--pip-audit-service", type=click.Choice(["osv", "pypi"]), help="Live service.")
@click.option("--semgrep-config", "semgrep_configs", multiple=True,
              help="Extra semgrep config(s) besides riskgate's rules.")
@click.option("--baseline", "baseline_ref", help="Block only findings new since this git ref.")
@click.option("--timeout", type=float, callback=positive_seconds,
              help="Per-scanner timeout in seconds (above 0, at most a day).")
@click.option("--project", help="Project name for the register (default: directory name).")
@click.option("--commit", help="Commit being scanned (default: $GITHUB_SHA or git HEAD).")
@click.option("--branch", help="Branch being scanned (default: the CI's or git's branch); "
              "full scans of a branch auto-fix that branch's register entries.")
@click.option("-f", "--format", "stdout_format", type=click.Choice(REPORT_OPTIONS),
              default="text", help="Report format for standard output or --output.")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path),
              help="Write the --format report to this file instead of standard output "
              "(a one-line summary still prints).")
@click.option("--fail-on", type=click.Choice(FAIL_ON, case_sensitive=False),
              help="Also block every finding of this severity or worse (ignores and baseline "
              "still apply; unknown severity counts as the policy's unknown_severity).")
@click.option("-v", "--verbose", count=True, help="More detail per finding (-v).")
@click.option("-q", "--quiet", count=True, help="Print only the verdict line.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Write JSON verdict.")
@click.option("--sarif", "sarif_out", type=click.Path(path_type=Path), help="Write SARIF 2.1.0.")
@click.option("--sarif-absent/--no-sarif-absent", default=True, show_default=True,
              help="With --baseline, list the baseline's findings fixed since then in the SARIF "
              "(baselineState absent). GitHub code scanning opens an alert for every result, "
              "so the Action leaves them out.")
@click.option("--markdown", "markdown_out", type=click.Path(path_type=Path),
              help="Write a Markdown summary.")
@click.option("--junit", "junit_out", type=click.Path(path_type=Path), help="Write JUnit XML.")
@click.option("--github-annotations", "github_out", type=click.Path(path_type=Path),
              help="Write GitHub workflow annotation commands to this file ('-' for stdout).")
@click.option("--record", is_flag=True, help="Record the run in the local risk register.")
@click.option("--database", envvar="GATE_DATABASE_URL",
              help="Register database URL: its triage decisions apply; --record writes to it.")
@click.option("--register", "register_url", envvar="GATE_REGISTER_URL",
              help="Register service URL whose triage decisions apply (needs --token).")
@click.option("--vex", multiple=True, type=click.Path(path_type=Path),
              help="OpenVEX file(s) whose statements apply as triage decisions.")
@click.option("--upload", "upload_url", envvar="GATE_UPLOAD_URL", help="Register service URL.")
@click.option("--token", envvar="GATE_TOKEN", help="API token for --upload and --register.")
@click.option("--progress/--no-progress", default=None, help="Live progress (default: on a TTY).")
@handle_errors
def scan(**options: Any) -> None:
    """Scan PATH, apply the policy, print the verdict; exit 0 pass, 1 block, 2 error, 3 config."""
    from gate.scan_command import execute_scan

    sys.exit(execute_scan(options))


@cli.group()
def policy() -> None:
    """Validate policies and publish their JSON Schema."""


@policy.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@handle_errors
def policy_validate(files: tuple[Path, ...]) -> None:
    """Check policy files; errors print as file:line:column: message (exit 3)."""
    from gate.policy.discover import read_policy

    for file in files:
        loaded = read_policy(file)
        click.echo(f"{file}: ok ({len(loaded.rules)} rules, {len(loaded.ignores)} ignores)")


@policy.command("schema")
@handle_errors
def policy_schema() -> None:
    """Print the policy's JSON Schema (for editor completion)."""
    from gate.policy.schema import policy_json_schema_text

    click.echo(policy_json_schema_text())


@cli.group()
def schema() -> None:
    """Print the JSON Schemas riskgate publishes."""


@schema.command("verdict")
def schema_verdict() -> None:
    """The verdict JSON's schema (--json, -f json, the register's upload body)."""
    from gate.schemas import verdict_json_schema_text

    click.echo(verdict_json_schema_text(), nl=False)


@cli.command("pre-commit")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--policy", "policy_path", type=click.Path(path_type=Path),
              help="Policy file (default: the repository's own, else the bundled one).")
@handle_errors
def pre_commit(files: tuple[Path, ...], policy_path: Path | None) -> None:
    """Scan the FILES pre-commit passes (staged) with riskgate's semgrep rules and the policy."""
    from gate.precommit import run_pre_commit

    sys.exit(run_pre_commit(files, policy_path=policy_path))


def build_config(options: dict[str, Any]) -> GateConfig:
    """Translate parsed `gate scan` options into a `GateConfig`."""
    return GateConfig(
        target=options["path"],
        policy_path=options["policy_path"],
        scanners=tuple(options["scanners"]) or ("pip-audit", "semgrep"),
        imports=tuple(options["imports"]),
        advisories_dir=options["advisories"],
        kev_path=options["kev"],
        epss_path=options["epss"],
        requirements=tuple(options["requirements"]),
        pip_audit_service=options["pip_audit_service"],
        semgrep_configs=tuple(options["semgrep_configs"]),
        baseline_ref=options["baseline_ref"],
        fail_on=Severity(options["fail_on"].lower()) if options.get("fail_on") else None,
        timeout_seconds=options["timeout"],
        project=options["project"],
        commit=options["commit"],
        branch=options["branch"],
        register_url=options.get("register_url"),
        register_token=options.get("token"),
        decisions_database=options.get("database"),
        vex_files=tuple(options.get("vex") or ()),
    )


def main() -> None:
    """Console-script entry point."""
    cli()
