"""Which policy applies to a target: the one named, else the target's own, else the bundled one.

`with_fail_on` adds the command line's `--fail-on` to whichever applies.

The target's own policy is `riskgate.yml` or `.riskgate.yml` at its root, else the
`[tool.riskgate]` table of its `pyproject.toml`. Only the target's root is looked at (not its
parents) so that scanning a sub-folder or an example never picks up an enclosing project's policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gate.config import default_policy_path
from gate.errors import ConfigError
from gate.models import Severity
from gate.policy.load import load_policy
from gate.policy.pyproject import load_pyproject_policy, riskgate_table
from gate.policy.schema import MatchSpec, Policy, Rule, RuleAction

POLICY_FILES = ("riskgate.yml", ".riskgate.yml")
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True, kw_only=True)
class PolicySource:
    """Where the applied policy came from."""

    path: Path
    bundled: bool = False
    label: str | None = None  # how reports name it when `path` is a copy (see gate.policy.trusted)
    anchor: Path | None = None  # a copy's: where its relative paths point from (the original's)

    def describe(self) -> str:
        """How reports name it: the file (with its table for pyproject), or `bundled:<name>`."""
        if self.label:
            return self.label
        if self.bundled:
            return f"bundled:{self.path.name}"
        return self.describe_name(str(self.path))

    def describe_name(self, name: str | None = None) -> str:
        """The file's name (or `name`), with its table for pyproject."""
        shown = name or self.path.name
        return f"{shown} [tool.riskgate]" if self.path.suffix == ".toml" else shown


def discover_policy(target: Path, *, given: Path | None = None) -> PolicySource:
    """The policy for `target`: `given`, the target's own (see module doc), else the default."""
    if given is not None:
        return PolicySource(path=given)
    present = [target / name for name in POLICY_FILES if (target / name).is_file()]
    if len(present) > 1:
        raise ConfigError(
            f"{present[0]} and {present[1]} both exist: keep one (or choose with --policy)"
        )
    if present:
        return PolicySource(path=present[0])
    pyproject = target / PYPROJECT
    if pyproject.is_file() and riskgate_table(pyproject) is not None:
        return PolicySource(path=pyproject)
    return PolicySource(path=default_policy_path(), bundled=True)


def read_policy(path: Path, *, base_dir: Path | None = None) -> Policy:
    """Load a YAML policy, or the `[tool.riskgate]` table of a `.toml` file; relative paths
    in it point from `base_dir` (default: the file's directory)."""
    if path.suffix == ".toml":
        return load_pyproject_policy(path, base_dir=base_dir)
    return load_policy(path, base_dir=base_dir)


def with_fail_on(policy: Policy, severity: Severity | None) -> Policy:
    """The policy plus `--fail-on`: a first rule that blocks `severity` and worse."""
    if severity is None:
        return policy
    rule = Rule(
        name=f"--fail-on {severity.value}",
        action=RuleAction.BLOCK,
        description="added on the command line",
        match=MatchSpec(min_severity=severity),
    )
    return policy.model_copy(update={"rules": (rule, *policy.rules)})
