"""Which dependency manifests a scan audits: every one in the tree that is in scope.

Without `-r`, riskgate walks the scanned tree the way the code scanners' scope does
(`scope.enumerate_scope`: the policy's `scope.exclude`, `.semgrepignore`, files git ignores,
no symbolic links) and also skips environments and vendored code (`.venv`, any directory with
a `pyvenv.cfg`, `node_modules`, `site-packages`, `vendor`…). In each directory it audits:

- every lock file (`poetry.lock`, `uv.lock`, `Pipfile.lock`) and every requirements file
  (`requirements*.txt`, and `*.txt` inside a `requirements/` directory);
- else the project (`pyproject.toml`, `setup.cfg`, `setup.py`): a directory with a lock or
  requirements file pins its project's dependencies there, and the project's ranges would
  only be resolved to the latest releases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gate.errors import ConfigError, ScannerError
from gate.models import Coverage, PathNote
from gate.scanners.interface import ScanTarget
from gate.scanners.lockfiles import LOCK_FILES, read_lock
from gate.scanners.project_deps import PROJECT_FILES, read_project
from gate.scanners.requirements import AuditInput, logical_lines, read_requirements
from gate.scanners.scope import Targets, enumerate_scope

NAME = "pip-audit"
ENVIRONMENT_DIRS = frozenset({
    ".git", ".venv", "venv", ".tox", ".nox", "node_modules", "site-packages", "__pypackages__",
    "__pycache__", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache",
})
VENDORED_DIRS = frozenset({"vendor", "vendored", "_vendor", "third_party", "third-party"})
_GLOBS = ("requirements*.txt", "**/requirements/*.txt", *PROJECT_FILES, *LOCK_FILES)


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """One thing to audit: a requirements or lock file or a project directory, and its name."""

    path: Path
    display: str
    is_project: bool = False

    @property
    def is_lock(self) -> bool:
        """True for poetry.lock, uv.lock and Pipfile.lock."""
        return not self.is_project and self.path.name in LOCK_FILES


@dataclass(frozen=True, kw_only=True)
class Discovery:
    """The manifests to audit and what the walk left out, with why."""

    manifests: list[Manifest]
    coverage: Coverage | None = None


def find_manifests(target: ScanTarget) -> list[Manifest]:
    """The manifests `discover` finds (see there)."""
    return discover(target).manifests


def discover(target: ScanTarget) -> Discovery:
    """Explicit requirement files (`-r`), else every manifest in scope below the root.

    Raises `ScannerError` when there is nothing to audit, naming what was left out.
    """
    root = target.root
    if target.requirements:
        return Discovery(manifests=[_explicit(root, path) for path in target.requirements])
    scope = enumerate_scope(root, targets=Targets(globs=_GLOBS), exclude=target.exclude,
                            skip_dir=_environment_or_vendored,
                            ignore_files_at=target.ignore_files_at)
    manifests = _per_directory(root, scope.files)
    covered = len(manifests)
    coverage = Coverage(in_scope=covered, scanned=covered, excluded=scope.excluded,
                        excluded_total=scope.excluded_total)
    if not manifests:
        raise ScannerError(NAME, f"nothing to audit in {root} (no requirements*.txt, lock file "
                                 f"or pyproject.toml in scope){_left_out(scope.excluded)}; "
                                 "name the files to audit with -r")
    return Discovery(manifests=manifests, coverage=coverage)


def is_wanted(manifest: Manifest, target: ScanTarget) -> bool:
    """True unless the target is narrowed (`only`) to other manifests."""
    return target.only is None or manifest.display in target.only


def has_includes(path: Path) -> bool:
    """True when a requirements file pulls in other files (`-r`, `-c`): its content alone does
    not say what it audits."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    return any(line.startswith(("-r", "-c", "--requirement", "--constraint"))
               for _, line in logical_lines(text))


def audit_input(manifest: Manifest, *, root: Path) -> AuditInput:
    """Read a manifest (never building or running it) into what pip-audit may audit.

    Includes may name files of the tree, or beside an operator-given file outside it.
    """
    if manifest.is_project:
        return read_project(manifest.path)
    if manifest.is_lock:
        return read_lock(manifest.path, display=manifest.display)
    allowed = (root, manifest.path.absolute().parent)
    return read_requirements(manifest.path, display=manifest.display, allowed=allowed)


def _per_directory(root: Path, files: tuple[str, ...]) -> list[Manifest]:
    by_directory: dict[PurePosixPath, list[PurePosixPath]] = {}
    for name in files:
        path = PurePosixPath(name)
        by_directory.setdefault(path.parent, []).append(path)
    manifests: list[Manifest] = []
    for directory in sorted(by_directory):
        found = by_directory[directory]
        pinned = [p for p in found if p.name not in PROJECT_FILES]
        if pinned:
            manifests += [Manifest(path=root / p, display=p.as_posix()) for p in sorted(pinned)]
            continue
        first = min(found, key=lambda p: PROJECT_FILES.index(p.name))
        manifests.append(Manifest(path=root / directory, display=first.as_posix(),
                                  is_project=True))
    return manifests


def _environment_or_vendored(directory: Path) -> str | None:
    name = directory.name
    if name in ENVIRONMENT_DIRS or (directory / "pyvenv.cfg").is_file():
        return "an environment or tool directory"
    if name in VENDORED_DIRS:
        return "vendored code"
    return None


def _left_out(excluded: tuple[PathNote, ...], *, limit: int = 3) -> str:
    if not excluded:
        return ""
    shown = ", ".join(note.path for note in excluded[:limit])
    more = f" and {len(excluded) - limit} more" if len(excluded) > limit else ""
    return f"; left out: {shown}{more}"


def _explicit(root: Path, path: Path) -> Manifest:
    full = path if path.is_absolute() else root / path
    if not full.is_file():
        raise ConfigError(f"{NAME}: requirements file not found: {full}")
    try:
        display = full.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        display = path.as_posix()
    return Manifest(path=full, display=display)
