"""Lock files read statically into exact pins: poetry.lock, uv.lock, Pipfile.lock.

A lock file names every package of the environment at one version, so it is audited like a
file of `==` pins (no resolution, fully offline with `--advisories`). Packages the lock takes
from a VCS, a path, a directory or a URL are `Unaudited` (riskgate never builds them); the
project itself (uv's `editable`/`virtual` root) is not a dependency and is left out.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from gate.scanners.requirements import MAX_FILE_BYTES, AuditInput, Unaudited, read_bounded

LOCK_FILES = ("poetry.lock", "uv.lock", "Pipfile.lock")
_NOT_BUILT = "riskgate never builds or runs code from the scanned tree"
_UV_PROJECT = ("editable", "virtual")
_UV_BUILT = ("git", "path", "directory", "url")
_POETRY_BUILT = ("git", "directory", "file", "url")
_PIPFILE_BUILT = ("git", "hg", "svn", "bzr", "path", "file", "editable")


def read_lock(path: Path, *, display: str) -> AuditInput:
    """The exact pins of a lock file, and what it names that riskgate will not audit."""
    text = read_bounded(path)
    if text is None:
        return _unreadable(display, f"not a UTF-8 text file of at most {MAX_FILE_BYTES} bytes")
    try:
        entries = list(_entries(path.name, text, display))
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError and JSONDecodeError too
        return _unreadable(display, f"not a readable {path.name}: {str(exc).splitlines()[0]}")
    pins = tuple(dict.fromkeys(e for e in entries if isinstance(e, str)))
    return AuditInput(requirements=pins,
                      unaudited=tuple(e for e in entries if isinstance(e, Unaudited)))


def _entries(name: str, text: str, display: str) -> Iterator[str | Unaudited]:
    if name == "Pipfile.lock":
        yield from _pipfile(json.loads(text), display)
        return
    data = tomllib.loads(text)
    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise ValueError("[[package]] entries expected")
    for index, package in enumerate(packages, start=1):
        where = f"{display}: package {index}"
        if name == "uv.lock":
            yield from _uv(package, where)
        else:
            yield from _poetry(package, where)


def _uv(package: Any, where: str) -> Iterator[str | Unaudited]:
    source = package.get("source") if isinstance(package, dict) else None
    kinds = set(source) if isinstance(source, dict) else set()
    if kinds & set(_UV_PROJECT):
        return  # the locked project itself
    built = sorted(kinds & set(_UV_BUILT))
    yield _pin(package, where, built=f"{built[0]} source" if built else None)


def _poetry(package: Any, where: str) -> Iterator[str | Unaudited]:
    source = package.get("source") if isinstance(package, dict) else None
    kind = source.get("type") if isinstance(source, dict) else None
    yield _pin(package, where, built=f"{kind} source" if kind in _POETRY_BUILT else None)


def _pipfile(data: Any, display: str) -> Iterator[str | Unaudited]:
    if not isinstance(data, dict):
        raise ValueError("a JSON object expected")
    for section in ("default", "develop"):
        packages = data.get(section) or {}
        if not isinstance(packages, Mapping):
            raise ValueError(f"'{section}' must be an object")
        for name, spec in packages.items():
            where = f"{display}: {section}.{name}"
            built = [k for k in _PIPFILE_BUILT if isinstance(spec, dict) and spec.get(k)]
            version = spec.get("version") if isinstance(spec, dict) else None
            entry = {"name": name, "version": str(version).removeprefix("==")
                     if isinstance(version, str) and version.startswith("==") else None}
            yield _pin(entry, where, built=f"{built[0]} requirement" if built else None)


def _pin(package: Any, where: str, *, built: str | None) -> str | Unaudited:
    name = package.get("name") if isinstance(package, dict) else None
    version = package.get("version") if isinstance(package, dict) else None
    if not isinstance(name, str) or not name:
        return Unaudited(name="(unnamed)", reason="a lock entry without a name", where=where)
    if built:
        return Unaudited(name=name, reason=f"{built}; {_NOT_BUILT}", where=where)
    if not isinstance(version, str) or not version:
        return Unaudited(name=name, reason="locked without an exact version", where=where)
    return f"{name}=={version}"


def _unreadable(display: str, reason: str) -> AuditInput:
    return AuditInput(unaudited=(Unaudited(name=display, reason=f"{display}: {reason}",
                                           where=display),))
