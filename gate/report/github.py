"""GitHub Actions workflow commands: `::error`/`::warning` annotations on the changed files.

GitHub shows at most 10 error and 10 warning annotations per step, so the most severe come
first (failed scanners, then blocked findings by severity; then warnings) and one final
`::notice::` says how many were left out. Values are escaped as the runner expects: data
`%`→%25, CR→%0D, LF→%0A; properties additionally `:`→%3A and `,`→%2C, so scanner text can
neither end a command early nor start a new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gate.models import (
    Action,
    DecisionsStatus,
    EvaluatedFinding,
    ScannerRun,
    ScannerStatus,
    Verdict,
)
from gate.report._common import (
    coverage_notes,
    coverage_summary,
    finding_file,
    fix_text,
    one_line,
    ordered,
)

MAX_PER_LEVEL = 10
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_data(text: str) -> str:
    """Escape a command's message (control characters other than CR/LF are dropped)."""
    return _CONTROL.sub("", text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: str | int | None) -> str:
    """One workflow command line; `None` properties are left out."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None
    )
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def render_github(verdict: Verdict) -> str:
    """Annotation commands for the verdict, capped per level, one line each."""
    errors = [_scanner_command(run) for run in verdict.scanners
              if run.status is ScannerStatus.FAILED]
    items = ordered(verdict.findings)
    root = verdict.source_root
    blocked = [item for item in items if item.action is Action.BLOCK]
    warned = [item for item in items if item.action is Action.WARN]
    errors += [_finding_command("error", item, root) for item in blocked]
    warnings = [_finding_command("warning", item, root) for item in warned]
    lines = errors[:MAX_PER_LEVEL] + warnings[:MAX_PER_LEVEL]
    lines += [_coverage_command(run) for run in verdict.scanners if run.coverage is not None]
    lines += _decision_commands(verdict)
    omitted = max(0, len(errors) - MAX_PER_LEVEL) + max(0, len(warnings) - MAX_PER_LEVEL)
    if omitted:
        lines.append(command(
            "notice",
            f"{omitted} more findings were not annotated (GitHub shows at most "
            f"{MAX_PER_LEVEL} errors and {MAX_PER_LEVEL} warnings per step); "
            "see the full riskgate report",
            title="riskgate",
        ))
    return "".join(line + "\n" for line in lines)


def _decision_commands(verdict: Verdict) -> list[str]:
    """Where triage decisions came from (a warning when the register could not be asked),
    and how many findings they unblocked."""
    lines = [
        command("notice" if note.status is DecisionsStatus.LIVE else "warning", note.describe(),
                title="riskgate: triage decisions")
        for note in verdict.decision_sources
    ]
    waived = [item for item in verdict.findings
              if item.action is Action.IGNORE and item.triage is not None]
    if waived:
        sample = "; ".join(f"{i.finding.rule_id} at {i.finding.location.display()}: {i.reason}"
                           for i in waived[:5])
        lines.append(command("notice", one_line(
            f"{len(waived)} findings not blocking by triage decisions: {sample}", limit=4000),
            title="riskgate: triage decisions"))
    return lines


def _coverage_command(run: ScannerRun) -> str:
    """One notice: the counts, then every path not scanned or excluded (bounded), with why."""
    text = "; ".join([coverage_summary(run) or "", *coverage_notes(run)])
    return command("notice", one_line(text, limit=4000), title=f"riskgate: {run.name} coverage")


def _scanner_command(run: ScannerRun) -> str:
    return command("error", f"{run.name} failed: {run.error or 'no error output'}",
                   title=f"riskgate: scanner {run.name} failed")


def _finding_command(level: str, item: EvaluatedFinding, source_root: str | None) -> str:
    finding = item.finding
    path = finding_file(finding, source_root=source_root)
    start = finding.location.start_line if path else None
    end = finding.location.end_line if start and finding.location.end_line else None
    title = f"{finding.severity.value} {finding.rule_id}: {one_line(finding.title, limit=150)}"
    return command(
        level,
        _message(item),
        file=path.replace("\\", "/") if path else None,
        line=start,
        endLine=end if end is None or end >= (start or 0) else None,
        title=title,
    )


def _message(item: EvaluatedFinding) -> str:
    finding = item.finding
    lines = [finding.message or finding.title, f"Location: {finding.location.display()}",
             f"Policy: {item.action.value}: {item.reason}"]
    if finding.fix_versions:
        lines.append(f"Fix: {fix_text(finding)}")
    if finding.known_exploited:
        lines.append("Known exploited (CISA KEV)")
    return "\n".join(lines)


@dataclass(frozen=True)
class GithubRenderer:
    """The `github` format: workflow commands to print in a step's output."""

    def render(self, verdict: Verdict) -> str:
        """Render the verdict as GitHub annotation commands."""
        return render_github(verdict)
