"""A spool holds runs that replay records as facts and sends with the token: only this user's own
runs are replayed, from a directory no one else can write to."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gate.recording_sink import record_verdict
from gate.spool import SpoolError, pending, spool_verdict
from register.db import upgrade
from tests.conftest import require
from tests.register.factories import example_findings, verdict
from tests.register.test_spool import CLOSED_PORT_URL, _open_entries

NOBODY = 65534


def _replay(spool: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gate", "register", "replay", "--spool-dir", str(spool),
         "--database", url], capture_output=True, text=True, timeout=60, check=False)


def _spooled(spool: Path, run_id: str, *, findings: bool = True) -> Path:
    """A run spooled as `gate scan --record` spools it with the database down."""
    run = verdict(example_findings() if findings else [], run_id=run_id)
    outcome = record_verdict(run, database_url=CLOSED_PORT_URL, spool_dir=spool)
    assert outcome.spooled_to is not None and outcome.spooled_to.parent == spool
    return outcome.spooled_to


def _register(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'register.db'}"
    upgrade(url)
    return url


@pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
def test_spool_directories_and_files_are_created_private(tmp_path: Path) -> None:
    spool = tmp_path / "new" / "spool"
    path = _spooled(spool, "private-1")
    assert stat.S_IMODE(spool.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777])
def test_a_spool_directory_others_can_write_is_not_replayed(tmp_path: Path, mode: int) -> None:
    spool = tmp_path / "spool"
    path = _spooled(spool, "shared-1")
    url = _register(tmp_path)
    spool.chmod(mode)

    refused = _replay(spool, url)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"gate: error: spool directory {spool} is writable by other users (mode {mode:o}; "
        f"`chmod go-w {spool}`): its runs could be another user's, so none is replayed"]
    assert path.is_file() and _open_entries(url) == 0

    spool.chmod(0o700)
    assert _replay(spool, url).returncode == 0 and _open_entries(url) == 5


@pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
def test_a_planted_spool_file_is_set_aside_unread_and_fixes_nothing(tmp_path: Path) -> None:
    """An empty full run recorded would fix every open risk of its project: a spool file that
    may not be this user's own is never read."""
    spool = tmp_path / "spool"
    url = _register(tmp_path)
    _spooled(spool, "real-1")
    assert _replay(spool, url).returncode == 0 and _open_entries(url) == 5

    writable = _spooled(spool, "planted-writable", findings=False)
    writable.chmod(0o666)
    linked = spool / "database-planted-link.json"
    linked.symlink_to(_spooled(tmp_path / "elsewhere", "planted-link", findings=False))
    foreign = None
    if os.geteuid() == 0:  # only root can give a file to another user
        foreign = _spooled(spool, "planted-foreign", findings=False)
        os.chown(foreign, NOBODY, NOBODY)

    replayed = _replay(spool, url)
    assert replayed.returncode == 2 and "Traceback" not in replayed.stderr
    errors = replayed.stderr
    assert f"{writable}: not replayed: writable by other users (mode 666); moved to " \
        f"{spool / 'damaged' / writable.name}" in errors
    assert f"{linked}: not replayed: a symbolic link" in errors
    if foreign is not None:
        assert f"{foreign}: not replayed: owned by another user (uid {NOBODY})" in errors
    assert _open_entries(url) == 5  # nothing was fixed
    assert pending(spool) == []
    assert (spool / "damaged" / writable.name).is_file()


@pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
def test_another_users_spool_directory_is_neither_written_nor_replayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(os.geteuid() == 0, "only root can give a directory to another user")
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o755)
    (spool / "database-theirs.json").write_text(json.dumps({"kind": "database"}))
    os.chown(spool, NOBODY, NOBODY)
    refused = _replay(spool, _register(tmp_path))
    assert refused.returncode == 2
    assert f"spool directory {spool} is owned by another user (uid {NOBODY})" in refused.stderr

    fallback = tmp_path / "fallback"
    monkeypatch.setenv("GATE_SPOOL_FALLBACK_DIR", str(fallback))
    path = spool_verdict(verdict([], run_id="mine-1"), spool_dir=spool, destination="x")
    assert path.parent == fallback  # not into theirs


@pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
def test_no_private_directory_at_all_is_a_spool_error_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool, fallback = tmp_path / "spool", tmp_path / "fallback"
    for directory in (spool, fallback):
        directory.mkdir()
        directory.chmod(0o777)
    monkeypatch.setenv("GATE_SPOOL_FALLBACK_DIR", str(fallback))
    with pytest.raises(SpoolError) as raised:
        spool_verdict(verdict([], run_id="nowhere-1"), spool_dir=spool, destination="x")
    message = str(raised.value)
    assert f"{spool}: not private: writable by other users" in message
    assert f"{fallback}: not private: writable by other users" in message
    assert list(spool.iterdir()) == [] and list(fallback.iterdir()) == []


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com",
                    *args], check=True, capture_output=True, timeout=60)


def test_a_spool_file_committed_to_the_repository_is_set_aside_unread(tmp_path: Path) -> None:
    """In CI the checkout is the pull request's: a spool file it commits is no spooled run."""
    repo = tmp_path / "repo"
    spool = repo / ".riskgate" / "spool"
    url = _register(tmp_path)
    _spooled(spool, "real-1")
    assert _replay(spool, url).returncode == 0 and _open_entries(url) == 5
    planted = _spooled(spool, "planted-committed", findings=False)
    _git(repo, "init", "-q")
    _git(repo, "add", "-f", str(planted))
    _git(repo, "commit", "-q", "-m", "a spooled run")
    ours = _spooled(spool, "ours-2")  # spooled here, not committed: replayed

    replayed = _replay(spool, url)
    assert replayed.returncode == 2
    assert f"{planted}: not replayed: tracked by git (a pull request could have written it)" \
        in replayed.stderr
    assert f"{ours.name}: run ours-2" in replayed.stdout
    assert _open_entries(url) == 5  # the planted empty full run fixed nothing
