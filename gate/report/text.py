"""The human report: a decision banner, reasons, then one line per finding, fitted to the width.

Findings are grouped by action (block first) and, within an action, by package or file. Each
line holds the action, the severity, the id with its CVE, `package version → fix` or
`file:line`, and as much of the title as fits. Lines are laid out token by token and never
break an id or a path: columns lose their padding first, then the title is shortened, and only
a token wider than the whole line may overflow. `verbosity` 1 (`-v`) adds each finding's
reason, fix and message; -1 (`-q`) prints the banner alone. In baseline mode findings that
already existed are counted, not listed, unless `-v`.

Rendered with `rich` so colour works on a terminal; with `color=False` the output is plain
text. Scanner-provided strings go through `rich.text.Text`, which never interprets markup.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from io import StringIO

from rich.console import Console
from rich.text import Text

from gate.models import (
    Action,
    Decision,
    EvaluatedFinding,
    ExpiredIgnore,
    Finding,
    ScannerRun,
    ScannerStatus,
    Verdict,
)
from gate.report._common import (
    ACTION_ORDER,
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
DEFAULT_WIDTH = 80
MIN_TITLE = 16  # a shorter title is noise: the line ends after the location instead
_COLUMN_CAP = 44  # columns pad to their longest entry, up to this many characters


@dataclass(frozen=True, kw_only=True)
class _Row:
    """One finding's line, as its tokens: `lead` (the action), the cells, then the title."""

    item: EvaluatedFinding
    cells: tuple[str, str, str]  # severity (with KEV), id with CVE, location
    title: str

    @property
    def lead(self) -> str:
        return f"  {self.item.action.value} "


def render_text(
    verdict: Verdict, *, color: bool, width: int = DEFAULT_WIDTH, verbosity: int = 0
) -> str:
    """The verdict as a terminal report; plain text (no escape codes) when `color` is false."""
    buffer = StringIO()
    console = Console(
        file=buffer, width=max(width, 20), force_terminal=color, no_color=not color,
        color_system="standard" if color else None, highlight=False, emoji=False, markup=False,
    )
    for line in _lines(verdict, width=max(width, 20), verbosity=verbosity):
        console.print(line, no_wrap=True, overflow="ignore", crop=False)
    return buffer.getvalue()


def _lines(verdict: Verdict, *, width: int, verbosity: int) -> list[Text]:
    lines = [_banner(verdict)]
    if verbosity < 0:
        return lines
    reasons = (one_line(reason, limit=500) for reason in verdict.reasons)
    lines += _wrapped(reasons, width, first="  - ", rest="    ")
    lines += _findings(verdict, width=width, verbose=verbosity > 0)
    plan = plan_lines(verdict)
    if plan:
        lines.append(Text("Remediation plan:", style="bold"))
        steps = (one_line(step, limit=300) for step in plan)
        lines += _wrapped(steps, width, first="  - ", rest="    ")
    lines += _wrapped([_scanners_text(verdict.scanners)], width,
                      style="red" if _any_failed(verdict.scanners) else "")
    lines += _coverage_lines(verdict.scanners, width)
    notes = (f"Decisions: {one_line(note.describe())}" for note in verdict.decision_sources)
    lines += _wrapped(notes, width)
    policy = policy_line(verdict, digest_chars=16)
    if policy:
        lines += _wrapped([policy], width)
    advisories = advisories_summary(verdict)
    if advisories:
        stale = bool(verdict.advisories and verdict.advisories.stale)
        lines += _wrapped([f"Advisories: {one_line(advisories)}"], width,
                          style="red" if stale else "")
    lines += _wrapped(map(_expired_text, verdict.expired_ignores), width, style="yellow")
    return lines


def summary_line(verdict: Verdict) -> str:
    """The banner as plain text: `BLOCK  riskgate: 13 block, 2 warn`."""
    return _banner(verdict).plain.strip()


def _banner(verdict: Verdict) -> Text:
    counts = verdict.count_by_action()
    summary = ", ".join(f"{counts[a.value]} {a.value}" for a in Action if counts[a.value])
    banner = Text(f" {decision_label(verdict)} ", style=_DECISION_STYLE[verdict.decision])
    banner.append(f"  riskgate: {summary or 'no findings'}")
    return banner


def _findings(verdict: Verdict, *, width: int, verbose: bool) -> list[Text]:
    if not verdict.findings:
        return [Text("No findings.")]
    items = ordered(verdict.findings)
    several = len({i.finding.location.manifest for i in items
                   if i.finding.location.package and i.finding.location.manifest}) > 1
    existing = [i for i in items if i.action is Action.EXISTING]
    if existing and not verbose:
        items = [i for i in items if i.action is not Action.EXISTING]
    lines: list[Text] = []
    for action in ACTION_ORDER:
        in_action = [i for i in items if i.action is action]
        if not in_action:
            continue
        lines.append(Text(f"{action.value.upper()} ({len(in_action)})",
                          style=_ACTION_STYLE[action]))
        for group in _by_package(in_action):
            rows = [_row(item, manifest=several) for item in group]
            lines += _group_lines(rows, width=width, verbose=verbose)
    if existing and not verbose:
        since = f" at {verdict.baseline_ref}" if verdict.baseline_ref else ""
        count = f"{len(existing)} existing finding" + ("s" if len(existing) > 1 else "")
        lines.append(Text(f"{count} (already present{since}) not listed; -v lists them",
                          style=_ACTION_STYLE[Action.EXISTING]))
    return lines


def _by_package(items: list[EvaluatedFinding]) -> list[list[EvaluatedFinding]]:
    """Each package's (or file's) findings together, groups in order of their most urgent."""
    groups: dict[str, list[EvaluatedFinding]] = {}
    for item in items:
        groups.setdefault(_group_key(item), []).append(item)
    return list(groups.values())


def _group_key(item: EvaluatedFinding) -> str:
    """A dependency's advisories share a group, so do a file's findings."""
    location = item.finding.location
    return (location.package or location.path or location.manifest or "").lower()


def _row(item: EvaluatedFinding, *, manifest: bool = False) -> _Row:
    finding = item.finding
    cells = (
        _severity_cell(finding),
        one_line(id_with_cve(finding), limit=100),
        one_line(_where(finding, manifest=manifest), limit=200),
    )
    return _Row(item=item, cells=cells, title=one_line(finding.title, limit=200))


def _where(finding: Finding, *, manifest: bool = False) -> str:
    """`salt 3000 → 3005.2` for a dependency (`… in api/requirements.txt` when the run audited
    several manifests), else `file:line`."""
    location = finding.location
    if location.package:
        text = f"{location.package} {location.version or '?'}"
        target = finding.remediation_target or (finding.fix_versions or [None])[0]
        text = f"{text} → {target}" if target else f"{text} (no fix)"
        return f"{text} in {location.manifest}" if manifest and location.manifest else text
    return location.display()


def _group_lines(rows: list[_Row], *, width: int, verbose: bool) -> list[Text]:
    """A group's rows aligned in columns; the titles get the room left, if there is enough."""
    columns = zip(*(row.cells for row in rows), strict=True)
    widths = [min(max(len(cell) for cell in column), _COLUMN_CAP) for column in columns]
    lead = max(len(r.lead) for r in rows)
    room = width - lead - sum(widths) - 2 * len(widths)
    lines = []
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row.cells, widths, strict=True)]
        head = "  ".join(cells)
        if room < MIN_TITLE and lead + len(head.rstrip()) > width:
            head = " ".join(row.cells)  # too wide to align: single spaces, tokens still whole
        line = Text(row.lead.ljust(lead), style=_ACTION_STYLE[row.item.action])
        line.append(f"{head}  {_shorten(row.title, room)}" if room >= MIN_TITLE else head.rstrip())
        lines.append(line)
        if verbose:
            lines += _details(row.item, width, title=room < len(row.title))
    return lines


def _severity_cell(finding: Finding) -> str:
    return finding.severity.value + (" KEV" if finding.known_exploited else "")


def _shorten(text: str, room: int) -> str:
    """Cut at a word boundary when possible, with an ellipsis; never below one character."""
    if len(text) <= room:
        return text
    cut = text[: room - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space >= room // 2 else cut).rstrip(" ,;:-") + "…"


def _details(item: EvaluatedFinding, width: int, *, title: bool) -> list[Text]:
    """`-v`: the whole title when the line cut it, the reason, fix, manifest, message, owner."""
    finding = item.finding
    parts = [finding.title] if title else []
    parts.append(f"reason: {item.reason}")
    fix = fix_text(finding)
    if fix:
        parts.append(f"fix: {fix}")
    if finding.location.manifest and finding.location.package:
        parts.append(f"manifest: {finding.location.manifest}")
    if finding.message and finding.message != finding.title:
        parts.append(finding.message)
    if item.owner:
        parts.append(f"owner: {item.owner}")
    indent = " " * 6
    return _wrapped((one_line(p, limit=500) for p in parts), width, first=indent,
                    rest=indent + "  ", style="dim")


def _wrapped(
    texts: Iterable[str], width: int, *, first: str = "", rest: str = "  ", style: str = ""
) -> list[Text]:
    """Wrap sentences at spaces only (ids and paths stay whole), with a hanging indent."""
    lines: list[Text] = []
    for text in texts:
        wrapped = textwrap.wrap(
            text, width=width, initial_indent=first, subsequent_indent=rest,
            break_long_words=False, break_on_hyphens=False,
        )
        lines += [Text(line, style=style) for line in wrapped or [first.rstrip()]]
    return lines


def _any_failed(runs: tuple[ScannerRun, ...]) -> bool:
    return any(run.status is ScannerStatus.FAILED for run in runs)


def _scanners_text(runs: tuple[ScannerRun, ...]) -> str:
    return "Scanners: " + ("; ".join(_scanner_text(run) for run in runs) if runs else "none")


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


def _coverage_lines(runs: tuple[ScannerRun, ...], width: int) -> list[Text]:
    lines: list[Text] = []
    for run in runs:
        summary = coverage_summary(run)
        if summary is None:
            continue
        missed = bool(run.coverage and run.coverage.not_scanned)
        lines += _wrapped([f"Coverage: {one_line(summary)}"], width,
                          style="red" if missed else "")
        lines += _wrapped((one_line(n, limit=300) for n in coverage_notes(run)), width,
                          first="  - ", rest="    ")
    return lines


def _expired_text(expired: ExpiredIgnore) -> str:
    return (f"Expired ignore: {one_line(expired.rule, limit=100)} "
            f"(owner {one_line(expired.owner, limit=80)}, expired "
            f"{expired.expired_on.isoformat()}): {one_line(expired.reason, limit=200)}")


@dataclass(frozen=True, kw_only=True)
class TextRenderer:
    """The `text` format: plain by default; the CLI builds one with `color=True` on a TTY."""

    color: bool = False
    width: int = DEFAULT_WIDTH
    verbosity: int = 0

    def render(self, verdict: Verdict) -> str:
        """Render the verdict as a terminal report."""
        return render_text(verdict, color=self.color, width=self.width, verbosity=self.verbosity)
