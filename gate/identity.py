"""Stable identity of code findings across edits: occurrences, enclosing scope, edit matching.

- Identical matches of one rule in one file (same normalised code, so the same fingerprint)
  on different lines stay distinct: the first keeps the plain fingerprint (existing registers
  do not churn), the k-th after it gets `occurrence_fingerprint(fingerprint, k)`.
- `enclosing_scope` names the function or class around a line (`Server.start`), so an
  identity can require the same rule, file and scope.
- `match_edits` pairs findings whose exact hash is new with known ones that vanished in the
  same run: same rule, file and scope, then the most similar code (and nearest line) above a
  threshold, one to one. The register uses it to keep an entry when its code is edited in
  place; the gate uses it to keep a triage decision.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from gate.fingerprint import normalise_code
from gate.models import CodeAnchor, Finding, FindingKind

SIMILAR_ENOUGH = 0.6  # normalised-code similarity that keeps an identity anywhere in the scope
SAME_LINE_SIMILAR = 0.3  # a weaker likeness is enough when the match stays on its line


def occurrence_fingerprint(fingerprint: str, occurrence: int) -> str:
    """The fingerprint of the `occurrence`-th repeat (0 is the plain one)."""
    if occurrence == 0:
        return fingerprint
    joined = f"{fingerprint}\x1foccurrence\x1f{occurrence}"
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


def number_occurrences(findings: Iterable[Finding]) -> list[Finding]:
    """Code findings sharing a fingerprint on different lines get distinct fingerprints,
    numbered by line order; the same match reported twice (same line) stays one."""
    items = list(findings)
    lines: dict[str, set[int]] = {}
    for finding in items:
        if finding.kind is FindingKind.CODE and finding.location.start_line is not None:
            lines.setdefault(finding.fingerprint, set()).add(finding.location.start_line)
    order = {fp: sorted(found) for fp, found in lines.items() if len(found) > 1}
    if not order:
        return items
    return [_numbered(finding, order) for finding in items]


def _numbered(finding: Finding, order: dict[str, list[int]]) -> Finding:
    lines = order.get(finding.fingerprint)
    if lines is None or finding.kind is not FindingKind.CODE:
        return finding
    occurrence = lines.index(finding.location.start_line or 0)
    if occurrence == 0:
        return finding
    return finding.model_copy(
        update={"fingerprint": occurrence_fingerprint(finding.fingerprint, occurrence)}
    )


def enclosing_scope(source: str, line: int) -> str | None:
    """`Class.method` (or `function`, `Class`) around `line` of Python `source`; None at module
    level or when the source does not parse."""
    spans = _scopes(source)
    names = [name for start, end, name in spans if start <= line <= end]
    return names[-1] if names else None


@lru_cache(maxsize=256)
def _scopes(source: str) -> tuple[tuple[int, int, str], ...]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    found: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found.append((first, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return tuple(sorted(found))  # outer before inner: the last span holding a line is innermost


@dataclass(frozen=True, kw_only=True)
class CodeIdentity:
    """What identifies a code finding beyond its hash: rule, file, scope, code, line."""

    key: str
    rule_id: str
    path: str
    scope: str | None
    snippet: str
    start_line: int | None

    @classmethod
    def of(cls, finding: Finding) -> CodeIdentity | None:
        """The identity of a code finding with a file and code; None otherwise."""
        where = finding.location
        if finding.kind is not FindingKind.CODE or not where.path or not finding.snippet:
            return None
        return cls(key=finding.fingerprint, rule_id=finding.rule_id, path=where.path,
                   scope=where.scope, snippet=finding.snippet, start_line=where.start_line)


    @classmethod
    def of_anchor(cls, key: str, anchor: CodeAnchor) -> CodeIdentity:
        """The identity a decision was taken on."""
        return cls(key=key, rule_id=anchor.rule_id, path=anchor.path, scope=anchor.scope,
                   snippet=anchor.snippet, start_line=anchor.start_line)


def similarity(left: str, right: str) -> float:
    """0..1 likeness of two pieces of code, whitespace ignored."""
    return difflib.SequenceMatcher(None, normalise_code(left), normalise_code(right)).ratio()


def match_edits(
    new: Sequence[CodeIdentity], vanished: Sequence[CodeIdentity]
) -> dict[str, tuple[str, float]]:
    """new key → (vanished key, similarity): one to one, best pairs first."""
    by_place: dict[tuple[str, str, str | None], list[CodeIdentity]] = {}
    for old in vanished:
        by_place.setdefault((old.rule_id, old.path, old.scope), []).append(old)
    pairs: list[tuple[float, int, str, str]] = []
    for fresh in new:
        for old in by_place.get((fresh.rule_id, fresh.path, fresh.scope), ()):
            ratio = similarity(fresh.snippet, old.snippet)
            same_line = fresh.start_line is not None and fresh.start_line == old.start_line
            if ratio >= SIMILAR_ENOUGH or (same_line and ratio >= SAME_LINE_SIMILAR):
                distance = abs((fresh.start_line or 0) - (old.start_line or 0))
                pairs.append((-ratio, distance, fresh.key, old.key))
    matched: dict[str, tuple[str, float]] = {}
    taken: set[str] = set()
    for negative_ratio, _, fresh_key, old_key in sorted(pairs):
        if fresh_key in matched or old_key in taken:
            continue
        matched[fresh_key] = (old_key, -negative_ratio)
        taken.add(old_key)
    return matched
