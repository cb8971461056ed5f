"""A local spool of verdicts the register could not take yet, replayed later.

Each spooled run is one JSON file `<kind>-<run_id>.json`, written atomically (temp file +
rename): `{"spool_version": 1, "kind": "database"|"upload", "destination": ..., "reason": ...,
"spooled_at": ..., "verdict": {...}}`, the verdict last, so a large one is written (and read
back by `register.verdict_stream`) a piece at a time. Secrets (passwords, tokens) are never
written.

No run is lost to a full or unwritable spool directory: the run goes to a fallback
directory under the system's temporary directory, and when that fails too `SpoolError` says
so. A damaged spool file (truncated, not a verdict) never blocks the others: replay moves it to
`damaged/` beside them and goes on.

A spool is trusted as this user's own: replay records its runs as facts (a full run with no
findings fixes every risk of its project) and sends the token to the address each names. So
spool directories are created private (0700) and files 0600; a directory another user owns or
may write is never written to (`not_private`), nor replayed from, and a spool file that is no
regular file, is another user's or is writable by others is set aside unread. (POSIX only.)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from gate.errors import GateError
from gate.models import Verdict
from gate.safe_input import not_private, open_regular_file, private_dir

SPOOL_VERSION = 1
DAMAGED_DIR = "damaged"
_SAFE_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_COPY_CHARS = 1 << 20


class SpoolError(GateError):
    """Neither the spool directory nor the fallback could take a run (runtime failure)."""

    exit_code = 2


def fallback_spool_dir() -> Path:
    """Where runs go when the spool directory cannot take them (`GATE_SPOOL_FALLBACK_DIR`,
    default `riskgate-spool` in the system's temporary directory)."""
    configured = os.environ.get("GATE_SPOOL_FALLBACK_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "riskgate-spool"


def spooled_where(path: Path, spool_dir: Path) -> str:
    """`path`, and when it is not in `spool_dir`, why and how to replay it."""
    if path.parent == spool_dir:
        return str(path)
    return (f"{path} (the spool directory {spool_dir} could not take it; "
            f"replay with --spool-dir {path.parent})")


def spool_verdict(
    verdict: Verdict,
    *,
    spool_dir: Path,
    destination: str,
    kind: str = "database",
    reason: str = "",
) -> Path:
    """Write the verdict to the spool atomically; returns the file written.

    When `spool_dir` cannot take it (a full disk, no permission) the fallback directory does;
    when neither can, `SpoolError` names both and why.
    """
    def write(stream: TextIO) -> None:
        stream.write(verdict.model_dump_json())

    return _spool(write, run_id=verdict.run_id, spool_dir=spool_dir, destination=destination,
                  kind=kind, reason=reason)


def spool_verdict_file(
    source: Path,
    *,
    run_id: str,
    spool_dir: Path,
    destination: str,
    kind: str = "database",
    reason: str = "",
) -> Path:
    """`spool_verdict` for a verdict JSON file (already validated by the caller): its text is
    copied as it is, a chunk at a time, so memory does not grow with its size."""
    def write(stream: TextIO) -> None:
        with io.TextIOWrapper(open_regular_file(source), encoding="utf-8", newline="") as text:
            shutil.copyfileobj(text, stream, _COPY_CHARS)

    return _spool(write, run_id=run_id, spool_dir=spool_dir, destination=destination,
                  kind=kind, reason=reason)


def spool_name(kind: str, run_id: str) -> str:
    """The spool file's name: the kind and the run id, or a digest of a run id that is no
    safe file name (a verdict's run id is any text)."""
    safe = run_id if _SAFE_RUN_ID.fullmatch(run_id) else hashlib.sha256(
        run_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{kind}-{safe}.json"


def _spool(
    write: Callable[[TextIO], None], *, run_id: str, spool_dir: Path, destination: str,
    kind: str, reason: str,
) -> Path:
    problems = []
    for directory in dict.fromkeys([spool_dir, fallback_spool_dir()]):
        try:
            return _write_spool_file(write, run_id=run_id, spool_dir=directory,
                                     destination=destination, kind=kind, reason=reason)
        except OSError as exc:
            problems.append(f"{directory}: {exc.strerror or exc}")
    shown = run_id if _SAFE_RUN_ID.fullmatch(run_id) else repr(run_id)  # one line, always
    raise SpoolError(f"run {shown} could not be spooled ({'; '.join(problems)})")


def _write_spool_file(
    write: Callable[[TextIO], None], *, run_id: str, spool_dir: Path, destination: str,
    kind: str, reason: str,
) -> Path:
    """The envelope's fields, then `write`'s verdict as its last field `verdict`."""
    private_dir(spool_dir)
    envelope = json.dumps({
        "spool_version": SPOOL_VERSION,
        "kind": kind,
        "destination": destination,
        "reason": reason,
        "spooled_at": datetime.now(UTC).isoformat(),
    })
    target = spool_dir / spool_name(kind, run_id)
    handle, temp = tempfile.mkstemp(dir=spool_dir, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(envelope[:-1] + ', "verdict": ')
            write(stream)
            stream.write("}")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def pending(spool_dir: Path, *, kind: str | None = None) -> list[Path]:
    """Spooled files, oldest first (optionally only one kind); `SpoolError` when the
    directory is not private (`not_private`): its runs could be anyone's."""
    if not spool_dir.is_dir():
        return []
    problem = not_private(spool_dir)
    if problem is not None:
        raise SpoolError(f"spool directory {spool_dir} is {problem}: its runs could be another "
                         "user's, so none is replayed")
    pattern = f"{kind}-*.json" if kind else "*.json"
    dated = []
    for path in spool_dir.glob(pattern):
        if path.name.startswith(".tmp-"):
            continue
        try:  # the link's own time: a dangling link is a damaged file, not a crash
            dated.append((path.lstat().st_mtime, path.name, path))
        except FileNotFoundError:
            continue  # replayed or removed meanwhile
    return [path for _, _, path in sorted(dated)]


def set_aside(path: Path) -> Path:
    """Move a damaged spool file to `damaged/` beside it; returns where it went."""
    target = path.parent / DAMAGED_DIR / path.name
    try:
        private_dir(target.parent)
        os.replace(path, target)
    except OSError:
        return path  # cannot move it: it stays, and the message still names it
    return target
