"""Does a finding meet a rule's conditions? Pure predicates over `Finding` and `MatchSpec`.

Path globs follow gitignore rules (`*.py` matches at any depth, `src/**` everything under src);
package globs compare PEP 503-normalised names; rule-id globs are case-insensitive and are tried
on the rule id, on every alias, and on the last dotted segment of a semgrep rule id (semgrep
prefixes local rules with their folder: `policies.semgrep.python-sqli`).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import pathspec

from gate.models import Finding, Severity
from gate.policy.schema import MatchSpec, normalise_cwe

_SEPARATORS = re.compile(r"[-_.]+")


def normalise_package(name: str) -> str:
    """PEP 503: case-insensitive, runs of `-`, `_` and `.` are one `-`."""
    return _SEPARATORS.sub("-", name).lower()


@functools.lru_cache(maxsize=1024)
def _path_spec(pattern: str) -> pathspec.PathSpec[Any]:
    return pathspec.PathSpec.from_lines("gitignore", [pattern])


def path_matches(pattern: str, path: str) -> bool:
    """gitignore-style match of one pattern against a relative, `/`-separated path."""
    return _path_spec(pattern).match_file(path.replace("\\", "/").removeprefix("./"))


def package_matches(pattern: str, package: str) -> bool:
    """Glob match of normalised package names (`Django*` matches `django-rest-framework`)."""
    return fnmatch.fnmatchcase(normalise_package(package), normalise_package(pattern))


def id_matches(pattern: str, ids: Iterable[str]) -> bool:
    """Case-insensitive glob match against any id, or the last dotted segment of one."""
    glob = pattern.lower()
    for item in ids:
        lowered = item.lower()
        if fnmatch.fnmatchcase(lowered, glob):
            return True
        if "." in lowered and fnmatch.fnmatchcase(lowered.rsplit(".", 1)[1], glob):
            return True
    return False


def finding_paths(finding: Finding) -> tuple[str, ...]:
    """The paths a path glob is tried on: the file of code, the manifest of a dependency."""
    location = finding.location
    return tuple(p for p in (location.path, location.manifest) if p)


def _severity_ok(spec: MatchSpec, finding: Finding, unknown_as: Severity) -> bool:
    effective = unknown_as if finding.severity is Severity.UNKNOWN else finding.severity
    if spec.severity is not None and not {finding.severity, effective} & set(spec.severity):
        return False
    return spec.min_severity is None or effective.rank >= spec.min_severity.rank


def _at_least(value: float | None, minimum: float | None) -> bool:
    return minimum is None or (value is not None and value >= minimum)


def _flags_ok(spec: MatchSpec, finding: Finding) -> bool:
    checks = (
        spec.kind is None or finding.kind is spec.kind,
        spec.known_exploited is None or finding.known_exploited is spec.known_exploited,
        spec.fix_available is None or finding.fix_available is spec.fix_available,
        _at_least(finding.epss, spec.epss_min),
        _at_least(finding.epss_percentile, spec.epss_percentile_min),
    )
    return all(checks)


def _any(globs: tuple[str, ...] | None, test: Callable[[str], bool]) -> bool:
    return globs is None or any(test(glob) for glob in globs)


def _globs_ok(spec: MatchSpec, finding: Finding) -> bool:
    cwes = {normalise_cwe(cwe) for cwe in finding.cwe}
    package = finding.location.package
    paths = finding_paths(finding)
    return all(
        (
            _any(spec.cwe, lambda g: any(fnmatch.fnmatchcase(c, g) for c in cwes)),
            _any(spec.path, lambda g: any(path_matches(g, p) for p in paths)),
            _any(spec.package, lambda g: package is not None and package_matches(g, package)),
            _any(spec.rule_id, lambda g: id_matches(g, finding.ids)),
            _any(spec.scanner, lambda g: fnmatch.fnmatchcase(finding.scanner.lower(), g.lower())),
        )
    )


def matches(spec: MatchSpec, finding: Finding, *, unknown_as: Severity) -> bool:
    """True when every condition in `spec` holds for `finding` (an empty spec matches all).

    `unknown_as` is the severity an `unknown` finding counts as (the policy's
    `unknown_severity`); a `severity` list naming `unknown` also matches it literally.
    """
    return (
        _severity_ok(spec, finding, unknown_as)
        and _flags_ok(spec, finding)
        and _globs_ok(spec, finding)
    )
