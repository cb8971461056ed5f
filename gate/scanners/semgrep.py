"""semgrep adapter: run riskgate's rule pack (plus extra configs) and parse semgrep's JSON.

A run is judged by its JSON, not only its exit code: exit codes other than 0 and 1, output
that is not a complete semgrep report, and fatal entries of its `errors` array (an invalid
rule, a config that could not be loaded) all raise `ScannerError` (fail closed). Errors that
belong to one scanned file (a syntax error, a per-file timeout) are not fatal: semgrep scanned
everything else, so they are counted and ignored.

OSS semgrep reports the matched code and its fingerprint as "requires login", so the matched
code is read back from the scanned file and fingerprinted with `code_fingerprint`, which keeps
the fingerprint when the code is re-indented or moved to other lines.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from gate.config import bundled_semgrep_rules
from gate.errors import ReportFormatError, ScannerError
from gate.fingerprint import code_fingerprint
from gate.identity import enclosing_scope
from gate.models import Finding, FindingKind, Location, Severity
from gate.safe_input import loads_storable
from gate.scanners.interface import ScanOutput, ScanTarget
from gate.scanners.process import ToolResult, find_executable, last_line, run_tool
from gate.scanners.scope import IGNORE_FILE, Scope, Targets, enumerate_scope, targets_of_rules
from gate.scanners.semgrep_coverage import (
    ReportedPaths,
    judge_coverage,
    not_scanned_findings,
    reported_paths,
)

NAME = "semgrep"
# semgrep pins dependencies that clash with riskgate's: it belongs in an isolated tool venv.
INSTALL_HINT = "install it as an isolated tool: `pipx install semgrep` or `uv tool install semgrep`"
PER_FILE_TIMEOUT = 30
TITLE_LIMIT = 120
SNIPPET_LIMIT = 1000
# The bundled pack is checked by its own tests (`semgrep --test`); semgrep-core parses every
# rule again and still fails closed (exit 7) on an invalid one. Its Python pre-validation took
# 3-4 s of every scan with the taint rules' shared sources expanded into each rule.
SKIP_RULE_PREVALIDATION = ["--x-rule-validation", "none"]
# Rule metadata naming the rule a semgrep rule is a part of (see `_part_of`).
PART_OF = "riskgate-part-of"
MAX_SOURCE_BYTES = 5_000_000
_OK_EXIT_CODES = (0, 1)
_SEVERITY_OF_LEVEL = {
    "CRITICAL": Severity.CRITICAL,
    "ERROR": Severity.HIGH,
    "HIGH": Severity.HIGH,
    "WARNING": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "INFO": Severity.LOW,
    "LOW": Severity.LOW,
}
_SEVERITY_NAMES = frozenset(s.value for s in Severity)
_CWE = re.compile(r"^\s*(?:CWE)?[-\s:]*(\d+)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s")
_WHITESPACE = re.compile(r"\s+")


class SemgrepScanner:
    """Runs semgrep with riskgate's bundled rules and any extra configs of the target."""

    name = NAME

    def run(self, target: ScanTarget) -> ScanOutput:
        """Scan `target.root`; `ScannerError` when semgrep is missing, fails, hangs or lies."""
        executable = find_executable(NAME, setting="GATE_SEMGREP_BIN", install_hint=INSTALL_HINT)
        configs = config_args(target.semgrep_configs)
        scope = enumerate_scope(target.root, targets=rule_targets(configs), exclude=target.exclude,
                                ignore_files_at=target.ignore_files_at)
        if target.only is not None:
            scope = restrict_scope(scope, target.only)
            if not scope.files:
                return ScanOutput(findings=[], coverage=judge_coverage(scope, ReportedPaths()))
        files = _files_of(target, scope)
        argv = build_argv(executable, target=target, configs=configs, files=files)
        with tempfile.TemporaryDirectory(prefix="riskgate-semgrep-") as tmp:
            env = {**semgrep_env(Path(tmp)), **target.extra_env}
            result = run_tool(NAME, argv, timeout=target.timeout_seconds, cwd=target.root, env=env)
            if _refused_option(result, SKIP_RULE_PREVALIDATION[0]):
                argv = [arg for arg in argv if arg not in SKIP_RULE_PREVALIDATION]
                result = run_tool(
                    NAME, argv, timeout=target.timeout_seconds, cwd=target.root, env=env
                )
        report = judge(result, root=target.root, rule_ids=known_rule_ids(configs))
        coverage = judge_coverage(scope, report.paths)
        missed = not_scanned_findings(coverage.not_scanned, scanner=NAME, root=target.root)
        return ScanOutput(
            findings=[*report.findings, *missed], version=report.version, coverage=coverage
        )

    def parse(self, raw: bytes, *, root: Path) -> list[Finding]:
        """Parse semgrep's JSON report (see `parse_semgrep`)."""
        return parse_semgrep(raw, root=root)


@dataclass(frozen=True, kw_only=True)
class SemgrepReport:
    """What one semgrep JSON report holds, once checked: findings, version, skipped files."""

    findings: list[Finding]
    version: str | None = None
    file_errors: int = 0
    paths: ReportedPaths = field(default_factory=ReportedPaths)


@dataclass(kw_only=True)
class _Sources:
    """Reads matched lines back from the scanned files, each file once, never outside root."""

    root: Path
    cache: dict[str, bytes | None] = field(default_factory=dict)

    def code(self, path: str, start: Any, end: Any) -> str | None:
        """The whole source lines semgrep's match spans, or None when the file is unreadable.

        Whole lines, not the exact match: a taint finding's match may be one variable name,
        which would give two sinks of the same rule in one file the same fingerprint.
        """
        data = self._read(path)
        if data is None:
            return None
        return _lines(data, _line(start), _line(end))

    def scope(self, path: str, start: Any) -> str | None:
        """The Python function or class around the match, or None (module level, other
        languages, unreadable or unparsable files)."""
        line = _line(start)
        data = self._read(path) if path.endswith((".py", ".pyi")) and line else None
        if data is None or line is None:
            return None
        return enclosing_scope(data.decode("utf-8", "replace"), line)

    def _read(self, path: str) -> bytes | None:
        if path not in self.cache:
            self.cache[path] = _read_inside(self.root, path)
        return self.cache[path]


def build_argv(
    executable: str, *, target: ScanTarget, configs: Sequence[str], files: Sequence[str] = ()
) -> list[str]:
    """semgrep's command line; it runs in `target.root` and scans `.` (see `scan_root_args`),
    or only `files` (root-relative) when given.

    With the bundled pack alone, semgrep's Python pre-validation of the rules is skipped
    (`SKIP_RULE_PREVALIDATION`); with a config of the user's it runs, for its file:line errors.
    """
    argv = [executable, "scan", "--json", "--metrics=off", "--disable-version-check"]
    argv += ["--jobs", str(target.semgrep_jobs)]
    argv += ["--timeout", str(PER_FILE_TIMEOUT)]
    for config in (str(bundled_semgrep_rules()), *configs):
        argv += ["--config", config]
    if not configs:
        argv += SKIP_RULE_PREVALIDATION
    return [*argv, *coverage_args(target), *scan_root_args(target.root, files)]


def restrict_scope(scope: Scope, only: Collection[str]) -> Scope:
    """The part of `scope` inside `only`: what a diff-aware baseline must scan."""
    return replace(scope, files=tuple(path for path in scope.files if path in only))


def _files_of(target: ScanTarget, scope: Scope) -> tuple[str, ...]:
    return () if target.only is None else scope.files


def coverage_args(target: ScanTarget) -> list[str]:
    """What makes semgrep's coverage ours to decide and its report complete.

    `--verbose` makes the JSON list skipped files with reasons; the size limit comes from the
    policy; the policy's `scope.exclude` is passed on. Without a `.semgrepignore` of the
    target semgrep would apply built-in ignores (`tests/`, `build/`...) without a word: they
    are switched off, so the policy alone decides what is out of scope. Inline `# nosemgrep`
    comments are not honoured unless the policy says so (`--disable-nosem`): a change could
    otherwise silence its own finding.
    """
    argv = ["--verbose", "--max-target-bytes", str(target.semgrep_max_target_bytes)]
    if not target.semgrep_honour_nosemgrep:
        argv.append("--disable-nosem")
    if not (target.root / IGNORE_FILE).is_file():
        argv.append("--x-ignore-semgrepignore-files")
    for pattern in target.exclude:
        argv += ["--exclude", pattern]
    return argv


def scan_root_args(root: Path, files: Sequence[str] = ()) -> list[str]:
    """Scan `.` (paths come out relative to the root), as its own project when nested in a repo.

    Inside a git repository semgrep reads the `.semgrepignore` of the repository's top, which
    may ignore the very folder we were asked to scan (riskgate ignores its own `examples/`).
    A target below the top is therefore scanned with `--project-root .`: its own
    `.semgrepignore` applies (and semgrep's defaults), but not its `.gitignore`.
    """
    targets = list(files) or ["."]
    resolved = root.resolve()
    if (resolved / ".git").exists() or not any((p / ".git").exists() for p in resolved.parents):
        return targets
    return ["--project-root", ".", *targets]


def config_args(extra: Iterable[str]) -> list[str]:
    """Extra configs as semgrep gets them: existing local paths made absolute (semgrep runs in
    the target root), anything else (a registry id such as `p/python`) passed on unchanged."""
    return [str(Path(c).resolve()) if Path(c).exists() else c for c in extra]


def semgrep_env(tmp: Path) -> dict[str, str]:
    """Environment that keeps semgrep offline and quiet: no version check, private settings."""
    return {
        "SEMGREP_ENABLE_VERSION_CHECK": "0",
        "SEMGREP_SEND_METRICS": "off",
        "SEMGREP_SETTINGS_FILE": str(tmp / "settings.yml"),
        "SEMGREP_LOG_FILE": str(tmp / "semgrep.log"),
    }


def rule_targets(configs: Iterable[str]) -> Targets:
    """The files the bundled pack and every local config would scan (see `scope.Targets`)."""
    rules: list[dict[str, Any]] = []
    for config in (bundled_semgrep_rules(), *(Path(c) for c in configs)):
        files = sorted(config.rglob("*.y*ml")) if config.is_dir() else [config]
        for file in files:
            rules.extend(_rules_in(file))
    return targets_of_rules(rules)


def known_rule_ids(configs: Iterable[str]) -> frozenset[str]:
    """Rule ids of the bundled pack and of every local config file or folder."""
    ids: set[str] = set()
    for config in (bundled_semgrep_rules(), *(Path(c) for c in configs)):
        files = sorted(config.rglob("*.y*ml")) if config.is_dir() else [config]
        for file in files:
            ids.update(_rule_ids_in(file))
    return frozenset(ids)


def judge(result: ToolResult, *, root: Path, rule_ids: Collection[str] = ()) -> SemgrepReport:
    """Turn a finished semgrep process into a report, or raise `ScannerError` (fail closed)."""
    if result.returncode not in _OK_EXIT_CODES:
        raise ScannerError(NAME, f"exited with code {result.returncode}: {_problem(result)}")
    try:
        return parse_report(result.stdout, root=root, source="stdout", rule_ids=rule_ids)
    except ReportFormatError as exc:
        raise ScannerError(NAME, f"{exc} (exit {result.returncode})") from exc


def parse_semgrep(
    raw: bytes, *, root: Path, source: str = "semgrep output", rule_ids: Collection[str] = ()
) -> list[Finding]:
    """Findings from a semgrep JSON report; paths are made relative to `root`.

    `rule_ids` (the ids of the rules that ran, when known) lets a dotted rule id survive the
    folder prefix semgrep adds. Raises `ReportFormatError` reading `<source>: ...` when the
    report is not valid semgrep JSON or records a fatal error (an incomplete scan).
    """
    return parse_report(raw, root=root, source=source, rule_ids=rule_ids).findings


def parse_report(
    raw: bytes, *, root: Path, source: str = "semgrep output", rule_ids: Collection[str] = ()
) -> SemgrepReport:
    """Like `parse_semgrep`, also returning semgrep's version and the per-file error count."""
    document = _load_json(raw, source)
    errors = _errors(document, source)
    fatal = [e for e in errors if is_fatal(e)]
    if fatal:
        raise ReportFormatError(f"{source}: semgrep failed: {describe_error(fatal[0])}")
    results = document.get("results")
    if not isinstance(results, list):
        raise ReportFormatError(f"{source}: not a semgrep report (no 'results' list)")
    sources = _Sources(root=root)
    findings = _merge_parts([
        _finding(item, sources=sources, rule_ids=rule_ids, where=f"{source}: result {index}")
        for index, item in enumerate(results)
    ], results)
    version = document.get("version")
    return SemgrepReport(
        findings=findings,
        version=version if isinstance(version, str) else None,
        file_errors=len(errors),
        paths=reported_paths(document, relative=lambda path: relative_path(path, root)),
    )


def is_fatal(error: Mapping[str, Any]) -> bool:
    """An error aborts the scan unless it belongs to one target file (a `path`) or is a warning."""
    return str(error.get("level", "error")).lower() == "error" and not error.get("path")


def describe_error(error: Mapping[str, Any]) -> str:
    """One line for a semgrep error entry: type, message and the rule file position if any."""
    kind = error.get("type")
    name = kind[0] if isinstance(kind, list) and kind else kind
    text = error.get("short_msg") or error.get("message") or error.get("long_msg") or ""
    line = f"{name}: {_one_line(str(text))}" if name else _one_line(str(text))
    spans = error.get("spans")
    if isinstance(spans, list) and spans and isinstance(spans[0], dict):
        span = spans[0]
        start = _mapping(span.get("start"))
        line += f" ({span.get('file')}:{start.get('line', '?')})"
    return line


def normalise_rule_id(check_id: str, known: Collection[str] = ()) -> str:
    """Strip the folder prefix semgrep puts before local rule ids.

    The shortest dotted suffix that is a known rule id wins. Otherwise a registry-style id
    (`python.lang.security.audit.x.x`: rules path, file and id, the last two alike) is kept
    whole, as semgrep's registry and documentation name it; anything else becomes its last
    dotted component (`policies.semgrep.python-sql-injection` -> `python-sql-injection`).
    """
    parts = check_id.split(".")
    for start in range(len(parts) - 1, -1, -1):
        candidate = ".".join(parts[start:])
        if candidate in known:
            return candidate
    if len(parts) > 2 and parts[-1] == parts[-2]:
        return check_id
    return parts[-1]


def relative_path(path: str, root: Path) -> str:
    """A report path relative to `root`, with forward slashes (absolute paths outside kept)."""
    posix = path.replace("\\", "/")
    candidate = Path(posix)
    if candidate.is_absolute():
        for base in (root, root.resolve()):
            try:
                return candidate.relative_to(base.absolute()).as_posix()
            except ValueError:
                continue
        return posix
    return PurePosixPath(posix).as_posix().removeprefix("./")


def severity_of(metadata: Mapping[str, Any], level: object) -> Severity:
    """`metadata.riskgate-severity` when valid, else semgrep's level, else `unknown`."""
    ours = metadata.get("riskgate-severity")
    if isinstance(ours, str) and ours.strip().lower() in _SEVERITY_NAMES:
        return Severity(ours.strip().lower())
    return _SEVERITY_OF_LEVEL.get(str(level).upper(), Severity.UNKNOWN)


def normalise_cwe(values: object) -> tuple[str, ...]:
    """`"CWE-89: ..."`, `"cwe-89"` or `89` (one or a list) become `("CWE-89",)`."""
    found: list[str] = []
    for value in _as_list(values):
        match = _CWE.match(str(value))
        if match and f"CWE-{match.group(1)}" not in found:
            found.append(f"CWE-{match.group(1)}")
    return tuple(found)


def title_of(message: str, rule_id: str) -> str:
    """The first sentence (or `;` clause) of the message, bounded; else the rule id."""
    text = _one_line(message)
    first = _SENTENCE_END.split(text, maxsplit=1)[0].removesuffix(";") if text else rule_id
    return _bounded(first, TITLE_LIMIT)


def _finding(
    item: Any, *, sources: _Sources, rule_ids: Collection[str], where: str
) -> Finding:
    if not isinstance(item, dict):
        raise ReportFormatError(f"{where}: expected an object")
    check_id, raw_path = item.get("check_id"), item.get("path")
    if not isinstance(check_id, str) or not check_id.strip() or not isinstance(raw_path, str):
        raise ReportFormatError(f"{where}: needs a 'check_id' and a 'path'")
    extra = _mapping(item.get("extra"))
    metadata = _mapping(extra.get("metadata"))
    rule_id = _part_of(metadata) or normalise_rule_id(check_id, rule_ids)
    path = relative_path(raw_path, sources.root)
    start, end = item.get("start"), item.get("end")
    code = sources.code(path, start, end) or _reported_lines(extra)
    message = _one_line(str(extra.get("message") or ""))
    return Finding(
        kind=FindingKind.CODE,
        scanner=NAME,
        rule_id=rule_id,
        title=title_of(message, rule_id),
        severity=severity_of(metadata, extra.get("severity")),
        fingerprint=code_fingerprint(
            rule_id=rule_id, path=path, matched_code=code or f"@line {_line(start)}"
        ),
        location=Location(
            path=path, start_line=_line(start), end_line=_line(end),
            scope=sources.scope(path, start),
        ),
        message=message,
        cwe=normalise_cwe(metadata.get("cwe")),
        owasp=tuple(str(o) for o in _as_list(metadata.get("owasp"))),
        snippet=_bounded(code, SNIPPET_LIMIT) if code else None,
        help_url=_help_url(metadata),
        confidence=_text(metadata.get("confidence")),
    )


def _part_of(metadata: Mapping[str, Any]) -> str | None:
    """The rule a semgrep rule is a part of (`metadata.riskgate-part-of`), if it names one.

    A rule split for speed into semgrep rules of their own (each with its own file filter)
    reports every finding under the one id its users know, ignore and fingerprint.
    """
    whole = metadata.get(PART_OF)
    return whole.strip() if isinstance(whole, str) and whole.strip() else None


def _merge_parts(findings: list[Finding], results: list[Any]) -> list[Finding]:
    """`findings` with one finding where parts of one rule reported the same span.

    Only results of parts are merged (two results of one ordinary rule stay two findings), and
    the most severe of them is kept, so a part from another config cannot soften a finding.
    """
    places = [_place(finding, item) for finding, item in zip(findings, results, strict=True)]
    parts = {place for place, item in zip(places, results, strict=True)
             if _part_of(_mapping(_mapping(item.get("extra")).get("metadata")))}
    worst: dict[tuple[object, ...], Finding] = {}
    for place, finding in zip(places, findings, strict=True):
        if place in parts and (place not in worst
                               or finding.severity.rank > worst[place].severity.rank):
            worst[place] = finding
    kept: list[Finding] = []
    for place, finding in zip(places, findings, strict=True):
        if place not in parts:
            kept.append(finding)
        elif place in worst:
            kept.append(worst.pop(place))
    return kept


def _place(finding: Finding, item: Mapping[str, Any]) -> tuple[object, ...]:
    """Rule, file and exact span (lines and columns) of one result."""
    start, end = _mapping(item.get("start")), _mapping(item.get("end"))
    return (finding.rule_id, finding.location.path, start.get("line"), start.get("col"),
            end.get("line"), end.get("col"))


def _refused_option(result: ToolResult, option: str) -> bool:
    """semgrep (another version than the one riskgate pins) does not know `option`.

    A usage error names the option: "No such option: --x-..." (click), or "unknown option"
    (semgrep's OCaml command line).
    """
    said = result.stderr.decode("utf-8", "replace").lower()
    return (result.returncode != 0 and option in said
            and ("no such option" in said or "unknown option" in said))


def _load_json(raw: bytes, source: str) -> dict[str, Any]:
    if not raw.strip():
        raise ReportFormatError(f"{source}: not valid semgrep JSON: empty output")
    try:
        document = loads_storable(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportFormatError(f"{source}: not valid semgrep JSON: not UTF-8") from exc
    except json.JSONDecodeError as exc:
        where = f"{source}: not valid semgrep JSON at line {exc.lineno} column {exc.colno}"
        raise ReportFormatError(f"{where}: {exc.msg}") from exc
    if not isinstance(document, dict):
        raise ReportFormatError(f"{source}: not a semgrep report (expected a JSON object)")
    return document


def _errors(document: Mapping[str, Any], source: str) -> list[Mapping[str, Any]]:
    errors = document.get("errors", [])
    if not isinstance(errors, list):
        raise ReportFormatError(f"{source}: not a semgrep report ('errors' is not a list)")
    return [e if isinstance(e, dict) else {"message": str(e)} for e in errors]


def _problem(result: ToolResult) -> str:
    """The best one-line reason for a failed run: a fatal JSON error, else stderr's last line."""
    try:
        document = json.loads(result.stdout.decode("utf-8"))
        errors = document.get("errors") if isinstance(document, dict) else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        errors = None
    for error in errors if isinstance(errors, list) else ():
        if isinstance(error, dict) and is_fatal(error):
            return describe_error(error)
    return last_line(result.stderr)


def _rule_ids_in(file: Path) -> set[str]:
    """Ids of the rules in one YAML config; unreadable files give none (semgrep reports them)."""
    return {r["id"] for r in _rules_in(file) if isinstance(r.get("id"), str)}


def _rules_in(file: Path) -> list[dict[str, Any]]:
    """The rule mappings of one YAML config; unreadable files give none (semgrep says why)."""
    if file.suffix not in (".yml", ".yaml") or not file.is_file():
        return []
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, list):
        return []
    return [r for r in rules if isinstance(r, dict)]


def _read_inside(root: Path, path: str) -> bytes | None:
    """The bytes of `root/path`, or None when it is missing, too big or outside `root`.

    An imported report is untrusted: a path such as `../../etc/passwd` must never put another
    file's content into a finding.
    """
    base = root.resolve()
    try:
        full = (base / path).resolve()
        if not full.is_relative_to(base) or not full.is_file():
            return None
        if full.stat().st_size > MAX_SOURCE_BYTES:
            return None
        return full.read_bytes()
    except (OSError, ValueError):
        return None


def _lines(data: bytes, first: int | None, last: int | None) -> str | None:
    if first is None:
        return None
    lines = data.decode("utf-8", "replace").splitlines()
    stop = last if last is not None and last >= first else first
    chosen = lines[first - 1 : stop]
    return "\n".join(chosen) if chosen else None


def _reported_lines(extra: Mapping[str, Any]) -> str | None:
    lines = extra.get("lines")
    if isinstance(lines, str) and lines.strip() and lines.strip() != "requires login":
        return lines
    return None


def _help_url(metadata: Mapping[str, Any]) -> str | None:
    for candidate in (*_as_list(metadata.get("references")), metadata.get("source")):
        if isinstance(candidate, str) and candidate.startswith(("https://", "http://")):
            return candidate
    return None


def _line(position: Any) -> int | None:
    value = position.get("line") if isinstance(position, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
