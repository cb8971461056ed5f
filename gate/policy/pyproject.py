"""Policies kept in pyproject.toml: the `[tool.riskgate]` table holds a YAML policy's keys.

TOML has no positions after parsing, so a validation error is placed on the line that sets the
offending key inside the `[tool.riskgate…]` tables (else the table's header): one line naming
file and line, like YAML policies.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gate.errors import PolicyError
from gate.policy.load import describe_error
from gate.policy.schema import Policy

SECTION = "tool.riskgate"
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def riskgate_table(path: Path) -> dict[str, Any] | None:
    """The `[tool.riskgate]` table of a pyproject.toml, or None when it has none."""
    text = _read(path)
    tool = _parse(path, text).get("tool")
    table = tool.get("riskgate") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise PolicyError(f"{path}:{_section_line(text)}: tool.riskgate must be a table")
    return table


def load_pyproject_policy(path: Path, *, base_dir: Path | None = None) -> Policy:
    """Validate the `[tool.riskgate]` table; raise `PolicyError` naming file:line. Relative
    paths in it point from `base_dir` (default: the file's directory)."""
    table = riskgate_table(path)
    if table is None:
        raise PolicyError(f"{path}:1: no [tool.riskgate] table")
    try:
        return Policy.model_validate(
            table, context={"base_dir": base_dir or path.absolute().parent})
    except ValidationError as exc:
        raise PolicyError(_validation_message(exc, path)) from exc


def _validation_message(exc: ValidationError, path: Path) -> str:
    """The first error in file order, with its line, plus how many more there are."""
    text = _read(path)
    located = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        # A missing key is reported where it belongs: its parent table.
        line = _line_of(text, loc[:-1] if error["type"] == "missing" else loc)
        located.append((line, describe_error(error, [p for p in loc if p != "[key]"])))
    line, message = min(located, key=lambda item: item[0])
    more = f" (and {len(located) - 1} more)" if len(located) > 1 else ""
    return f"{path}:{line}: [{SECTION}] {message}{more}"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: cannot read: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_POSITION.search(str(exc))
        where = f"{found.group(1)}:{found.group(2)}" if found else "1"
        problem = _TOML_POSITION.sub("", str(exc)).strip()
        raise PolicyError(f"{path}:{where}: invalid TOML: {problem}") from exc


def _section_line(text: str) -> int:
    """The line of the first `[tool.riskgate…]` header (1 when there is none)."""
    return next((number for number, name in _headers(text) if _ours(name)), 1)


def _headers(text: str) -> list[tuple[int, str]]:
    found = (_HEADER.match(line) for line in text.splitlines())
    return [(number, match.group(1)) for number, match in enumerate(found, 1) if match]


def _ours(header: str) -> bool:
    name = header.replace('"', "").replace(" ", "")
    return name == SECTION or name.startswith(SECTION + ".")


def _line_of(text: str, loc: tuple[int | str, ...]) -> int:
    """The line that sets the deepest key of `loc` inside our tables, else our header's line."""
    ours: list[tuple[int, str]] = []
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            inside = _ours(header.group(1))
        if inside:
            ours.append((number, line))
    for key in reversed([part for part in loc if isinstance(part, str) and part != "[key]"]):
        pattern = re.compile(rf"(^|[\s{{,.\[]){re.escape(key)}\"?\s*(=|\]|\.)")
        match = next((number for number, line in ours if pattern.search(line)), None)
        if match:
            return match
    return _section_line(text)
