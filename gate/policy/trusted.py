"""On a diff-aware run the change under review cannot loosen its own gate.

With `--baseline REF` and no `--policy`, the target's own policy (`riskgate.yml`,
`.riskgate.yml` or `[tool.riskgate]`) is read as committed at REF, the branch the change merges
into, never from the working tree: a pull request that edits, adds or deletes its policy is
judged by the policy it is changing. The change's policy applies once it is merged.
"""

from __future__ import annotations

from pathlib import Path

from gate.gitinfo import show_at
from gate.policy.discover import POLICY_FILES, PYPROJECT, PolicySource, discover_policy

MAX_POLICY_BYTES = 1024 * 1024


def policy_at_baseline(root: Path, *, ref: str, into: Path) -> PolicySource:
    """The policy `root` had at `ref` (copied under `into`), else the bundled default."""
    for name in (*POLICY_FILES, PYPROJECT):
        content = _committed(root, ref=ref, name=name)
        if content is not None:
            (into / name).write_bytes(content)
    found = discover_policy(into)
    if found.bundled:
        return found
    return PolicySource(path=found.path, label=f"{found.describe_name()} at {ref}")


def _committed(root: Path, *, ref: str, name: str) -> bytes | None:
    """The file `name` of `root` as committed at `ref`; None when it did not exist there."""
    return show_at(root, ref=ref, name=name, limit=MAX_POLICY_BYTES)
