"""OpenVEX documents as triage decisions (`gate scan --vex FILE`), and the words both ends use.

A statement names a vulnerability (its name, `@id` and aliases) and products (package URLs,
directly or as subcomponents); only `pkg:pypi/...` purls concern our dependency findings,
matched by normalised name, the purl's version when it has one, and any of the advisory's ids
or aliases. `not_affected` and `fixed` are false positives here; `affected` with an action
statement saying `accepted until YYYY-MM-DD` (as `gate register export --vex` writes it) is an
accepted risk until then; `affected` without a date and `under_investigation` unblock nothing.
A file that is not OpenVEX is a one-line error naming the file and statement (exit 3).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from gate.decisions.interface import AdvisoryDecision, Decisions
from gate.errors import ConfigError
from gate.gitinfo import show_at, tree_name
from gate.models import TriageDecision, TriageStatus
from gate.safe_input import open_regular_file

OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
MAX_VEX_BYTES = 64 * 1024 * 1024
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
ACCEPTED_UNTIL = re.compile(r"\baccepted until (\d{4}-\d{2}-\d{2})\b", re.IGNORECASE)
_PURL = re.compile(r"^pkg:pypi/(?P<name>[^@?#/]+)(?:@(?P<version>[^?#]+))?", re.IGNORECASE)


class VexError(ConfigError):
    """A VEX file that cannot be read or is not OpenVEX (exit 3)."""


@dataclass(frozen=True, kw_only=True)
class VexSource:
    """One OpenVEX file; with `at` and `root`, one inside the scanned tree is read as committed
    at that baseline commit (`ref` names it)."""

    path: Path
    kind: str = "vex"
    at: str | None = None
    ref: str | None = None
    root: Path | None = None  # the scanned tree `path` lies in (`tree_name`), with `at`

    @property
    def label(self) -> str:
        """`VEX file <path>` (`at REF` when read as committed there)."""
        where = f" at {self.ref or self.at}" if self._committed_as() is not None else ""
        return f"VEX file {self.path}{where}"

    def _committed_as(self) -> str | None:
        """The file's name in the scanned tree when it is read at the baseline, else None."""
        return tree_name(self.root, self.path) if self.at and self.root else None

    @property
    def credential(self) -> str:
        """None: a VEX file is read where it lies, never cached."""
        return ""

    def decisions(self, project: str) -> Decisions:
        """The file's statements about PyPI packages (the same for every project); read at
        the baseline, a file the baseline does not have vouches for nothing yet."""
        name = self._committed_as()
        if name is None or self.at is None or self.root is None:
            return Decisions(by_advisory=tuple(read_vex(self.path, source=self.label)))
        text = show_at(self.root, ref=self.at, name=name, limit=MAX_VEX_BYTES)
        if text is None:
            return Decisions()
        return Decisions(by_advisory=tuple(parse_vex(text, where=self.label, source=self.label)))


def read_vex(path: Path, *, source: str) -> list[AdvisoryDecision]:
    """Decisions from the OpenVEX document at `path`; `VexError` when it is not one."""
    try:
        with open_regular_file(path) as handle:  # a FIFO is refused, not waited on
            text = handle.read(MAX_VEX_BYTES + 1)
    except OSError as exc:
        raise VexError(f"{path}: cannot read VEX file: {exc.strerror or exc}") from exc
    if len(text) > MAX_VEX_BYTES:
        raise VexError(f"{path}: cannot read VEX file: larger than {MAX_VEX_BYTES} bytes")
    return parse_vex(text, where=str(path), source=source)


def parse_vex(text: bytes, *, where: str, source: str) -> list[AdvisoryDecision]:
    """Decisions from an OpenVEX document's bytes; `VexError` naming `where` when it is not one."""
    try:
        document = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VexError(f"{where}: not JSON: {exc}") from exc
    if not isinstance(document, dict) or not str(document.get("@context", "")).startswith(
        "https://openvex.dev/ns"
    ):
        raise VexError(f"{where}: not an OpenVEX document (no openvex.dev @context)")
    statements = document.get("statements")
    if not isinstance(statements, list):
        raise VexError(f"{where}: 'statements' must be a list")
    found: list[AdvisoryDecision] = []
    for number, statement in enumerate(statements, start=1):
        try:
            found.extend(_statement(statement, source=source))
        except ValueError as exc:
            raise VexError(f"{where}: statement {number}: {exc}") from exc
    return found


def _statement(statement: Any, *, source: str) -> list[AdvisoryDecision]:
    if not isinstance(statement, dict):
        raise ValueError("must be an object")
    status = statement.get("status")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    ids = _vulnerability_ids(statement.get("vulnerability"))
    decision = _decision(statement, status=status, source=source)
    if decision is None:
        return []
    return [
        AdvisoryDecision(package=name, version=version, ids=ids, decision=decision)
        for name, version in _packages(statement.get("products"))
    ]


def _vulnerability_ids(vulnerability: Any) -> frozenset[str]:
    if isinstance(vulnerability, str) and vulnerability.strip():
        return frozenset({vulnerability.strip().upper()})
    if not isinstance(vulnerability, dict):
        raise ValueError("vulnerability must name an id")
    names = [vulnerability.get("name"), vulnerability.get("@id"), *vulnerability.get("aliases", [])]
    ids = frozenset(str(n).strip().upper() for n in names if isinstance(n, str) and n.strip())
    if not ids:
        raise ValueError("vulnerability must name an id")
    return ids


def _packages(products: Any) -> list[tuple[str, str | None]]:
    if not isinstance(products, list) or not products:
        raise ValueError("products must be a non-empty list")
    purls: list[str] = []
    for product in products:
        if not isinstance(product, dict):
            raise ValueError("each product must be an object with an @id")
        purls += [_purl_of(product)]
        purls += [_purl_of(sub) for sub in product.get("subcomponents", []) or []]
    return [(unquote(m["name"]), unquote(m["version"]) if m["version"] else None)
            for m in (_PURL.match(p) for p in purls if p) if m]


def _purl_of(component: Any) -> str:
    if not isinstance(component, dict):
        return ""
    identifiers = component.get("identifiers")
    purl = identifiers.get("purl") if isinstance(identifiers, dict) else None
    return str(purl or component.get("@id") or "")


def _decision(statement: dict[str, Any], *, status: str, source: str) -> TriageDecision | None:
    author = statement.get("supplier") or None
    if status in ("not_affected", "fixed"):
        justification = statement.get("justification")
        if status == "not_affected" and justification is not None and (
            justification not in JUSTIFICATIONS
        ):
            raise ValueError(f"unknown justification {justification!r}")
        notes = (justification, statement.get("impact_statement"), statement.get("status_notes"))
        words = [str(w) for w in notes if w]
        reason = ": ".join(words) or ("fixed" if status == "fixed" else "not affected")
        if status == "not_affected" and not (justification or statement.get("impact_statement")):
            raise ValueError("not_affected needs a justification or an impact_statement")
        return TriageDecision(status=TriageStatus.FALSE_POSITIVE, reason=f"{status}, {reason}",
                              by=author, source=source)
    if status == "affected":
        action = str(statement.get("action_statement") or "")
        if not action.strip():
            raise ValueError("affected needs an action_statement")
        match = ACCEPTED_UNTIL.search(action)
        until = date.fromisoformat(match.group(1)) if match else None
        return TriageDecision(status=TriageStatus.ACCEPTED, reason=action.strip(), by=author,
                              until=until, source=source)
    return None
