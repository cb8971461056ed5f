"""Advisory data as documents: a directory of OSV records or OSV's export zip, and its content key.

A directory is read in the PyPA advisory database's layout (any tree of `.yaml`, `.yml` or
`.json` records, hidden folders skipped); a zip is OSV's per-ecosystem export (`PyPI/all.zip`,
one `<ID>.json` per record). The content key is a SHA-256 of what the records say, so an index
built from it can be reused until the data changes, whatever the files' times.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gate.errors import ConfigError

RECORD_SUFFIXES = (".yaml", ".yml", ".json")
MAX_MEMBER_BYTES = 16 << 20  # one OSV record; the largest PyPI record is well under 1 MiB
MAX_ZIP_MEMBERS = 500_000
MAX_ZIP_BYTES = 4 << 30  # uncompressed total: refuses a zip bomb before reading it


@dataclass(frozen=True, kw_only=True)
class Document:
    """One record file: its name inside the source (for error messages) and its bytes."""

    name: str
    data: bytes


def is_zip_source(path: Path) -> bool:
    """True for a `.zip` file (OSV's export); a directory is the other kind of source."""
    return path.is_file() and path.suffix.lower() == ".zip"


def check_source(path: Path) -> None:
    """`ConfigError` unless `path` is a directory or a zip of OSV records."""
    if path.is_dir() or is_zip_source(path):
        return
    if path.exists():
        raise ConfigError(f"advisories: {path} is neither a directory nor an OSV export .zip")
    raise ConfigError(f"advisories: {path} does not exist")


def stamp(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the source's files: cheap change detection."""
    if is_zip_source(path):
        status = path.stat()
        return ((path.name, status.st_size, status.st_mtime_ns),)
    return tuple(
        (name, status.st_size, status.st_mtime_ns)
        for name, file in _record_files(path)
        for status in (file.stat(),)
    )


def content_key(path: Path) -> str:
    """SHA-256 of the source's content: the zip's bytes, or every record's name and bytes."""
    digest = hashlib.sha256()
    if is_zip_source(path):
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    for name, file in _record_files(path):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(_read(file)).digest())
    return digest.hexdigest()


def documents(path: Path) -> Iterator[Document]:
    """Every record document of the source, in name order."""
    if is_zip_source(path):
        yield from _zip_documents(path)
        return
    for name, file in _record_files(path):
        yield Document(name=name, data=_read(file))


def _record_files(root: Path) -> list[tuple[str, Path]]:
    """(relative name, path) of record files, skipping hidden ones (`.github/` in a checkout)."""
    found: list[tuple[str, Path]] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        base = Path(folder)
        for file in files:
            if file.startswith(".") or not file.lower().endswith(RECORD_SUFFIXES):
                continue
            full = base / file
            found.append((full.relative_to(root).as_posix(), full))
    return sorted(found)


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read OSV record: {exc.strerror or exc}") from exc


def _zip_documents(path: Path) -> Iterator[Document]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"{path}: not a readable zip: {exc}") from exc
    with archive:
        members = [
            m for m in archive.infolist()
            if not m.is_dir() and m.filename.lower().endswith(RECORD_SUFFIXES)
        ]
        _check_zip(path, members)
        for member in sorted(members, key=lambda m: m.filename):
            try:
                data = archive.read(member)
            except (OSError, zipfile.BadZipFile, ValueError) as exc:
                raise ConfigError(f"{path}: {member.filename}: cannot read: {exc}") from exc
            yield Document(name=f"{path.name}:{member.filename}", data=data)


def _check_zip(path: Path, members: list[zipfile.ZipInfo]) -> None:
    if not members:
        raise ConfigError(f"advisories: no OSV records (.json, .yaml) in {path}")
    if len(members) > MAX_ZIP_MEMBERS:
        raise ConfigError(f"{path}: {len(members)} records is more than {MAX_ZIP_MEMBERS}")
    big = next((m for m in members if m.file_size > MAX_MEMBER_BYTES), None)
    if big is not None:
        raise ConfigError(f"{path}: {big.filename} is {big.file_size} bytes, over the limit")
    if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
        raise ConfigError(f"{path}: uncompressed size is over {MAX_ZIP_BYTES} bytes")
