"""Where a dependency is declared: the manifest line that names a package.

Dependency findings name a manifest but no line; code scanning and annotations then point at
line 1, often a comment. `declaration_lines` reads a manifest's text the way its format
declares packages, without resolving anything:

- requirement lines (`requirements*.txt`, `setup.cfg`, `pip freeze` locks): `name==1.0`,
  `Name[extra] >= 2; marker`, `name @ url`;
- quoted requirement strings (`pyproject.toml` arrays: `"flask>=2",`), preferring dependency
  lists over `[build-system] requires`;
- `name = ...` keys in dependency tables (`[tool.poetry.dependencies]`, Pipfile `[packages]`);
- lock entries: `name = "flask"` under `[[package]]` (poetry.lock, uv.lock) or `[[packages]]`
  (pylock.toml), and `"flask": {` inside `default` or `develop` (Pipfile.lock).

Names compare in their normalised form (PEP 503), so `PyYAML` declares `pyyaml`. A package the
manifest does not name (a transitive dependency) has no line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from gate.models import Finding, FindingKind
from gate.scanners.requirements import read_bounded

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_SECTION = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_LOCK_NAME = re.compile(rf"^\s*name\s*=\s*[\"']({_NAME})[\"']")
_JSON_KEY = re.compile(rf"^\s*\"({_NAME})\"\s*:\s*(\{{)?")
_KEY_VALUE = re.compile(rf"^\s*[\"']?({_NAME})[\"']?\s*=(?!=)")
_REQUIREMENT = re.compile(rf"^\s*([\"']?)({_NAME})\s*(?=$|[\[\s<>!~=;@(,\"'])")
_INLINE_STRING = re.compile(rf"[\"']({_NAME})\s*(?=[\"'\[\s<>!~=;@(,])")
_LOCK_SECTIONS = frozenset({"package", "packages"})
_LOCK_TABLES = ("package.", "packages.")
_DEPENDENCY_TABLE = re.compile(r"(^|\.)(dependencies|dev-dependencies|packages|dev-packages)$")
_BUILD_SECTION = "build-system"
_JSON_PACKAGE_DEPTH = 2


def normalise(name: str) -> str:
    """The PEP 503 form of a distribution name (`PyYAML`, `pyyaml` and `py_yaml` compare)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declaration_lines(text: str) -> dict[str, int]:
    """Normalised package name -> the 1-based line that declares it, first one wins.

    A declaration in a dependency list wins over one in `[build-system] requires`.
    """
    if text.lstrip().startswith("{"):
        return _json_lock_lines(text)
    best: dict[str, tuple[int, int]] = {}
    section: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";", "-")):
            continue
        header = _SECTION.match(line)
        if header and not stripped.startswith(("[\"", "['")):
            section = header.group(1).strip().strip("\"'")
            continue
        for name, rank in _declared_names(line, section):
            key = normalise(name)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, number)
    return {name: number for name, (_, number) in best.items()}


def _declared_names(line: str, section: str | None) -> list[tuple[str, int]]:
    """The packages a line declares, each with its rank (0 best)."""
    if section in _LOCK_SECTIONS:
        match = _LOCK_NAME.match(line)
        return [(match.group(1), 0)] if match else []
    if section and section.startswith(_LOCK_TABLES):  # a locked package's own dependencies
        return []
    rank = 1 if section == _BUILD_SECTION else 0
    key_value = _KEY_VALUE.match(line)
    if key_value:
        if section is not None and _DEPENDENCY_TABLE.search(section):
            return [(key_value.group(1), 0)]
        array = line[key_value.end():].lstrip()  # `dependencies = ["a>=1", "b"]` on one line
        return [(name, rank) for name in _INLINE_STRING.findall(array)] if array[:1] == "[" else []
    requirement = _REQUIREMENT.match(line)
    if requirement is None:
        return []
    quoted, name = requirement.groups()
    if quoted and section is None:  # a bare quoted word outside TOML tables declares nothing
        return []
    return [(name, rank)]


def _json_lock_lines(text: str) -> dict[str, int]:
    """Pipfile.lock: the packages are the objects two levels down (`default`, `develop`)."""
    lines: dict[str, int] = {}
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        key = _JSON_KEY.match(line)
        if key and key.group(2) and depth == _JSON_PACKAGE_DEPTH:
            lines.setdefault(normalise(key.group(1)), number)
        depth += line.count("{") - line.count("}")
    return lines


def with_declaration_lines(findings: Iterable[Finding], *, root: Path) -> list[Finding]:
    """Dependency findings given the line of their manifest that declares their package.

    Findings that already know their line, name no manifest, or whose package the manifest
    does not declare are returned unchanged. Each manifest is read once, bounded in size, and
    only inside `root`.
    """
    cache: dict[str, dict[str, int]] = {}
    result: list[Finding] = []
    for finding in findings:
        where = finding.location
        if (
            finding.kind is not FindingKind.DEPENDENCY
            or where.start_line is not None
            or not where.manifest
            or not where.package
        ):
            result.append(finding)
            continue
        if where.manifest not in cache:
            cache[where.manifest] = _manifest_lines(root, where.manifest)
        line = cache[where.manifest].get(normalise(where.package))
        if line is None:
            result.append(finding)
            continue
        moved = where.model_copy(update={"start_line": line, "end_line": line})
        result.append(finding.model_copy(update={"location": moved}))
    return result


def _manifest_lines(root: Path, manifest: str) -> dict[str, int]:
    path = Path(manifest) if PurePosixPath(manifest).is_absolute() else root / manifest
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return {}
    text = read_bounded(path) if inside else None
    return declaration_lines(text) if text else {}
