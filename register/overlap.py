"""One background task at a time, so the database merges a batch while the next is read.

Recording spends about half its time in Python (reading, validating and scoring findings) and
half waiting for the database (SQLite's statements release the GIL while they run; PostgreSQL
works in its own process). Running each batch's statements on a worker thread while the
caller builds the next batch puts the two on separate cores. The caller never touches the
connection while a task runs: `submit` and `wait` wait for the task before them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from types import TracebackType


class Overlapped:
    """Runs submitted tasks one after another on a worker thread (inline if not `threaded`)."""

    def __init__(self, *, threaded: bool = True) -> None:
        self._threaded = threaded
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, task: Callable[[], None]) -> None:
        """Wait for the task before, then start `task` (run it here when not threaded)."""
        self.wait()
        if not self._threaded:
            task()
            return
        self._thread = threading.Thread(target=self._run, args=(task,), name="riskgate-merge")
        self._thread.start()

    def wait(self) -> None:
        """Wait for the running task; raise what it raised."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self, task: Callable[[], None]) -> None:
        try:
            task()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by `wait`
            self._error = exc

    def __enter__(self) -> Overlapped:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Never leave a task running on the connection; on the way out of an error, the
        caller's error wins over the task's."""
        if kind is None:
            self.wait()
            return
        with contextlib.suppress(BaseException):  # the error already raised is the one told
            self.wait()
