"""The register's dependency decisions as an OpenVEX document (`gate register export --vex`).

A false positive is `not_affected` with a justification (one of OpenVEX's, when the reason
names it, else `vulnerable_code_not_in_execute_path`) and the reason as status notes (the
schema allows a justification or an impact statement, not both); an
accepted risk is `affected` with an action statement `Risk accepted until DATE (approved by
X): reason`, which `gate scan --vex` reads back as the same acceptance. Products are package
URLs (`pkg:pypi/name@version`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from gate import __version__
from gate.decisions.vex import JUSTIFICATIONS, OPENVEX_CONTEXT
from gate.fingerprint import package_key
from gate.models import TriageStatus
from register.decisions import TriagedDependency

DEFAULT_JUSTIFICATION = "vulnerable_code_not_in_execute_path"


def purl(package: str, version: str | None) -> str:
    """The package URL of a PyPI package (name normalised, version percent-encoded)."""
    base = f"pkg:pypi/{package_key(package)}"
    return f"{base}@{quote(version, safe='')}" if version else base


def vex_document(
    entries: Sequence[TriagedDependency], *, author: str, now: datetime | None = None
) -> dict[str, Any]:
    """An OpenVEX v0.2.0 document with one statement per triaged dependency entry."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    statements = [_statement(entry, at=at) for entry in entries]
    digest = hashlib.sha256(json.dumps(statements, sort_keys=True).encode()).hexdigest()[:32]
    return {
        "@context": OPENVEX_CONTEXT,
        "@id": f"https://riskgate.dev/vex/{digest}",
        "author": author,
        "role": "Document Creator",
        "timestamp": _iso(at),
        "version": 1,
        "tooling": f"riskgate {__version__}",
        "statements": statements,
    }


def _statement(entry: TriagedDependency, *, at: datetime) -> dict[str, Any]:
    decision = entry.decision
    product = purl(entry.package, entry.version)
    statement: dict[str, Any] = {
        "vulnerability": {"name": entry.advisory, "aliases": sorted(set(entry.aliases))},
        "products": [{"@id": product, "identifiers": {"purl": product}}],
        "timestamp": _iso(entry.decided_at or at),
    }
    if decision.by:
        statement["supplier"] = decision.by
    if decision.status is TriageStatus.FALSE_POSITIVE:
        named = [j for j in JUSTIFICATIONS if j in decision.reason.replace(" ", "_").lower()]
        statement.update(
            status="not_affected",
            justification=named[0] if named else DEFAULT_JUSTIFICATION,
            status_notes=f"{entry.project}: false positive: {decision.reason}",
        )
        return statement
    until = decision.until.isoformat() if decision.until else "(no date)"
    by = f" (approved by {decision.by})" if decision.by else ""
    statement.update(
        status="affected",
        action_statement=f"{entry.project}: Risk accepted until {until}{by}: {decision.reason}",
        action_statement_timestamp=statement["timestamp"],
    )
    return statement


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
