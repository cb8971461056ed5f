"""`Overlapped`: one background task at a time, its error handed to the caller."""

from __future__ import annotations

import threading
import time

import pytest

from register.overlap import Overlapped


def test_tasks_run_one_at_a_time_in_order_off_the_callers_thread() -> None:
    done: list[tuple[int, str]] = []
    running = threading.Lock()

    def task(number: int) -> None:
        assert running.acquire(blocking=False), "a task started while another ran"
        time.sleep(0.01)
        done.append((number, threading.current_thread().name))
        running.release()

    with Overlapped() as overlap:
        for number in range(5):
            overlap.submit(lambda number=number: task(number))  # type: ignore[misc]
    assert [number for number, _ in done] == list(range(5))
    assert threading.current_thread().name not in {name for _, name in done}


def test_a_tasks_error_is_raised_by_the_next_wait() -> None:
    overlap = Overlapped()

    def fail() -> None:
        raise ValueError("the merge failed")

    overlap.submit(fail)
    with pytest.raises(ValueError, match="the merge failed"):
        overlap.wait()
    overlap.wait()  # told once


def test_the_callers_error_wins_and_no_task_is_left_running() -> None:
    finished = threading.Event()

    def slow_failure() -> None:
        time.sleep(0.05)
        finished.set()
        raise ValueError("the merge failed too")

    with pytest.raises(KeyError), Overlapped() as overlap:
        overlap.submit(slow_failure)
        raise KeyError("a finding could not be read")
    assert finished.is_set()


def test_inline_runs_each_task_at_once() -> None:
    done: list[str] = []
    overlap = Overlapped(threaded=False)
    overlap.submit(lambda: done.append(threading.current_thread().name))
    assert done == [threading.current_thread().name]
