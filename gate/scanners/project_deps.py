"""A project's declared dependencies, read statically: pyproject.toml, setup.cfg, setup.py.

Nothing is built or run: `setup.py` is parsed (never executed) and only a literal
`install_requires` list is taken. Dependencies computed by code, `dynamic` ones and direct
references become `Unaudited` entries, so the gate blocks instead of passing silently.
"""

from __future__ import annotations

import ast
import configparser
import tomllib
from pathlib import Path
from typing import Any

from gate.scanners.requirements import MAX_FILE_BYTES, AuditInput, Unaudited, classify, read_bounded

PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
_NOT_RUN = "riskgate never runs a project's build code"


def read_project(root: Path) -> AuditInput:
    """The first static dependency list among PROJECT_FILES, else why there is none."""
    unaudited: list[Unaudited] = []
    for name, reader in (("pyproject.toml", _pyproject), ("setup.cfg", _setup_cfg),
                         ("setup.py", _setup_py)):
        path = root / name
        if not path.is_file():
            continue
        text = read_bounded(path)
        if text is None:
            unaudited.append(_project(name, f"unreadable (not UTF-8 or over {MAX_FILE_BYTES} "
                                            "bytes)"))
            continue
        found = reader(text, name)
        if isinstance(found, Unaudited):
            unaudited.append(found)
            continue
        return _audit_input(found, name)  # a static list: earlier files' problems are moot
    if not unaudited:
        unaudited.append(_project("project", "no pyproject.toml, setup.cfg or setup.py"))
    return AuditInput(unaudited=tuple(unaudited))


def _audit_input(lines: list[str], name: str) -> AuditInput:
    results = [classify(line, where=f"{name}: dependency {index}")
               for index, line in enumerate(lines, start=1)]
    return AuditInput(requirements=tuple(r for r in results if isinstance(r, str)),
                      unaudited=tuple(r for r in results if isinstance(r, Unaudited)))


def _pyproject(text: str, name: str) -> list[str] | Unaudited:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        return _project(name, f"not valid TOML: {exc}")
    project = data.get("project")
    if not isinstance(project, dict):
        return _project(name, "no [project] table with dependencies")
    dynamic = project.get("dynamic")
    if isinstance(dynamic, list) and "dependencies" in dynamic:
        return _project(name, f"dependencies are dynamic (computed at build time; {_NOT_RUN})")
    return _strings(project.get("dependencies", []), name)


def _setup_cfg(text: str, name: str) -> list[str] | Unaudited:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        return _project(name, f"not a readable setup.cfg: {str(exc).splitlines()[0]}")
    value = parser.get("options", "install_requires", fallback=None)
    if value is None:
        return _project(name, "no [options] install_requires")
    if value.strip().startswith(("file:", "attr:")):
        return _project(name, f"install_requires is read from elsewhere ({value.strip()})")
    return [line.strip() for line in value.splitlines() if line.strip()]


def _setup_py(text: str, name: str) -> list[str] | Unaudited:
    try:
        tree = ast.parse(text, filename=name)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _project(name, "not parseable Python")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) == "setup":
            for keyword in node.keywords:
                if keyword.arg == "install_requires":
                    return _literal_list(keyword.value, name)
    return _project(name, f"no literal install_requires in setup(); {_NOT_RUN}")


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    return node.func.attr if isinstance(node.func, ast.Attribute) else None


def _literal_list(node: ast.expr, name: str) -> list[str] | Unaudited:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return _project(name, f"install_requires is computed by code; {_NOT_RUN}")
    return _strings(value, name)


def _strings(value: Any, name: str) -> list[str] | Unaudited:
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    return _project(name, "dependencies are not a list of strings")


def _project(name: str, reason: str) -> Unaudited:
    return Unaudited(name=name, reason=f"{name}: {reason}", where=name)
