"""Find and kill every process a tool run started, even those that left its process group.

A tool runs in a session of its own, so killing that process group stops it and its ordinary
children. A child that calls `setsid` escapes the group; it still carries the run's token in
its environment (`MARKER_VARIABLE`) and, if it kept the tool's stdout or stderr, holds one of
our pipes. On Linux both are visible in `/proc`; elsewhere only the group is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path

MARKER_VARIABLE = "RISKGATE_RUN_TOKEN"
PROC = Path("/proc")


def kill_run(*, group: int | None, token: str, pipes: Iterable[int]) -> int:
    """SIGKILL the process group `group` (if any) and every process marked by `token` or
    holding one of the pipe inodes `pipes`; returns how many others were killed."""
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    killed = 0
    for pid in run_processes(token=token, pipes=frozenset(pipes)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def pipe_inode(descriptor: int) -> int:
    """The inode naming a pipe in `/proc/<pid>/fd` links (`pipe:[inode]`)."""
    return os.fstat(descriptor).st_ino


def run_processes(*, token: str, pipes: frozenset[int]) -> Iterator[int]:
    """Processes (never this one) whose environment has the token or that hold a pipe."""
    marker = f"{MARKER_VARIABLE}={token}".encode()
    links = {f"pipe:[{inode}]" for inode in pipes}
    for entry in _pids():
        if entry == os.getpid():
            continue
        if _has_marker(entry, marker) or _holds(entry, links):
            yield entry


def _pids() -> Iterator[int]:
    with contextlib.suppress(OSError):
        for entry in os.scandir(PROC):
            if entry.name.isdigit():
                yield int(entry.name)


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        environment = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return marker in environment.split(b"\0")


def _holds(pid: int, links: set[str]) -> bool:
    if not links:
        return False
    try:
        descriptors = list(os.scandir(PROC / str(pid) / "fd"))
    except OSError:
        return False
    for descriptor in descriptors:
        with contextlib.suppress(OSError):
            if os.readlink(descriptor.path) in links:
                return True
    return False
