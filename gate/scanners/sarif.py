"""Import SARIF 2.1.0 from any tool (CodeQL, Bandit, Trivy, semgrep, riskgate itself).

Mapping, per result:
- scanner: `tool.driver.name`; rule: `ruleId`, else the rule found by `ruleIndex`/`rule`.
- kind: `dependency` when a `kind: dependency` property or a `dependency` rule tag says so, or
  the rule id is an advisory id (CVE-, GHSA-, PYSEC-, OSV-...); `code` otherwise.
- severity: an explicit `severity`/`issue_severity` property naming one of ours (riskgate,
  Bandit), else `security-severity` banded like CVSS (>= 9 critical, >= 7 high, >= 4 medium,
  > 0 low, 0 info), else the level (error high, warning medium, note low, none info), else
  `unknown`. SARIF's implicit default level is deliberately not used: never invent a severity.
- location: the first physical location, made relative to `root` (`uriBaseId` resolved via
  `originalUriBaseIds`, `file://` URIs relativised when under root).
- fingerprint: riskgate's own `riskgateFingerprint/v1` when present (round trip); a dependency
  fingerprint when the package is known; else `code_fingerprint` over the snippet (from the
  SARIF, else read from the file under root), else a partial fingerprint, else the message.
Results whose `baselineState` is `absent` (already fixed) are skipped.
"""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

from gate.errors import ReportFormatError
from gate.fingerprint import code_fingerprint, dependency_fingerprint
from gate.models import Finding, FindingKind, Location, PathNote, Severity
from gate.safe_input import decode_json
from gate.scanners.imports import SARIF_VERSION
from gate.scanners.semgrep_coverage import not_scanned_findings

FINGERPRINT_KEY = "riskgateFingerprint/v1"
_OWN_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")
_ADVISORY_ID = re.compile(
    r"^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+|OSV-\d{4}-\d+)$",
    re.IGNORECASE,
)
_CWE = re.compile(r"\bcwe[-/_ ]?0*(\d+)", re.IGNORECASE)
_LEVEL_SEVERITY = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.INFO,
}
_TRIVY_PACKAGE = re.compile(r"^Package: (\S+)", re.MULTILINE)
_TRIVY_VERSION = re.compile(r"^Installed Version: (\S+)", re.MULTILINE)
_MAX_SNIPPET_FILE = 5_000_000
_MAX_SNIPPET_LINES = 50


@dataclass(frozen=True, kw_only=True)
class _Run:
    """What every result of one run needs: where it came from and the run's rule tables."""

    source: str
    place: str
    root: Path
    scanner: str
    rules: list[Any]
    extensions: list[Any]
    base_uris: dict[str, str]
    artifacts: list[Any]

    def error(self, where: str, problem: str) -> ReportFormatError:
        return ReportFormatError(f"{self.source}: {self.place}{where}: {problem}")


def parse_sarif(raw: bytes, *, root: Path, source: str = "SARIF") -> list[Finding]:
    """Parse a SARIF 2.1.0 log into findings; raise `ReportFormatError` naming source and place."""
    document = decode_json(raw, source=source)
    if not isinstance(document, dict):
        raise ReportFormatError(f"{source}: not a SARIF log (top level is not an object)")
    if document.get("version") != SARIF_VERSION:
        raise ReportFormatError(
            f"{source}: SARIF version {document.get('version')!r} is not supported "
            f"(expected {SARIF_VERSION})"
        )
    runs = document.get("runs")
    if not isinstance(runs, list):
        raise ReportFormatError(f"{source}: runs: expected a list")
    findings: list[Finding] = []
    for index, run in enumerate(runs):
        findings.extend(_parse_run(run, ctx_place=f"runs[{index}]", root=root, source=source))
    return findings


def _parse_run(run: Any, *, ctx_place: str, root: Path, source: str) -> list[Finding]:
    if not isinstance(run, dict):
        raise ReportFormatError(f"{source}: {ctx_place}: expected an object")
    driver = _dict(_dict(run.get("tool")).get("driver"))
    name = driver.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ReportFormatError(f"{source}: {ctx_place}.tool.driver.name: missing")
    ctx = _Run(
        source=source,
        place=ctx_place,
        root=root,
        scanner=name.strip(),
        rules=_list(driver.get("rules")),
        extensions=_list(_dict(run.get("tool")).get("extensions")),
        base_uris=_base_uris(run.get("originalUriBaseIds")),
        artifacts=_list(run.get("artifacts")),
    )
    results = run.get("results")
    if results is not None and not isinstance(results, list):
        raise ctx.error(".results", "expected a list")
    gaps = _execution_gaps(run, ctx=ctx)
    parsed = (_parse_result(result, index=i, ctx=ctx) for i, result in enumerate(results or []))
    found = [finding for finding in parsed if finding is not None]
    return [*found, *not_scanned_findings(gaps, scanner=ctx.scanner, root=root)]


def _execution_gaps(run: dict[str, Any], *, ctx: _Run) -> list[PathNote]:
    """Refuse a run that did not succeed; error notifications about one file are gaps.

    `executionSuccessful: false`, or an error-level notification about the whole run, means
    the tool did not finish: its empty result list proves nothing (fail closed). An error about
    one file (a parse failure) becomes a `riskgate-file-not-scanned` finding for that file.
    """
    gaps: list[PathNote] = []
    for index, invocation in enumerate(_list(run.get("invocations"))):
        where = f".invocations[{index}]"
        notes = [_dict(n) for n in _list(_dict(invocation).get("toolExecutionNotifications"))]
        errors = [n for n in notes if n.get("level") == "error"]
        first = _text(_dict(errors[0].get("message")).get("text")) if errors else ""
        if _dict(invocation).get("executionSuccessful") is False:
            failed = "the tool's run failed (executionSuccessful: false)"
            raise ctx.error(where, failed + _tail(first))
        for note in errors:
            text = _text(_dict(note.get("message")).get("text")) or "a tool error"
            path = _location(note, ctx=ctx)[0] if _list(note.get("locations")) else None
            if path is None:
                raise ctx.error(where, f"the tool reported an error: {text[:300]}")
            gaps.append(PathNote(path=path, reason=f"{ctx.scanner} error: {text[:200]}"))
    return gaps


def _tail(text: str) -> str:
    return f": {text[:300]}" if text else ""


def _parse_result(result: Any, *, index: int, ctx: _Run) -> Finding | None:
    where = f".results[{index}]"
    if not isinstance(result, dict):
        raise ctx.error(where, "expected an object")
    if result.get("baselineState") == "absent":
        return None
    rule = _rule_for(result, ctx)
    rule_id = _text(result.get("ruleId")) or _text(_dict(result.get("rule")).get("id"))
    rule_id = rule_id or _text(rule.get("id"))
    if not rule_id:
        raise ctx.error(where, "no ruleId (and no rule to take it from)")
    props = [_dict(result.get("properties")), _dict(rule.get("properties"))]
    message = _text(_dict(result.get("message")).get("text"))
    title = _text(_dict(rule.get("shortDescription")).get("text"))
    title = title or (message.splitlines()[0] if message else "") or _text(rule.get("name"))
    path, start, end, snippet = _location(result, ctx=ctx)
    kind = _kind(rule_id, rule, props)
    location, package = _finding_location(
        kind=kind, path=path, start=start, end=end, props=props, message=message
    )
    aliases = tuple(_strings(props[0].get("aliases")))
    if snippet is None and kind is FindingKind.CODE:
        snippet = _read_snippet(ctx.root, path, start, end)
    return Finding(
        kind=kind,
        scanner=ctx.scanner,
        rule_id=rule_id,
        title=title or rule_id,
        severity=_severity(result, rule, props),
        fingerprint=_fingerprint(
            result, kind=kind, rule_id=rule_id, path=path, snippet=snippet,
            package=package, aliases=aliases, message=message,
        ),
        location=location,
        aliases=aliases,
        message=message,
        cvss_score=_cvss(props[0].get("cvss_score")),
        cwe=_cwes(props),
        fix_versions=tuple(_strings(props[0].get("fix_versions"))),
        snippet=snippet,
        help_url=_text(rule.get("helpUri")) or None,
        confidence=_confidence(props),
        known_exploited=props[0].get("kev") is True,
    )


def _rule_for(result: dict[str, Any], ctx: _Run) -> dict[str, Any]:
    """The rule of a result: by index (in the driver or an extension), else by id."""
    reference = _dict(result.get("rule"))
    component = _dict(reference.get("toolComponent")).get("index")
    rules = ctx.rules
    if isinstance(component, int) and 0 <= component < len(ctx.extensions):
        rules = _list(_dict(ctx.extensions[component]).get("rules"))
    index = result.get("ruleIndex", reference.get("index"))
    if isinstance(index, int) and 0 <= index < len(rules):
        return _dict(rules[index])
    wanted = _text(result.get("ruleId")) or _text(reference.get("id"))
    return next((_dict(r) for r in rules if wanted and _dict(r).get("id") == wanted), {})


def _kind(rule_id: str, rule: dict[str, Any], props: list[dict[str, Any]]) -> FindingKind:
    tags = {tag.lower() for tag in _strings(_dict(rule.get("properties")).get("tags"))}
    if any(p.get("kind") == "dependency" for p in props) or "dependency" in tags:
        return FindingKind.DEPENDENCY
    if _ADVISORY_ID.match(rule_id):
        return FindingKind.DEPENDENCY
    return FindingKind.CODE


def _severity(
    result: dict[str, Any], rule: dict[str, Any], props: list[dict[str, Any]]
) -> Severity:
    explicit = _explicit_severity(props)
    if explicit is not None:
        return explicit
    for bag in props:
        score = _number(bag.get("security-severity"))
        if score is not None:
            return severity_from_score(score)
    level = result.get("level") or _dict(rule.get("defaultConfiguration")).get("level")
    if isinstance(level, str):
        return _LEVEL_SEVERITY.get(level, Severity.UNKNOWN)
    return Severity.UNKNOWN


def _explicit_severity(props: list[dict[str, Any]]) -> Severity | None:
    names = {severity.value for severity in Severity}
    for bag in props:
        for key in ("severity", "issue_severity"):
            value = bag.get(key)
            if isinstance(value, str) and value.lower() in names:
                return Severity(value.lower())
    return None


def severity_from_score(score: float) -> Severity:
    """CVSS v3 qualitative bands, as GitHub applies them to `security-severity`."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW if score > 0 else Severity.INFO


def _location(
    result: dict[str, Any], *, ctx: _Run
) -> tuple[str | None, int | None, int | None, str | None]:
    """Path, start line, end line and snippet of the first physical location."""
    physical = next(
        (_dict(loc).get("physicalLocation") for loc in _list(result.get("locations"))
         if isinstance(_dict(loc).get("physicalLocation"), dict)),
        None,
    )
    if not isinstance(physical, dict):
        return None, None, None, None
    artifact = _dict(physical.get("artifactLocation"))
    index = artifact.get("index")
    if not artifact.get("uri") and isinstance(index, int) and 0 <= index < len(ctx.artifacts):
        artifact = _dict(_dict(ctx.artifacts[index]).get("location"))
    path = _resolve_uri(_text(artifact.get("uri")), _text(artifact.get("uriBaseId")), ctx)
    region = _dict(physical.get("region"))
    start = _line(region.get("startLine"))
    end = _line(region.get("endLine"))
    if start is not None and (end is None or end < start):
        end = start
    snippet = _text(_dict(region.get("snippet")).get("text")) or None
    return path, start, end, snippet


def _resolve_uri(uri: str, base_id: str, ctx: _Run) -> str | None:
    """A path relative to root when possible; absolute `file://` paths outside root stay."""
    if not uri:
        return None
    if base_id and base_id in ctx.base_uris:
        uri = urljoin(ctx.base_uris[base_id], uri)
    parts = urlsplit(uri)
    if parts.scheme == "file":
        absolute = Path(url2pathname(parts.path))
        try:
            return absolute.resolve().relative_to(ctx.root.resolve()).as_posix()
        except ValueError:
            return absolute.as_posix()
    if parts.scheme and len(parts.scheme) > 1:
        return unquote(uri)
    path = posixpath.normpath(unquote(uri.replace("\\", "/")))
    return path.removeprefix("./")


def _base_uris(value: Any) -> dict[str, str]:
    bases = {}
    for name, entry in _dict(value).items():
        uri = _text(_dict(entry).get("uri"))
        if uri:
            bases[name] = uri if uri.endswith("/") else uri + "/"
    return bases


def _finding_location(
    *, kind: FindingKind, path: str | None, start: int | None, end: int | None,
    props: list[dict[str, Any]], message: str,
) -> tuple[Location, str | None]:
    if kind is FindingKind.CODE:
        return Location(path=path, start_line=start, end_line=end), None
    package = _text(props[0].get("package")) or _match(_TRIVY_PACKAGE, message)
    version = _text(props[0].get("version")) or _match(_TRIVY_VERSION, message)
    location = Location(
        manifest=path, start_line=start, end_line=end,
        package=package or None, version=version or None,
    )
    return location, package or None


def _fingerprint(
    result: dict[str, Any], *, kind: FindingKind, rule_id: str, path: str | None,
    snippet: str | None, package: str | None, aliases: tuple[str, ...], message: str,
) -> str:
    partial = {k: v for k, v in _dict(result.get("partialFingerprints")).items()
               if isinstance(v, str) and v}
    own = partial.get(FINGERPRINT_KEY, "")
    if _OWN_FINGERPRINT.match(own):
        return own
    if kind is FindingKind.DEPENDENCY and package:
        return dependency_fingerprint(package=package, advisory_ids=[rule_id, *aliases])
    others = {**{k: v for k, v in _dict(result.get("fingerprints")).items()
                 if isinstance(v, str) and v}, **partial}
    matched = snippet or (others[min(others)] if others else message)
    return code_fingerprint(rule_id=rule_id, path=path or "", matched_code=matched)


def _read_snippet(root: Path, path: str | None, start: int | None, end: int | None) -> str | None:
    """The flagged lines from the file under root, when the SARIF carried no snippet."""
    if not path or start is None or end is None:
        return None
    try:
        base = root.resolve()
        file = (base / path).resolve()
        if not file.is_relative_to(base) or file.stat().st_size > _MAX_SNIPPET_FILE:
            return None
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    chosen = lines[start - 1 : min(end, start + _MAX_SNIPPET_LINES - 1)]
    return "\n".join(chosen) or None


def _cwes(props: list[dict[str, Any]]) -> tuple[str, ...]:
    texts: list[str] = []
    for bag in props:
        texts += _strings(bag.get("tags")) + _strings(bag.get("cwe"))
    found = (_CWE.search(text) for text in texts)
    return tuple(dict.fromkeys(f"CWE-{m.group(1)}" for m in found if m))


def _confidence(props: list[dict[str, Any]]) -> str | None:
    for bag in props:
        for key in ("confidence", "issue_confidence", "precision"):
            if isinstance(bag.get(key), str):
                return str(bag[key]).lower()
    return None


def _cvss(value: Any) -> float | None:
    score = _number(value)
    return score if score is not None and 0.0 <= score <= 10.0 else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _line(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _match(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return match.group(1) if match else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in _list(value) if isinstance(item, str)]
