"""Shared test fixtures: where the real parts are, and the skip-or-fail switch for CI.

Tests that need PostgreSQL, a browser, semgrep or ../shared skip with a reason on a laptop.
With RISKGATE_STRICT_SKIPS=1 (set by .ci/run) a missing part fails the test instead, so a
green CI means they ran.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SHARED = Path(os.environ.get("RISKGATE_SHARED_DIR", REPO_ROOT.parent / "shared"))
POSTGRES_URL = os.environ.get(
    "GATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def require(condition: bool, reason: str) -> None:
    """Skip with `reason` when `condition` is false, or fail under RISKGATE_STRICT_SKIPS=1."""
    if condition:
        return
    if os.environ.get("RISKGATE_STRICT_SKIPS") == "1":
        pytest.fail(f"required in CI but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ../shared folder with real advisories, KEV and the SARIF schema."""
    require((SHARED / "data").is_dir(), f"../shared not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def semgrep_bin() -> str:
    """The semgrep executable from its isolated venv (GATE_SEMGREP_BIN, PATH or .tools/)."""
    candidates = [
        os.environ.get("GATE_SEMGREP_BIN"),
        shutil.which("semgrep"),
        str(REPO_ROOT / ".tools" / "semgrep" / "bin" / "semgrep"),
    ]
    found = next((c for c in candidates if c and Path(c).is_file()), None)
    require(found is not None, "semgrep is not installed (see README: set-up)")
    assert found is not None
    return found


@pytest.fixture()
def semgrep_env(semgrep_bin: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the gate at the real semgrep for this test."""
    monkeypatch.setenv("GATE_SEMGREP_BIN", semgrep_bin)
    yield semgrep_bin


def postgres_available(url: str = POSTGRES_URL) -> bool:
    """True when a PostgreSQL server answers at `url`."""
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False
    return True


@pytest.fixture(autouse=True, scope="session")
def _no_live_osv() -> Iterator[None]:
    """Never ask the public OSV API from a test: tests that look up start a loopback server."""
    previous = os.environ.get("GATE_OSV_URL")
    os.environ["GATE_OSV_URL"] = "off"
    yield
    if previous is None:
        os.environ.pop("GATE_OSV_URL", None)
    else:
        os.environ["GATE_OSV_URL"] = previous


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Advisory indexes, synced data and cached triage decisions go to a per-session folder,
    never the user's cache."""
    folder = tmp_path_factory.mktemp("gate-cache")
    previous = os.environ.get("GATE_CACHE_DIR")
    os.environ["GATE_CACHE_DIR"] = str(folder)
    previous_decisions = os.environ.get("GATE_DECISIONS_CACHE")
    os.environ["GATE_DECISIONS_CACHE"] = str(folder / "decisions")
    yield folder
    if previous is None:
        os.environ.pop("GATE_CACHE_DIR", None)
    else:
        os.environ["GATE_CACHE_DIR"] = previous
    if previous_decisions is None:
        os.environ.pop("GATE_DECISIONS_CACHE", None)
    else:
        os.environ["GATE_DECISIONS_CACHE"] = previous_decisions
