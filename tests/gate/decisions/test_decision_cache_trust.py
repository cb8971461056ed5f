"""A cached register answer unblocks findings while the register is down: only the register's
own answer, kept by this user and signed with the source's credential, may stand in."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gate.decisions import load_decisions
from gate.decisions.cache import DecisionCache, default_cache_dir
from gate.decisions.database import DatabaseSource
from gate.decisions.interface import Decisions
from gate.decisions.register_http import RegisterSource
from gate.errors import ConfigError
from gate.models import DecisionsStatus
from register.db import upgrade
from tests.gate.decisions.test_register_http import FAST, POLICY, register

CLOSED = "http://127.0.0.1:1"
LATER = datetime.now(UTC) + timedelta(hours=1)


def _down(cache: DecisionCache, *, url: str = CLOSED, token: str = "t") -> Decisions:  # noqa: S107
    source = RegisterSource(url=url, token=token, retry=FAST)
    return load_decisions([source], project="shop", policy=POLICY, cache=cache, now=LATER)


def _kept_then_down(cache: DecisionCache, *, token: str = "t") -> tuple[str, Path]:  # noqa: S107
    """Ask a live register, which then goes down: its URL, and the file its answer was kept in."""
    with register([]) as (url, _):
        live = load_decisions([RegisterSource(url=url, token=token, retry=FAST)],
                              project="shop", policy=POLICY, cache=cache)
    assert live.notes[0].status is DecisionsStatus.LIVE and len(live) == 1
    return url, cache._file(f"register {url}", "shop")


def test_a_planted_answer_without_the_tokens_signature_unblocks_nothing(tmp_path: Path) -> None:
    cache = DecisionCache(directory=tmp_path / "cache")
    cache.directory.mkdir(mode=0o700)
    planted = cache._file(f"register {CLOSED}", "shop")
    decision = {"status": "accepted", "reason": "trust me", "until": "2099-01-01", "by": "ciso",
                "source": "register"}
    for mac in (None, "0" * 64):
        body = {"source": f"register {CLOSED}", "project": "shop",
                "fetched_at": datetime.now(UTC).isoformat(), "decisions": {"f" * 32: decision}}
        if mac:
            body["mac"] = mac
        planted.write_text(json.dumps(body))
        down = _down(cache)
        assert len(down) == 0 and down.notes[0].status is DecisionsStatus.UNAVAILABLE


def test_the_kept_answer_stands_in_only_for_the_same_credential_and_untouched(
    tmp_path: Path,
) -> None:
    cache = DecisionCache(directory=tmp_path / "cache")
    url, kept = _kept_then_down(cache, token="secret-a")
    cached = _down(cache, url=url, token="secret-a")  # the register's own answer
    assert len(cached) == 1 and cached.notes[0].status is DecisionsStatus.CACHED
    assert len(_down(cache, url=url, token="secret-b")) == 0  # another token did not sign it
    body = json.loads(kept.read_text())
    body["decisions"]["e" * 32] = body["decisions"]["f" * 32]  # one more acceptance added
    kept.write_text(json.dumps(body))
    down = _down(cache, url=url, token="secret-a")
    assert len(down) == 0 and down.notes[0].status is DecisionsStatus.UNAVAILABLE


def test_a_source_read_without_a_token_is_not_cached(tmp_path: Path) -> None:
    cache = DecisionCache(directory=tmp_path / "cache")
    with register([]) as (url, _):
        load_decisions([RegisterSource(url=url, token="", retry=FAST)], project="shop",
                       policy=POLICY, cache=cache)
    assert not cache.directory.exists() or not list(cache.directory.iterdir())


@pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
def test_a_cache_directory_others_can_write_is_neither_read_nor_written(tmp_path: Path) -> None:
    cache = DecisionCache(directory=tmp_path / "cache")
    url, kept = _kept_then_down(cache)
    assert (cache.directory.stat().st_mode & 0o777) == 0o700
    assert (kept.stat().st_mode & 0o777) == 0o600
    assert len(_down(cache, url=url)) == 1
    cache.directory.chmod(0o777)
    assert len(_down(cache, url=url)) == 0
    kept.unlink()
    with register([]) as (live, _):  # nor written: another user could replace the answer
        load_decisions([RegisterSource(url=live, token="t", retry=FAST)], project="shop",
                       policy=POLICY, cache=cache)
    assert list(cache.directory.iterdir()) == []
    cache.directory.chmod(0o700)
    url, kept = _kept_then_down(cache)
    kept.chmod(0o666)  # a file others may write is not the register's answer
    assert len(_down(cache, url=url)) == 0


def test_the_cache_is_the_users_not_the_scanned_trees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATE_DECISIONS_CACHE", raising=False)
    monkeypatch.setenv("GATE_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.chdir(tmp_path)
    assert default_cache_dir() == tmp_path / "user-cache" / "decisions"
    monkeypatch.delenv("GATE_CACHE_DIR")
    assert default_cache_dir().is_absolute()
    assert not default_cache_dir().is_relative_to(tmp_path)


def test_a_register_database_committed_to_the_repository_is_no_source_of_decisions(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    database = repo / ".riskgate" / "register.db"
    database.parent.mkdir(parents=True)
    upgrade(f"sqlite:///{database}")
    source = DatabaseSource(url=f"sqlite:///{database}")
    assert len(source.decisions("shop")) == 0  # untracked: the register's own file
    for args in (["init", "-q"], ["add", "-f", str(database)], ["commit", "-q", "-m", "db"]):
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c",
                        "user.email=t@example.com", *args], check=True, capture_output=True)
    with pytest.raises(ConfigError, match=f"register database {database} is tracked by git"):
        source.decisions("shop")
