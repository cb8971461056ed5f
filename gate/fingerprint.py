"""Stable fingerprints: the identity of a risk across runs, reformatting and line moves."""

from __future__ import annotations

import hashlib
import re

_WHITESPACE = re.compile(r"\s+")


def normalise_code(code: str) -> str:
    """Collapse all whitespace so re-indenting or re-wrapping keeps the fingerprint."""
    return _WHITESPACE.sub("", code)


def _digest(*parts: str) -> str:
    joined = "\x1f".join(parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


def code_fingerprint(*, rule_id: str, path: str, matched_code: str) -> str:
    """Hash of rule id, relative path and the normalised matched code (not the line number)."""
    return _digest("code", rule_id, path.replace("\\", "/"), normalise_code(matched_code))


def canonical_advisory_id(ids: tuple[str, ...] | list[str]) -> str:
    """One id for a vulnerability known by several: the lowest CVE, else GHSA, else any."""
    unique = sorted({i.strip().upper() for i in ids if i and i.strip()})
    if not unique:
        raise ValueError("an advisory needs at least one id")
    for prefix in ("CVE-", "GHSA-"):
        preferred = [i for i in unique if i.startswith(prefix)]
        if preferred:
            return preferred[0]
    return unique[0]


def package_key(name: str) -> str:
    """A distribution name as PyPI normalises it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_fingerprint(
    *,
    package: str,
    advisory_ids: tuple[str, ...] | list[str],
    manifest: str | None = None,
    version: str | None = None,
) -> str:
    """Hash of the normalised package name and the canonical advisory id (aliases merged),
    and of the manifest and the version when known: one advisory of one package in two
    manifests, or at two versions, is two findings.

    Without manifest and version it is the plain (package, advisory) hash that riskgate used
    before; `legacy_dependency_fingerprint` names it so registers and decisions recorded then
    can be matched.
    """
    name = package_key(package)
    advisory = canonical_advisory_id(advisory_ids)
    if manifest is None and version is None:
        return _digest("dependency", name, advisory)
    place = (manifest or "").replace("\\", "/")
    return _digest("dependency", name, advisory, "at", place, (version or "").strip().lower())


def legacy_dependency_fingerprint(*, package: str, advisory_ids: tuple[str, ...] | list[str],
                                  ) -> str:
    """The (package, advisory) fingerprint of riskgate before manifests and versions counted."""
    return dependency_fingerprint(package=package, advisory_ids=advisory_ids)
