"""Progress of a gate run: a live display on a terminal, plain lines in CI logs."""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


class ProgressSink(Protocol):
    """Receives scanner start/finish events; must be thread-safe."""

    def started(self, name: str) -> None:
        """A scanner started."""

    def finished(self, name: str, *, summary: str) -> None:
        """A scanner ended; `summary` says how."""


class SilentProgress:
    """Reports nothing (used by tests and library callers)."""

    def started(self, name: str) -> None:
        """Ignore."""

    def finished(self, name: str, *, summary: str) -> None:
        """Ignore."""


class LineProgress:
    """One plain line per event on stderr: readable in CI logs."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._lock = threading.Lock()
        self._starts: dict[str, float] = {}

    def started(self, name: str) -> None:
        """Print that `name` started."""
        with self._lock:
            self._starts[name] = time.monotonic()
            print(f"gate: {name} started", file=self._stream, flush=True)

    def finished(self, name: str, *, summary: str) -> None:
        """Print how `name` ended and how long it took."""
        with self._lock:
            elapsed = time.monotonic() - self._starts.get(name, time.monotonic())
            print(f"gate: {name} {summary} ({elapsed:.1f} s)", file=self._stream, flush=True)


class LiveProgress:
    """Spinners with elapsed time per scanner on an interactive terminal."""

    def __init__(self) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> LiveProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def started(self, name: str) -> None:
        """Add a spinning line for `name`."""
        with self._lock:
            self._tasks[name] = self._progress.add_task(f"{name}: running", total=None)

    def finished(self, name: str, *, summary: str) -> None:
        """Freeze the line for `name` with its summary."""
        with self._lock:
            task = self._tasks.get(name)
            if task is not None:
                self._progress.update(task, description=f"{name}: {summary}", total=1, completed=1)
