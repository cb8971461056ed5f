"""What git knows about the scanned tree: commit, branch, and a checkout of a baseline ref."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gate.errors import ConfigError


def _git(root: Path, *args: str) -> str | None:
    """Run a read-only git command in `root`; None when git or the repository is absent."""
    git = shutil.which("git")
    if git is None:
        return None
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [git, "-C", str(root), *args], capture_output=True, text=True, check=False, timeout=30
    )
    return result.stdout.strip() if result.returncode == 0 else None


def committed(path: Path) -> bool:
    """Whether the repository holding `path` tracks it: the file came with the checkout, so
    in CI a pull request could have written it (False outside a repository, or without git)."""
    if not path.parent.is_dir():
        return False
    return _git(path.parent, "ls-files", "--error-unmatch", "--", path.name) is not None


def current_commit(root: Path) -> str | None:
    """The commit being scanned: $GITHUB_SHA in Actions, else HEAD of the target's repository."""
    return os.environ.get("GITHUB_SHA") or _git(root, "rev-parse", "HEAD")


def current_branch(root: Path) -> str | None:
    """The branch being scanned: the PR head or ref name in Actions, else the checked-out branch."""
    for variable in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        if os.environ.get(variable):
            return os.environ[variable]
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    return None if branch in (None, "HEAD") else branch


def repository_prefix(root: Path) -> str | None:
    """Where `root` sits in its repository ('' at the top, 'services/api' below it)."""
    prefix = _git(root, "rev-parse", "--show-prefix")
    return None if prefix is None else prefix.rstrip("/")


def resolve_commit(root: Path, ref: str) -> str:
    """The commit `ref` names in the repository of `root`; `ConfigError` when there is none."""
    toplevel = _git(root, "rev-parse", "--show-toplevel")
    if toplevel is None:
        raise ConfigError(f"--baseline {ref}: {root} is not inside a git repository")
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit is None:
        raise ConfigError(f"--baseline {ref}: no such commit, branch or tag in {toplevel}")
    return commit


def _paths(root: Path, *args: str) -> frozenset[str]:
    """NUL-separated paths printed by a git command run in `root`."""
    git = shutil.which("git")
    if git is None:
        raise ConfigError("git is not installed")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [git, "-C", str(root), *args], capture_output=True, check=False, timeout=120
    )
    if result.returncode != 0:
        problem = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"git {args[0]} failed in {root}: {problem[-1] if problem else '?'}")
    return frozenset(p for p in result.stdout.decode("utf-8", "surrogateescape").split("\0") if p)


def tree_name(root: Path, path: Path) -> str | None:
    """`path`'s name inside the tree at `root` (None: outside it). Inside by where it is
    written or by where it resolves to: a symbolic link in the tree is still the tree's."""
    pairs = ((Path(os.path.normpath(root.absolute())), Path(os.path.normpath(path.absolute()))),
             (root.resolve(), path.resolve()))
    for base, target in pairs:
        if target.is_relative_to(base):
            return target.relative_to(base).as_posix()
    return None


def show_at(root: Path, *, ref: str, name: str, limit: int = 1024 * 1024) -> bytes | None:
    """The file `name` (relative to `root`) as committed at `ref`; None when it did not exist
    there. `ConfigError` without git or when it is larger than `limit` bytes."""
    git = shutil.which("git")
    if git is None:
        raise ConfigError("--baseline needs git, which is not installed")
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [git, "-C", str(root), "show", f"{ref}:./{name}"],
        capture_output=True, check=False, timeout=60,
    )
    if result.returncode != 0:
        return None
    if len(result.stdout) > limit:
        raise ConfigError(f"{name} at {ref}: larger than {limit} bytes")
    return result.stdout


def files_at(root: Path, commit: str) -> frozenset[str]:
    """Files of `commit` under `root`, relative to `root`."""
    return _paths(root, "ls-tree", "-r", "-z", "--name-only", commit)


def changed_since(root: Path, commit: str) -> frozenset[str]:
    """Files under `root` (relative to it) whose content in the working tree differs from
    `commit`: modified, added to the index, or deleted. Untracked files are not listed."""
    return _paths(root, "diff", "--name-only", "-z", "--no-renames", "--relative", commit, "--")


@contextmanager
def checkout_ref(root: Path, ref: str) -> Iterator[Path]:
    """Yield a temporary checkout of `ref` in the same relative place as `root` in its repo."""
    commit = resolve_commit(root, ref)
    toplevel = _git(root, "rev-parse", "--show-toplevel") or str(root)
    relative = root.resolve().relative_to(Path(toplevel).resolve())
    with tempfile.TemporaryDirectory(prefix="riskgate-baseline-") as tmp:
        worktree = Path(tmp) / "tree"
        if _git(root, "worktree", "add", "--detach", "--quiet", str(worktree), commit) is None:
            raise ConfigError(f"--baseline {ref}: git could not check out {commit[:12]}")
        try:
            yield worktree / relative
        finally:
            _git(root, "worktree", "remove", "--force", str(worktree))
