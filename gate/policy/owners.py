"""Who owns a finding: the policy's owner rules, then CODEOWNERS, then the policy's default.

CODEOWNERS patterns are gitignore-style and the last matching line wins, as on GitHub.
Dependency findings are owned through their manifest's path (`requirements.txt`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gate.errors import ConfigError
from gate.models import Finding
from gate.policy.match import finding_paths, package_matches, path_matches
from gate.policy.schema import OwnersConfig, Policy

CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True, kw_only=True)
class CodeownersRule:
    """One CODEOWNERS line: a pattern and its owners (none means explicitly unowned)."""

    pattern: str
    owners: tuple[str, ...]
    line: int

    def matches(self, path: str) -> bool:
        """gitignore-style match of this line's pattern against a relative path."""
        return path_matches(self.pattern, path)


def find_codeowners(root: Path) -> Path | None:
    """The CODEOWNERS file GitHub would use: .github/, then the root, then docs/."""
    return next((root / p for p in CODEOWNERS_LOCATIONS if (root / p).is_file()), None)


def parse_codeowners(text: str) -> list[CodeownersRule]:
    """Parse CODEOWNERS text; comments, blank lines and GitLab section headers are skipped."""
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "[", "^[")):
            continue
        pattern, *owners = line.split()
        rules.append(CodeownersRule(pattern=pattern, owners=tuple(owners), line=number))
    return rules


def load_codeowners(root: Path) -> list[CodeownersRule]:
    """Rules of the project's CODEOWNERS file, or none when it has no such file."""
    path = find_codeowners(root)
    if path is None:
        return []
    try:
        return parse_codeowners(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


class OwnerResolver:
    """Answers `owner_for(finding)` from policy owner rules, CODEOWNERS and a default.

    `codeowners` is used only when the policy's `owners.use_codeowners` is true.
    """

    def __init__(self, policy: Policy, codeowners: Sequence[CodeownersRule] = ()) -> None:
        self._config: OwnersConfig = policy.owners
        self._codeowners = tuple(codeowners) if self._config.use_codeowners else ()

    @classmethod
    def for_project(cls, policy: Policy, root: Path | None = None) -> OwnerResolver:
        """A resolver for `policy`, reading CODEOWNERS under `root` when the policy says so."""
        wanted = root is not None and policy.owners.use_codeowners
        return cls(policy, load_codeowners(root) if wanted and root else [])

    def owner_for(self, finding: Finding) -> str | None:
        """Policy rule first, then CODEOWNERS (last match wins), then the policy default."""
        return self._from_policy(finding) or self._from_codeowners(finding) or self._config.default

    def _from_policy(self, finding: Finding) -> str | None:
        paths = finding_paths(finding)
        package = finding.location.package
        for rule in self._config.rules:
            if rule.path and any(path_matches(rule.path, p) for p in paths):
                return rule.owner
            if rule.package and package and package_matches(rule.package, package):
                return rule.owner
        return None

    def _from_codeowners(self, finding: Finding) -> str | None:
        for path in finding_paths(finding):
            last = next((r for r in reversed(self._codeowners) if r.matches(path)), None)
            if last is not None:
                return " ".join(last.owners) or None
        return None
