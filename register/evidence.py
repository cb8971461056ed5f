"""Evidence of a register entry in the order a champion reads it: pure functions over a row.

Used by the finding page and `gate register show`: links for advisory, CWE and OWASP ids, the
snippet with its line numbers, the fix advice, and the deadline in words that depend on status
("overdue" only while the entry is open).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from register.models import EntryStatus, RiskEntry, ScanRun

_ADVISORY_URLS = (
    (re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE), "https://nvd.nist.gov/vuln/detail/{}"),
    (re.compile(r"^GHSA(-[0-9a-z]{4}){3}$", re.IGNORECASE), "https://github.com/advisories/{}"),
    (re.compile(r"^(PYSEC|OSV|GSD|RUSTSEC)-[\w-]+$", re.IGNORECASE),
     "https://osv.dev/vulnerability/{}"),
)
_CWE = re.compile(r"^CWE-(\d+)", re.IGNORECASE)
_OWASP = re.compile(r"^(A\d{2}):(\d{4})\s*-\s*(.+)$")


@dataclass(frozen=True, kw_only=True)
class Link:
    """A label and, when riskgate knows where it is documented, a URL."""

    label: str
    url: str | None


def advisory_link(identifier: str) -> Link:
    """A CVE, GHSA or OSV-style id with its public page."""
    for pattern, template in _ADVISORY_URLS:
        if pattern.match(identifier):
            return Link(label=identifier, url=template.format(quote(identifier.upper()
                        if identifier.upper().startswith("CVE") else identifier)))
    return Link(label=identifier, url=None)


def cwe_link(identifier: str) -> Link:
    """`CWE-89: SQL Injection` with MITRE's page."""
    found = _CWE.match(identifier.strip())
    url = f"https://cwe.mitre.org/data/definitions/{found.group(1)}.html" if found else None
    return Link(label=identifier, url=url)


def owasp_link(identifier: str) -> Link:
    """`A03:2021 - Injection` with the OWASP Top 10 page."""
    found = _OWASP.match(identifier.strip())
    if not found:
        return Link(label=identifier, url=None)
    slug = f"{found.group(1)}_{found.group(2)}-{found.group(3).strip().replace(' ', '_')}"
    return Link(label=identifier, url=f"https://owasp.org/Top10/{quote(slug)}/")


def identifiers(entry: RiskEntry) -> list[Link]:
    """The rule or advisory id, then its aliases, each linked where possible."""
    if entry.kind != "dependency":
        return [Link(label=entry.rule_id, url=entry.help_url)]
    first = advisory_link(entry.rule_id)
    if first.url is None and entry.help_url:
        first = Link(label=entry.rule_id, url=entry.help_url)
    return [first, *(advisory_link(alias) for alias in entry.aliases or [])]


def snippet_lines(entry: RiskEntry) -> list[tuple[int | None, str]]:
    """The matched code as (line number, text) pairs; numbers from the entry's start line."""
    if not entry.snippet:
        return []
    lines = entry.snippet.rstrip("\n").split("\n")
    first = entry.start_line
    return [(None if first is None else first + i, text) for i, text in enumerate(lines)]


def fix_advice(entry: RiskEntry) -> str | None:
    """What to do, in one sentence, from the evidence the register holds."""
    if entry.kind == "dependency" and entry.package:
        target = entry.remediation_target or (entry.fix_versions[0] if entry.fix_versions else None)
        where = f" in {entry.manifest}" if entry.manifest else ""
        if target:
            installed = entry.version or "?"
            return f"Upgrade {entry.package} from {installed} to {target} or later{where}."
        return f"No fixed version of {entry.package} is published: remove or isolate it{where}."
    return None


def deadline_words(entry: RiskEntry, *, today: date) -> str:
    """The deadline as the status makes it matter: overdue only while the entry is open."""
    if entry.status == EntryStatus.FIXED.value:
        when = entry.fixed_at.date() if entry.fixed_at else None
        late = when is not None and when > entry.due_date
        return f"fixed on {when}" + (" (after its deadline)" if late else " (within its deadline)")
    if entry.status == EntryStatus.ACCEPTED.value:
        return f"risk accepted until {entry.accepted_until}"
    if entry.status == EntryStatus.FALSE_POSITIVE.value:
        return "closed as a false positive"
    days = (entry.due_date - today).days
    if days == 0:
        return "patch due today"
    if days > 0:
        return f"patch due in {days} day{'s' if days != 1 else ''}"
    return f"patch overdue by {-days} day{'s' if days != -1 else ''}"


_RUN_SCOPES = {
    "full": "a full scan",
    "diff": "a diff-aware scan (only what changed since its baseline)",
    "partial": "a partial scan (a scanner failed, or the scan was narrowed)",
}


def scope_words(entry: RiskEntry, run: ScanRun | None) -> str:
    """Where the finding came from: its manifest (dependencies) or file and function (code),
    and what the run that last saw it covered."""
    if entry.kind == "dependency":
        place = (f"manifest {entry.manifest}" if entry.manifest
                 else "no manifest recorded (an imported report)")
        if entry.package:
            place += f", where {entry.package} {entry.version or '?'} was audited"
    else:
        line = f":{entry.start_line}" if entry.path and entry.start_line else ""
        place = f"{entry.path or '(no path)'}{line}"
        place += f", in {entry.scope}" if entry.scope else ""
    if run is None:
        return place
    branch = f" of {run.branch}" if run.branch else ""
    return f"{place}; last seen in {_RUN_SCOPES.get(run.scope, run.scope)}{branch}"


def _linked(links: list[Link]) -> str:
    return ", ".join(f"{link.label} ({link.url})" if link.url else link.label for link in links)


def _sighting(run: ScanRun | None, fallback: str) -> str:
    if run is None:
        return fallback
    text = f"{run.started_at:%Y-%m-%d %H:%M} UTC, run {run.run_id}"
    text += f", commit {run.commit[:12]}" if run.commit else ""
    return text + (f" on {run.branch}" if run.branch else "")


def evidence_fields(
    entry: RiskEntry, *, project: str, first_run: ScanRun | None, last_run: ScanRun | None,
    today: date,
) -> list[tuple[str, str]]:
    """The entry as (field, value) lines: what, status, evidence, advice, score, sightings."""
    where = entry.path and f"{entry.path}:{entry.start_line}" if entry.start_line else entry.path
    snippet = "\n".join(f"{n or '':>5} | {text}" for n, text in snippet_lines(entry))
    lines: list[tuple[str, str | None]] = [
        ("title", entry.title), ("project", project),
        ("status", entry.status.replace("_", " ") + (f" until {entry.accepted_until}"
                                                      if entry.accepted_until else "")),
        ("deadline", f"{entry.due_date} ({deadline_words(entry, today=today)})"),
        ("owner", entry.owner or "(none)"),
        ("score", f"{entry.score} ({entry.band}): likelihood {entry.probability}, "
                  f"{entry.probability_reason}; impact {entry.impact}, {entry.impact_reason}"),
        ("advisory" if entry.kind == "dependency" else "rule", _linked(identifiers(entry))),
        ("kind", f"{entry.kind}, found by {entry.scanner}"),
        ("severity", entry.severity + (f", CVSS {entry.cvss_score}" if entry.cvss_score else "")
         + (f" {entry.cvss_vector}" if entry.cvss_vector else "")),
        ("known exploited", "yes (CISA KEV)" if entry.known_exploited else None),
        ("package", f"{entry.package} {entry.version or ''}".strip() if entry.package else None),
        ("fixed in", ", ".join(entry.fix_versions) if entry.kind == "dependency" else None),
        ("manifest", entry.manifest), ("location", where),
        ("scope", scope_words(entry, last_run)),
        ("weakness", _linked([cwe_link(c) for c in entry.cwe or []]) or None),
        ("owasp", _linked([owasp_link(o) for o in entry.owasp or []]) or None),
        ("message", entry.message), ("fix advice", fix_advice(entry)),
        ("snippet", snippet or None),
        ("first seen", _sighting(first_run, f"{entry.first_seen:%Y-%m-%d %H:%M} UTC")),
        ("last seen", _sighting(last_run, f"{entry.last_seen:%Y-%m-%d %H:%M} UTC")),
        ("fixed at", f"{entry.fixed_at:%Y-%m-%d %H:%M} UTC" if entry.fixed_at else None),
        ("fingerprint", entry.fingerprint), ("id", str(entry.id)),
    ]
    return [(name, value) for name, value in lines if value]
