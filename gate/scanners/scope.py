"""Which files a code scanner must cover: the tree, minus what the policy and ignore files exclude.

The gate enumerates the files in scope itself and never takes a scanner's word for it: a
scanner that skipped a file (too big, too many matches, a parse failure, a time-out) or never
looked at it is then visible. Out of scope, and reported as excluded rather than as findings:
- the policy's `scope.exclude` globs (gitignore syntax, relative to the scanned root);
- the target's `.semgrepignore` files (with `:include` lines), when the root has one; on a
  diff-aware run as committed at the baseline (`ignore_files_at`), so that a change cannot
  take its own files out of the scan (what semgrep then leaves out is reported not scanned);
- untracked files git ignores, when the root is the top of a git work tree;
- symbolic links (what they point at inside the tree is scanned where it lives).
`.git/` is never in scope. Which files a scanner must cover is decided by `Targets`: the
file extensions of the rules' languages and the `paths.include` globs of language-less rules.
"""

from __future__ import annotations

import functools
import os
import posixpath
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from gate.gitinfo import files_at, show_at
from gate.models import PathNote

IGNORE_FILE = ".semgrepignore"
EXCLUDED_SAMPLE = 200
_EXTENSIONS = {
    "python": (".py", ".pyi", ".pyw"),
    "py": (".py", ".pyi", ".pyw"),
    "javascript": (".js", ".jsx", ".mjs", ".cjs"),
    "js": (".js", ".jsx", ".mjs", ".cjs"),
    "typescript": (".ts", ".tsx", ".mts", ".cts"),
    "ts": (".ts", ".tsx", ".mts", ".cts"),
    "html": (".html", ".htm"),
    "json": (".json",),
    "yaml": (".yml", ".yaml"),
    "go": (".go",),
    "java": (".java",),
    "ruby": (".rb",),
    "bash": (".sh", ".bash"),
    "sh": (".sh", ".bash"),
    "terraform": (".tf", ".hcl"),
    "hcl": (".tf", ".hcl"),
    "php": (".php",),
    "c": (".c", ".h"),
    "rust": (".rs",),
    "kotlin": (".kt", ".kts"),
}


@dataclass(frozen=True, kw_only=True)
class Targets:
    """What files the rules look at: extensions, plus globs of language-less (generic) rules."""

    extensions: frozenset[str] = frozenset()
    globs: tuple[str, ...] = ()

    def wants(self, path: str) -> bool:
        """True when some rule would scan `path` (relative, `/`-separated)."""
        if os.path.splitext(path)[1].lower() in self.extensions:
            return True
        return bool(self.globs) and _spec(self.globs).match_file(path)


def targets_of_rules(rules: Iterable[dict[str, Any]]) -> Targets:
    """The targets of semgrep rule mappings (`languages`, `paths.include`)."""
    extensions: set[str] = set()
    globs: list[str] = []
    for rule in rules:
        languages = rule.get("languages") or ()
        known = [lang for lang in languages if isinstance(lang, str)]
        for language in known:
            extensions.update(_EXTENSIONS.get(language.lower(), ()))
        generic = not known or any(lang.lower() in ("generic", "regex", "none") for lang in known)
        paths = rule.get("paths")
        include = paths.get("include") if isinstance(paths, dict) else None
        if generic and isinstance(include, list):
            globs.extend(str(g) for g in include if isinstance(g, str))
    return Targets(extensions=frozenset(extensions), globs=tuple(dict.fromkeys(globs)))


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Files in scope (relative, sorted) and a bounded sample of what was excluded, with why."""

    files: tuple[str, ...]
    excluded: tuple[PathNote, ...] = ()
    excluded_total: int = 0
    uses_ignore_files: bool = False


@dataclass(kw_only=True)
class _Rules:
    """The exclusion rules in force while walking, each with the reason it reports."""

    root: Path
    policy: pathspec.PathSpec[Any] | None
    policy_patterns: tuple[str, ...]
    git_ignored: frozenset[str]
    ignore_files: bool
    local: dict[str, pathspec.PathSpec[Any]] = field(default_factory=dict)

    def reason(self, rel: str, *, is_dir: bool) -> str | None:
        probe = rel + "/" if is_dir else rel
        if self.policy is not None and self.policy.match_file(probe):
            pattern = next(p for p in self.policy_patterns if _spec((p,)).match_file(probe))
            return f"excluded by the policy (scope.exclude '{pattern}')"
        for base, spec in self.local.items():
            inner = probe if not base else probe.removeprefix(base + "/")
            if (not base or probe.startswith(base + "/")) and spec.match_file(inner):
                where = f"{base}/{IGNORE_FILE}" if base else IGNORE_FILE
                return f"excluded by {where}"
        if rel in self.git_ignored or (rel + "/") in self.git_ignored:
            return "untracked and ignored by git (.gitignore)"
        return None


def enumerate_scope(
    root: Path, *, targets: Targets, exclude: Sequence[str] = (),
    skip_dir: Callable[[Path], str | None] | None = None, ignore_files_at: str | None = None,
) -> Scope:
    """Walk `root` (symbolic links are not followed) and sort files into scope and excluded.

    `skip_dir` may put a directory out of scope whatever the policy says, giving the reason.
    `ignore_files_at` (a git ref) reads the `.semgrepignore` files as committed there.
    """
    read = _IgnoreFilesAt(root, ignore_files_at) if ignore_files_at else _ignore_file_here(root)
    rules = _Rules(
        root=root,
        policy=_spec(tuple(exclude)) if exclude else None,
        policy_patterns=tuple(exclude),
        git_ignored=git_ignored(root),
        ignore_files=read("") is not None,
    )
    files: list[str] = []
    excluded: list[PathNote] = []
    total = 0
    for current, dirs, names in os.walk(root):
        base = Path(current).relative_to(root).as_posix()
        base = "" if base == "." else base
        if rules.ignore_files and (lines := read(base)) is not None:
            rules.local[base] = _spec(tuple(lines))
        kept = []
        for name in sorted(dirs):
            rel = f"{base}/{name}" if base else name
            if name == ".git":
                continue
            why = "symbolic link" if (Path(current) / name).is_symlink() else None
            why = why or (skip_dir(Path(current) / name) if skip_dir else None)
            why = why or rules.reason(rel, is_dir=True)
            if why:
                total += 1
                if len(excluded) < EXCLUDED_SAMPLE:
                    excluded.append(PathNote(path=rel + "/", reason=why))
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            rel = f"{base}/{name}" if base else name
            if not targets.wants(rel):
                continue
            why = "symbolic link" if (Path(current) / name).is_symlink() else None
            why = why or rules.reason(rel, is_dir=False)
            if why:
                total += 1
                if len(excluded) < EXCLUDED_SAMPLE:
                    excluded.append(PathNote(path=rel, reason=why))
            else:
                files.append(rel)
    return Scope(
        files=tuple(sorted(files)),
        excluded=tuple(excluded),
        excluded_total=total,
        uses_ignore_files=rules.ignore_files,
    )


def git_ignored(root: Path) -> frozenset[str]:
    """Untracked paths git ignores under `root` when `root` is a work tree's top, else none.

    semgrep leaves exactly these out when it scans a git checkout from its top (tracked files
    are scanned even when a .gitignore pattern matches them).
    """
    if not (root / ".git").exists():
        return frozenset()
    argv = ["git", "-C", str(root), "ls-files", "-z", "--others", "--ignored",
            "--exclude-standard", "--directory"]
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, capture_output=True, timeout=60, check=False,
            env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    if result.returncode != 0:
        return frozenset()
    entries = result.stdout.decode("utf-8", "replace").split("\0")
    return frozenset(entry for entry in entries if entry)


def _ignore_file_here(root: Path) -> Callable[[str], list[str] | None]:
    """The lines of the ignore file of a directory under `root` (None: it has none)."""

    def read(base: str) -> list[str] | None:
        path = root / base / IGNORE_FILE
        return _ignore_lines(path) if path.is_file() else None

    return read


class _IgnoreFilesAt:
    """The ignore files of a directory under `root` as committed at `ref` (`:include`d files
    too, read at `ref`); None for a directory that had none there."""

    def __init__(self, root: Path, ref: str) -> None:
        self.root, self.ref = root, ref
        self.read: dict[str, list[str]] = {}
        self.committed = frozenset(
            path for path in files_at(root, ref)
            if path == IGNORE_FILE or path.endswith("/" + IGNORE_FILE))

    def __call__(self, base: str) -> list[str] | None:
        name = f"{base}/{IGNORE_FILE}" if base else IGNORE_FILE
        if name not in self.committed:
            return None
        if name not in self.read:
            self.read[name] = self._lines(name)
        return self.read[name]

    def _lines(self, name: str, *, depth: int = 0) -> list[str]:
        text = show_at(self.root, ref=self.ref, name=name)
        lines: list[str] = []
        for line in (text or b"").decode("utf-8", "replace").splitlines():
            if line.startswith(":include ") and depth < 3:
                included = posixpath.normpath(posixpath.join(
                    posixpath.dirname(name), line.removeprefix(":include ").strip()))
                lines.extend(self._lines(included, depth=depth + 1))
            elif not line.startswith(":"):
                lines.append(line)
        return lines


def _ignore_lines(path: Path, *, depth: int = 0) -> list[str]:
    """Lines of an ignore file, `:include FILE` expanded (relative to the file; bounded)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith(":include ") and depth < 3:
            lines.extend(_ignore_lines(path.parent / line.removeprefix(":include ").strip(),
                                       depth=depth + 1))
        elif not line.startswith(":"):
            lines.append(line)
    return lines


@functools.lru_cache(maxsize=256)
def _spec(patterns: tuple[str, ...]) -> pathspec.PathSpec[Any]:
    return pathspec.PathSpec.from_lines("gitignore", patterns)
