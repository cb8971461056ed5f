"""Reading untrusted files and JSON without crashing: bounded size, bounded nesting, one line.

Every file the gate reads on a user's or an attacker's say (a policy, an imported report, a
verdict) goes through here: only regular files, read at most `limit` bytes (so `/dev/zero`
or a FIFO neither fills memory nor blocks), and JSON nested at most `MAX_DEPTH` deep (so a
50,000-deep array is a clear error, not a `RecursionError` in some later walk).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
from pathlib import Path
from typing import Any, BinaryIO

from gate.errors import GateError, ReportFormatError

MAX_DEPTH = 64
# `\ud800`-style escapes (YAML also `\U0000d800`): JSON and YAML may spell a lone surrogate,
# which no UTF-8 text can hold.
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\(?:u|U0000)[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
DEFAULT_MAX_IMPORT_BYTES = 256 * 1024 * 1024


def max_import_bytes() -> int:
    """The size cap of imported reports and verdicts (`GATE_MAX_IMPORT_BYTES`, 256 MiB)."""
    value = os.environ.get("GATE_MAX_IMPORT_BYTES", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_IMPORT_BYTES


def open_regular_file(path: Path) -> BinaryIO:
    """`path` opened to read, if it is a regular file (a FIFO is refused, not waited on);
    `OSError` otherwise, whose `strerror` says why."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = "Is a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise OSError(errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL, kind)
        os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb")


def read_regular_file(
    path: Path, *, limit: int, error: type[GateError] = ReportFormatError
) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, else `error` naming the file."""
    try:
        handle = open_regular_file(path)
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from exc
    with handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise error(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise error(f"{path}: larger than the limit of {limit} bytes")
    return data


def decode_json(raw: bytes | str, *, source: str, error: type[GateError] = ReportFormatError,
                max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON; `error` with `line L column C` when broken, or when nested too deep."""
    if not raw.strip():
        raise error(f"{source}: empty file")
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise error(
            f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not UTF-8 text ({exc.reason})") from exc
    except RecursionError as exc:
        raise error(f"{source}: JSON nested deeper than {max_depth} levels") from exc
    if nesting_depth(document, limit=max_depth) > max_depth:
        raise error(f"{source}: JSON nested deeper than {max_depth} levels")
    return storable(document, raw)


def loads_storable(text: str) -> Any:
    """`json.loads(text)`, each lone surrogate in its strings replaced (see `storable`)."""
    return storable(json.loads(text), text)


def storable(document: Any, raw: bytes | str) -> Any:
    """`document` (decoded from `raw`, and not shared) with each lone surrogate in its strings
    and keys replaced by U+FFFD: a scanner's text that JSON or YAML escapes as `\\ud800` cannot
    be written as UTF-8 (the verdict, the register). Decoded pairs are whole characters already;
    text without such an escape is not walked."""
    escaped = (_SURROGATE_ESCAPE_BYTES.search(raw) if isinstance(raw, bytes)
               else _SURROGATE_ESCAPE.search(raw))
    if escaped is None:
        return document
    if not isinstance(document, dict | list):
        return _storable_item(document, [])
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for index, item in enumerate(node):
                node[index] = _storable_item(item, stack)
            continue
        for key, item in list(node.items()):
            if _LONE_SURROGATE.search(key):
                del node[key]
                key = _LONE_SURROGATE.sub("\ufffd", key)
            node[key] = _storable_item(item, stack)
    return document


def _storable_item(item: Any, stack: list[Any]) -> Any:
    """A string made storable; a list or object queued on `stack` to walk."""
    if isinstance(item, str):
        return _LONE_SURROGATE.sub("\ufffd", item)
    if isinstance(item, dict | list):
        stack.append(item)
    return item


def nesting_depth(document: Any, *, limit: int) -> int:
    """How deep lists and objects nest (scalars are 0), counted without recursion; stops
    counting once past `limit`."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if not isinstance(node, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def not_private(directory: Path) -> str | None:
    """Why another user could put files in `directory` (None: only this user can); POSIX only.
    For what the gate writes and later trusts (spooled runs, cached answers).

    Its owner must be this user and neither group nor others may write to it.
    """
    if os.name != "posix":
        return None
    info = directory.stat()
    if info.st_uid != os.geteuid():
        return f"owned by another user (uid {info.st_uid})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"writable by other users (mode {stat.S_IMODE(info.st_mode):o}; "
                f"`chmod go-w {directory}`)")
    return None


def not_own_file(path: Path) -> str | None:
    """Why `path` may not be a file this user wrote (None: a regular file of this user's that
    no one else may write); POSIX only."""
    if os.name != "posix":
        return None
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file" if not stat.S_ISLNK(info.st_mode) else "a symbolic link"
    if info.st_uid != os.geteuid():
        return f"owned by another user (uid {info.st_uid})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"writable by other users (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def private_dir(directory: Path) -> Path:
    """`directory`, created 0700 if missing; `PermissionError` when another user could put
    files in it."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700)
    problem = not_private(directory)
    if problem is not None:
        raise PermissionError(errno.EPERM, f"not private: {problem}")
    return directory
