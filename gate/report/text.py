"""The human report: a decision banner, reasons, a findings table and the scanners line.

Rendered with `rich` into a string, so it works with and without a terminal: with
`color=False` the output is plain text. Every scanner-provided string goes through
`rich.text.Text`, which never interprets markup: a title such as `[bold]x[/]` prints literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from gate.models import Action, Decision, ScannerRun, ScannerStatus, Verdict
from gate.report._common import (
    advisories_summary,
    coverage_notes,
    coverage_summary,
    decision_label,
    fix_text,
    one_line,
    ordered,
    plan_lines,
    policy_line,
)

_DECISION_STYLE = {
    Decision.PASS: "bold white on green",
    Decision.WARN: "bold black on yellow",
    Decision.BLOCK: "bold white on red",
    Decision.ERROR: "bold white on magenta",
}
_ACTION_STYLE = {
    Action.BLOCK: "bold red",
    Action.WARN: "yellow",
    Action.EXISTING: "cyan",
    Action.IGNORE: "dim",
    Action.PASS: "green",
}
DEFAULT_WIDTH = 120


def render_text(verdict: Verdict, *, color: bool, width: int = DEFAULT_WIDTH) -> str:
    """The verdict as a terminal report; plain text (no escape codes) when `color` is false."""
    buffer = StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
    )
    console.print(Group(*_sections(verdict)))
    return buffer.getvalue()


def _sections(verdict: Verdict) -> list[RenderableType]:
    sections: list[RenderableType] = [_banner(verdict)]
    sections.extend(Text(f"  - {one_line(reason, limit=500)}") for reason in verdict.reasons)
    if verdict.findings:
        sections.append(_findings_table(verdict))
    else:
        sections.append(Text("No findings."))
    sections.extend(_plan_lines(verdict))
    sections.append(_scanners_line(verdict.scanners))
    policy = policy_line(verdict, digest_chars=16)
    if policy:
        sections.append(Text(policy))
    advisories = advisories_summary(verdict)
    if advisories:
        sections.append(Text(f"Advisories: {one_line(advisories)}", style="red" if
                             verdict.advisories and verdict.advisories.stale else ""))
    sections.extend(_coverage_lines(verdict.scanners))
    sections.extend(_expired_lines(verdict))
    return sections


def _plan_lines(verdict: Verdict) -> list[Text]:
    lines = plan_lines(verdict)
    if not lines:
        return []
    return [Text("Remediation plan:", style="bold")] + [
        Text(f"  - {one_line(line, limit=300)}") for line in lines
    ]


def _banner(verdict: Verdict) -> Text:
    counts = verdict.count_by_action()
    summary = ", ".join(f"{counts[a.value]} {a.value}" for a in Action if counts[a.value])
    banner = Text(f" {decision_label(verdict)} ", style=_DECISION_STYLE[verdict.decision])
    banner.append(f"  riskgate: {summary or 'no findings'}")
    return banner


def _findings_table(verdict: Verdict) -> Table:
    table = Table(show_lines=False, expand=False, pad_edge=False)
    for header in ("Action", "Severity", "ID", "Title", "Location", "Fix", "KEV"):
        table.add_column(header, overflow="fold")
    for item in ordered(verdict.findings):
        finding = item.finding
        table.add_row(
            Text(item.action.value, style=_ACTION_STYLE[item.action]),
            Text(finding.severity.value),
            Text(one_line(finding.rule_id, limit=100)),
            Text(one_line(finding.title, limit=200)),
            Text(one_line(finding.location.display(), limit=120)),
            Text(one_line(fix_text(finding), limit=100)),
            Text("KEV", style="bold red") if finding.known_exploited else Text(""),
        )
    return table


def _scanners_line(runs: tuple[ScannerRun, ...]) -> Text:
    line = Text("Scanners: ")
    if not runs:
        line.append("none")
    for index, run in enumerate(runs):
        if index:
            line.append("; ")
        line.append(_scanner_text(run), style="red" if run.status is ScannerStatus.FAILED else "")
    return line


def _scanner_text(run: ScannerRun) -> str:
    parts = [one_line(run.name, limit=80), run.status.value]
    if run.version:
        parts.append(one_line(run.version, limit=50))
    if run.duration_seconds is not None:
        parts.append(f"{run.duration_seconds:.1f}s")
    text = " ".join(parts)
    if run.error:
        text += f" ({one_line(run.error, limit=200)})"
    return text


def _coverage_lines(runs: tuple[ScannerRun, ...]) -> list[Text]:
    lines: list[Text] = []
    for run in runs:
        summary = coverage_summary(run)
        if summary is None:
            continue
        missed = bool(run.coverage and run.coverage.not_scanned)
        lines.append(Text(f"Coverage: {one_line(summary)}", style="red" if missed else ""))
        lines.extend(Text(f"  - {one_line(note, limit=300)}") for note in coverage_notes(run))
    return lines


def _expired_lines(verdict: Verdict) -> list[Text]:
    return [
        Text(
            f"Expired ignore: {one_line(expired.rule, limit=100)} "
            f"(owner {one_line(expired.owner, limit=80)}, expired "
            f"{expired.expired_on.isoformat()}): {one_line(expired.reason, limit=200)}",
            style="yellow",
        )
        for expired in verdict.expired_ignores
    ]


@dataclass(frozen=True, kw_only=True)
class TextRenderer:
    """The `text` format: plain by default; the CLI builds one with `color=True` on a TTY."""

    color: bool = False
    width: int = DEFAULT_WIDTH

    def render(self, verdict: Verdict) -> str:
        """Render the verdict as a terminal report."""
        return render_text(verdict, color=self.color, width=self.width)
