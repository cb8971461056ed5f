"""The GitHub Action's logic: split `extra-args`, and turn a `gate scan` run into step results.

`scripts/action/run-gate.sh` runs `gate scan`, then calls `python -m gate.action_outputs finish`,
which reads the JSON verdict, writes the step outputs (`verdict`, `blocking`, `findings`,
`sarif-file`) to `$GITHUB_OUTPUT`, appends the Markdown report to `$GITHUB_STEP_SUMMARY` (kept
under GitHub's 1 MiB limit) and decides the step's exit code: 1 when the policy blocks, the
gate's own code on an error unless `fail-on-error` is "false", and an error whenever the
verdict is missing or unreadable (a security gate fails closed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.action_inputs import ActionInputError, check_extra_args, split_extra_args

SUMMARY_LIMIT = 1_000_000  # bytes; GitHub rejects a step summary over 1 MiB (1,048,576)
TRUNCATION_NOTE = (
    "\n\n> **Note:** riskgate cut this summary to stay under GitHub's 1 MiB step-summary limit; "
    "the JSON and SARIF reports hold every finding.\n"
)
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
TRUE_WORDS = frozenset({"true", "yes", "on", "1", ""})
EXIT_BLOCK = 1
EXIT_ERROR = 2
EXIT_CONFIG = 3


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """What the gate step reports: its outputs, its summary text, messages and exit code."""

    outputs: dict[str, str]
    summary: str
    commands: tuple[str, ...]
    exit_code: int


def parse_flag(value: str, *, name: str) -> bool:
    """A boolean input ("true"/"false", case-insensitive; empty means the default, true)."""
    word = value.strip().lower()
    if word in FALSE_WORDS:
        return False
    if word in TRUE_WORDS:
        return True
    raise ActionInputError(f"input {name}: expected true or false, got {value!r}")


def escape_command_data(text: str) -> str:
    """Make text safe as the message of a workflow command (`::warning::...`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_command(kind: str, message: str) -> str:
    """One `::error::` / `::warning::` / `::notice::` line."""
    return f"::{kind}::{escape_command_data(message)}"


def load_verdict(path: Path) -> dict[str, Any] | None:
    """The JSON verdict the gate wrote, or None when it is missing or not a verdict."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        return None
    return data


def count_actions(verdict: Mapping[str, Any]) -> dict[str, int]:
    """Findings per policy action in a JSON verdict."""
    counts: dict[str, int] = {}
    for item in verdict.get("findings", []):
        action = str(item.get("action", "")) if isinstance(item, dict) else ""
        counts[action] = counts.get(action, 0) + 1
    return counts


def verdict_outputs(verdict: Mapping[str, Any] | None, *, sarif_file: str) -> dict[str, str]:
    """The step outputs; `error` and zero counts when there is no verdict."""
    if verdict is None:
        return {"verdict": "error", "blocking": "0", "findings": "0", "sarif-file": sarif_file}
    counts = count_actions(verdict)
    return {
        "verdict": str(verdict.get("decision", "error")),
        "blocking": str(counts.get("block", 0)),
        "findings": str(len(verdict.get("findings", []))),
        "sarif-file": sarif_file,
    }


def format_outputs(outputs: Mapping[str, str]) -> str:
    """`$GITHUB_OUTPUT` text; a value with a line break uses the heredoc form."""
    lines: list[str] = []
    for name, value in outputs.items():
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
            lines += [f"{name}<<{delimiter}", value, delimiter]
        else:
            lines.append(f"{name}={value}")
    return "\n".join(lines) + "\n"


def fit_summary(text: str, *, already_used: int = 0, limit: int = SUMMARY_LIMIT) -> str:
    """`text`, cut at a line boundary with a note when it would push the summary past `limit`."""
    data = text.encode("utf-8")
    budget = limit - already_used
    if len(data) <= budget:
        return text
    room = max(0, budget - len(TRUNCATION_NOTE.encode("utf-8")))
    head = data[:room]
    newline = head.rfind(b"\n")
    head = head[: newline + 1] if newline > 0 else head
    return head.decode("utf-8", "ignore") + TRUNCATION_NOTE if room else ""


def error_summary(*, gate_exit: int, detail: str, failing: bool) -> str:
    """The summary written when the gate produced no verdict."""
    outcome = "the step fails (fail closed)" if failing else "fail-on-error is false: not failing"
    return (
        f"## ❌ riskgate: error\n\n"
        f"The gate could not finish (exit {gate_exit}): {detail or 'no error message'}\n\n"
        f"{outcome}.\n"
    )


def last_error_line(stderr_text: str) -> str:
    """The last non-empty line the gate printed on stderr, shortened."""
    lines = [line.strip() for line in stderr_text.splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def decide(
    *, gate_exit: int, verdict: Mapping[str, Any] | None, fail_on_error: bool
) -> tuple[int, tuple[str, ...]]:
    """The step's exit code and the workflow commands that explain it."""
    decision = verdict.get("decision") if verdict is not None else None
    if decision == "block" or (gate_exit == EXIT_BLOCK and verdict is not None):
        return EXIT_BLOCK, (workflow_command("error", "riskgate: blocked by policy"),)
    if gate_exit == 0 and decision in ("pass", "warn"):
        return 0, ()
    if verdict is None:
        reason = f"riskgate: the gate failed (exit {gate_exit}) and wrote no verdict"
    else:
        reason = f"riskgate: the gate failed (exit {gate_exit}, decision {decision})"
    if gate_exit == EXIT_CONFIG:  # a bad policy or option is the workflow's to fix, not a flake
        reason = (f"riskgate: bad policy, option or input (exit {gate_exit}); fail-on-error "
                  "covers scanner failures only")
        return EXIT_CONFIG, (workflow_command("error", reason),)
    if not fail_on_error:
        return 0, (workflow_command("warning", f"{reason}; fail-on-error is false"),)
    return (gate_exit if gate_exit > EXIT_BLOCK else EXIT_ERROR), (
        workflow_command("error", reason),
    )


def finish_step(
    *,
    gate_exit: int,
    verdict: Mapping[str, Any] | None,
    markdown: str | None,
    stderr_text: str,
    sarif_file: str,
    fail_on_error: bool,
) -> StepResult:
    """Everything the gate step reports after `gate scan` returned `gate_exit`."""
    exit_code, commands = decide(gate_exit=gate_exit, verdict=verdict, fail_on_error=fail_on_error)
    sarif_output = sarif_file if verdict is not None and sarif_file else ""
    if verdict is not None and markdown:
        summary = markdown
    else:
        summary = error_summary(
            gate_exit=gate_exit, detail=last_error_line(stderr_text), failing=exit_code != 0
        )
    return StepResult(
        outputs=verdict_outputs(verdict, sarif_file=sarif_output),
        summary=summary,
        commands=commands,
        exit_code=exit_code,
    )


def _read_text(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _append(path_text: str | None, text: str) -> None:
    """Append to a runner file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`) when it is set."""
    if not path_text:
        return
    with Path(path_text).open("a", encoding="utf-8") as handle:
        handle.write(text)


def _summary_size(path_text: str | None) -> int:
    try:
        return Path(path_text).stat().st_size if path_text else 0
    except OSError:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gate.action_outputs")
    commands = parser.add_subparsers(dest="command", required=True)
    split = commands.add_parser("split-args", help="print extra-args split, NUL-terminated")
    split.add_argument("text")
    check = commands.add_parser("check-args", help="split-args, once gate scan accepts them")
    check.add_argument("text")
    finish = commands.add_parser("finish", help="outputs, summary and exit code of the step")
    finish.add_argument("--gate-exit", type=int, required=True)
    finish.add_argument("--json", type=Path, required=True)
    finish.add_argument("--markdown", type=Path)
    finish.add_argument("--stderr", type=Path)
    finish.add_argument("--sarif", default="")
    finish.add_argument("--fail-on-error", default="true")
    return parser


def _finish(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    try:
        fail_on_error = parse_flag(args.fail_on_error, name="fail-on-error")
    except ActionInputError as exc:
        print(workflow_command("warning", f"{exc}; failing closed"))
        fail_on_error = True
    sarif = args.sarif if args.sarif and Path(args.sarif).is_file() else ""
    result = finish_step(
        gate_exit=args.gate_exit,
        verdict=load_verdict(args.json),
        markdown=_read_text(args.markdown),
        stderr_text=_read_text(args.stderr) or "",
        sarif_file=sarif,
        fail_on_error=fail_on_error,
    )
    _append(env.get("GITHUB_OUTPUT"), format_outputs(result.outputs))
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    _append(summary_path, fit_summary(result.summary, already_used=_summary_size(summary_path)))
    for command in result.commands:
        print(command)
    return result.exit_code


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Entry point of `python -m gate.action_outputs`; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command in ("split-args", "check-args"):
        split = check_extra_args if args.command == "check-args" else split_extra_args
        try:
            parts = split(args.text)
        except ActionInputError as exc:
            print(workflow_command("error", f"riskgate: {exc}"))
            return 3
        sys.stdout.write("".join(f"{part}\0" for part in parts))
        return 0
    return _finish(args, os.environ if env is None else env)


if __name__ == "__main__":
    sys.exit(main())
