"""On a diff-aware run the change under review cannot loosen its own gate.

With `--baseline REF` the target's own policy (`riskgate.yml`, `.riskgate.yml` or
`[tool.riskgate]`), or a `--policy` file inside the scanned tree, is read as committed at REF,
the branch the change merges into, never from the working tree: a pull request that edits,
adds or deletes its policy is judged by the policy it is changing. The change's policy applies
once it is merged. Relative paths in it still point from where the file lies in the tree.
"""

from __future__ import annotations

from pathlib import Path

from gate.gitinfo import show_at, tree_name
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
    return PolicySource(path=found.path, label=f"{found.describe_name()} at {ref}",
                        anchor=root.absolute())


def named_policy_at_baseline(
    root: Path, *, given: Path, ref: str, into: Path
) -> PolicySource | None:
    """`--policy given` as committed at `ref` when the file lies inside the scanned tree (a
    change cannot loosen the policy it names either), the bundled default when `ref` did not
    have it; None for a policy outside the tree, read as it is."""
    name = tree_name(root, given)
    if name is None:
        return None
    content = _committed(root, ref=ref, name=name)
    if content is None:
        default = discover_policy(into)  # an empty folder: the bundled default
        return PolicySource(path=default.path, bundled=True,
                            label=f"{default.describe()} ({given} is not at {ref})")
    copy = into / given.name
    copy.write_bytes(content)
    return PolicySource(path=copy, label=f"{given} at {ref}", anchor=given.absolute().parent)


def _committed(root: Path, *, ref: str, name: str) -> bytes | None:
    """The file `name` of `root` as committed at `ref`; None when it did not exist there."""
    return show_at(root, ref=ref, name=name, limit=MAX_POLICY_BYTES)
