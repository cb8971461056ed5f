"""A real uvicorn serving the register on a free loopback port, for upload and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import REPO_ROOT


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(base_url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Poll /healthz until it answers; fail with the server's output if it dies or hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"uvicorn exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"uvicorn did not answer at {base_url} within {timeout}s")


@contextmanager
def live_server(database_url: str, *, port: int | None = None) -> Iterator[str]:
    """Run `uvicorn register.web.app:create_app --factory`; yields the base URL."""
    port = port or free_port()
    env = {**os.environ, "GATE_DATABASE_URL": database_url, "GATE_SECRET_KEY": "t" * 40}
    command = [sys.executable, "-m", "uvicorn", "register.web.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
