"""The sticky pull-request comment against a loopback fake of GitHub's comment API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.pr_comment import COMMENT_LIMIT, PER_PAGE, comment_body, marker, run
from tests.action.fake_github import FakeGitHub, fake_github

NUMBER = 7
TOKEN = "ghs_good"  # the fake's Actions bot token  # noqa: S105


def _env(tmp_path: Path, api: str, *, token: str = TOKEN,
         event: str = "pull_request") -> dict[str, str]:
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps({"pull_request": {"number": NUMBER}}))
    return {"GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_file),
            "GITHUB_REPOSITORY": "acme/shop", "GITHUB_API_URL": api, "GITHUB_TOKEN": token}


def _summary(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "summary.md"
    path.write_text(text, encoding="utf-8")
    return ["--markdown", str(path), "--key", "app"]


def test_first_run_creates_and_later_runs_edit_the_same_comment(tmp_path: Path) -> None:
    state = FakeGitHub()
    state.add(NUMBER, "LGTM", "alice")
    with fake_github(state) as api:
        env = _env(tmp_path, api)
        first = run(_summary(tmp_path, "## ⛔ riskgate: block\n\n2 new findings\n"), env)
        second = run(_summary(tmp_path, "## ✅ riskgate: pass\n"), env)
    assert first == f"riskgate: pull-request comment created on #{NUMBER}"
    assert second == f"riskgate: pull-request comment updated on #{NUMBER}"
    ours = [c for c in state.comments[NUMBER] if c["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1
    assert ours[0]["body"] == marker("app") + "\n## ✅ riskgate: pass\n"
    assert {auth for *_, auth in state.requests} == {"Bearer ghs_good"}


def test_another_path_gets_its_own_comment(tmp_path: Path) -> None:
    state = FakeGitHub()
    with fake_github(state) as api:
        env = _env(tmp_path, api)
        run(_summary(tmp_path, "service a\n"), env)
        run([*_summary(tmp_path, "service b\n")[:2], "--key", "services/b"], env)
    assert len(state.comments[NUMBER]) == 2


def test_the_marker_is_found_past_the_first_page(tmp_path: Path) -> None:
    state = FakeGitHub()
    for index in range(PER_PAGE + 5):
        state.add(NUMBER, f"chatter {index}", "bob")
    old = state.add(NUMBER, marker("app") + "\nold verdict", "github-actions[bot]")
    with fake_github(state) as api:
        assert run(_summary(tmp_path, "new verdict\n"), _env(tmp_path, api)).endswith(
            "updated on #7")
    assert old["body"].endswith("new verdict\n")
    assert len(state.comments[NUMBER]) == PER_PAGE + 6


def test_someone_elses_comment_with_the_marker_is_left_alone(tmp_path: Path) -> None:
    state = FakeGitHub()
    spoof = state.add(NUMBER, marker("app") + "\nall fine, merge it", "mallory")
    with fake_github(state) as api:
        assert "created" in run(_summary(tmp_path, "## ⛔ riskgate: block\n"), _env(tmp_path, api))
    assert spoof["body"].endswith("merge it")
    assert len(state.comments[NUMBER]) == 2


def test_a_forks_read_only_token_warns_and_never_fails(tmp_path: Path) -> None:
    state = FakeGitHub(read_only={"ghs_good"})
    with fake_github(state) as api:
        line = run(_summary(tmp_path, "x\n"), _env(tmp_path, api))
    assert line.startswith("::warning::riskgate: pull-request comment not written: ")
    assert "pull-requests: write" in line
    assert NUMBER not in state.comments


@pytest.mark.parametrize(("token", "event", "expected"), [
    ("ghs_wrong", "pull_request", "::warning::riskgate: pull-request comment not written"),
    ("", "pull_request", "::warning::riskgate: pull-request comment not written: no github"),
    ("ghs_good", "push", "riskgate: not a pull request; no comment"),
])
def test_bad_token_or_no_pull_request(tmp_path: Path, token: str, event: str,
                                      expected: str) -> None:
    state = FakeGitHub()
    with fake_github(state) as api:
        line = run(_summary(tmp_path, "x\n"), _env(tmp_path, api, token=token, event=event))
    assert line.startswith(expected)
    assert NUMBER not in state.comments


def test_unreachable_api_is_a_warning(tmp_path: Path) -> None:
    line = run(_summary(tmp_path, "x\n"), _env(tmp_path, "http://127.0.0.1:9"))
    assert line.startswith("::warning::riskgate: pull-request comment not written")


def test_a_huge_summary_is_cut_to_githubs_limit() -> None:
    body = comment_body("| row |\n" * 20_000, key="app")
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith(marker("app"))
    assert body.endswith("the job summary has it all.\n")


def test_the_marker_is_inert_whatever_the_path() -> None:
    assert marker("--> <script>") == marker("--> <script>")
    assert "script" not in marker("--> <script>")
    assert marker("a") != marker("b")
