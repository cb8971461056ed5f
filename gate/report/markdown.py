"""The Markdown summary for `$GITHUB_STEP_SUMMARY`: decision, reasons, counts, findings table.

Scanner text is escaped (table pipes, backticks, emphasis, links and HTML), and the summary is
cut by whole table rows to stay under GitHub's 1 MiB step-summary limit, with a note saying
how many findings were left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gate.models import Action, Decision, EvaluatedFinding, Severity, Verdict
from gate.report._common import (
    advisories_summary,
    coverage_notes,
    coverage_summary,
    decision_label,
    fix_text,
    id_with_cve,
    one_line,
    ordered,
    plan_lines,
    policy_line,
)

GITHUB_SUMMARY_LIMIT = 1_000_000  # bytes; GitHub refuses step summaries over 1 MiB
_ICON = {Decision.PASS: "✅", Decision.WARN: "⚠️", Decision.BLOCK: "⛔", Decision.ERROR: "❌"}
_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_TABLE_HEADER = (
    "| Action | Severity | ID | Title | Location | Fix | KEV |\n"
    "|---|---|---|---|---|---|---|\n"
)


def escape_markdown(text: str, *, limit: int = 300) -> str:
    """Scanner text made inert in Markdown: one line, HTML entities, backslash-escaped markup."""
    flat = one_line(text, limit=limit)
    flat = "".join(_HTML.get(char, char) for char in flat)
    return _SPECIAL.sub(r"\\\1", flat)


def render_markdown(verdict: Verdict, *, max_bytes: int = GITHUB_SUMMARY_LIMIT) -> str:
    """The verdict as Markdown, whole rows dropped (and counted in a note) beyond `max_bytes`."""
    head = _head(verdict)
    tail = _tail(verdict)
    rows = [_row(item) for item in _actionable(verdict)]
    if not rows:
        return _fit(head + tail, max_bytes)
    return _fit_rows(head + _TABLE_HEADER, rows, tail, max_bytes=max_bytes)


def _actionable(verdict: Verdict) -> list[EvaluatedFinding]:
    shown = (Action.BLOCK, Action.WARN)
    return [item for item in ordered(verdict.findings) if item.action in shown]


def _fit_rows(head: str, rows: list[str], tail: str, *, max_bytes: int) -> str:
    used = _size(head) + _size(tail)
    kept: list[str] = []
    for index, row in enumerate(rows):
        note = _truncation_note(len(rows) - index - 1) if index < len(rows) - 1 else ""
        if used + _size(row) + _size(note) > max_bytes:
            break
        kept.append(row)
        used += _size(row)
    omitted = len(rows) - len(kept)
    note = _truncation_note(omitted) if omitted else ""
    return _fit(head + "".join(kept) + note + tail, max_bytes)


def _truncation_note(omitted: int) -> str:
    return f"\n… {omitted} more findings not shown (summary limit)\n"


def _fit(text: str, max_bytes: int) -> str:
    """Last resort when even the fixed parts are too long: cut at a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    note = "\n… summary cut (summary limit)\n".encode()
    return data[: max(0, max_bytes - len(note))].decode("utf-8", "ignore") + note.decode()


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _head(verdict: Verdict) -> str:
    lines = [f"## {_ICON[verdict.decision]} riskgate: {decision_label(verdict)}", ""]
    if verdict.project:
        lines += [f"Project: {escape_markdown(verdict.project)}", ""]
    lines += [f"- {escape_markdown(reason, limit=1000)}" for reason in verdict.reasons]
    lines += ["", _counts_table(verdict), ""]
    return "\n".join(lines) + "\n"


def _counts_table(verdict: Verdict) -> str:
    by_action = verdict.count_by_action()
    by_severity = verdict.count_by_severity()
    actions = ", ".join(f"{by_action[a.value]} {a.value}" for a in Action)
    severities = ", ".join(f"{by_severity[s.value]} {s.value}" for s in Severity)
    table = (
        f"| Findings | {len(verdict.findings)} |\n|---|---|\n"
        f"| By action | {actions} |\n"
        f"| By severity | {severities} |"
    )
    if verdict.baseline_ref:
        since = escape_markdown(verdict.baseline_ref, limit=100)
        table += f"\n| Fixed since {since} | {len(verdict.fixed)} |"
    return table


def _row(item: EvaluatedFinding) -> str:
    finding = item.finding
    cells = (
        item.action.value.upper(),
        finding.severity.value,
        escape_markdown(id_with_cve(finding), limit=100),
        escape_markdown(finding.title, limit=200),
        escape_markdown(finding.location.display(), limit=150),
        escape_markdown(fix_text(finding), limit=100),
        "KEV" if finding.known_exploited else "",
    )
    return "| " + " | ".join(cells) + " |\n"




def _tail(verdict: Verdict) -> str:
    lines = [""]
    policy = policy_line(verdict)
    if policy:
        lines += [escape_markdown(policy, limit=1000), ""]
    plan = plan_lines(verdict)
    if plan:
        lines += ["### Remediation plan", ""]
        lines += [f"- {escape_markdown(line, limit=300)}" for line in plan]
        lines.append("")
    for run in verdict.scanners:
        error = f": {escape_markdown(run.error)}" if run.error else ""
        version = f" {escape_markdown(run.version, limit=50)}" if run.version else ""
        lines.append(f"- Scanner {escape_markdown(run.name, limit=80)}{version}: "
                     f"{run.status.value}{error}")
        summary = coverage_summary(run)
        if summary:
            lines.append(f"  - Coverage: {escape_markdown(summary)}")
            lines += [f"    - {escape_markdown(note)}" for note in coverage_notes(run)]
    advisories = advisories_summary(verdict)
    if advisories:
        lines.append(f"- Advisories: {escape_markdown(advisories)}")
    lines += [
        f"- Expired ignore {escape_markdown(e.rule, limit=100)} (owner "
        f"{escape_markdown(e.owner, limit=80)}, expired {e.expired_on.isoformat()}): "
        f"{escape_markdown(e.reason)}"
        for e in verdict.expired_ignores
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class MarkdownRenderer:
    """The `markdown` format."""

    def render(self, verdict: Verdict) -> str:
        """Render the verdict as a GitHub step summary."""
        return render_markdown(verdict)
