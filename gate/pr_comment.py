"""The Action's optional pull-request comment: the Markdown summary, one comment per pull request.

The comment is sticky: it carries an HTML marker keyed on the scanned path, the first run
creates it and every later run edits it in place, so a pull request never collects one comment
per push. Two riskgate steps on different paths (a monorepo) keep one comment each.

A comment is a convenience, never the gate: any failure (no token, a fork's read-only token,
the API down) is one warning and exit 0. Only `pull_request` and `pull_request_target` events
have a pull request to comment on; other events are skipped with a notice.

Usage (from scripts/action/run-gate.sh):
    GITHUB_TOKEN=... python -m gate.pr_comment --markdown summary.md --key PATH [--gate-exit N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gate.action_outputs import workflow_command

COMMENT_LIMIT = 65_536  # characters: GitHub refuses a longer comment body
PER_PAGE = 100
MAX_PAGES = 30  # 3,000 comments: past that, a new comment beats reading the whole thread
BOT_LOGIN = "github-actions[bot]"
TIMEOUT_SECONDS = 20.0
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
CUT_NOTE = "\n\n> riskgate cut this comment at GitHub's size limit; the job summary has it all.\n"


class CommentError(RuntimeError):
    """The comment could not be written (one line, for a workflow warning)."""


@dataclass(frozen=True, kw_only=True)
class PullRequest:
    """Where the comment goes."""

    api_url: str
    repository: str
    number: int
    token: str


def pull_request_from_env(env: Mapping[str, str]) -> PullRequest | None:
    """The pull request of this workflow run, or None when the event has none."""
    if env.get("GITHUB_EVENT_NAME", "") not in PULL_REQUEST_EVENTS:
        return None
    try:
        event = json.loads(Path(env.get("GITHUB_EVENT_PATH", "")).read_text(encoding="utf-8"))
        number = int(event["pull_request"]["number"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CommentError(f"cannot read the pull request number from the event: {exc}") from exc
    repository = env.get("GITHUB_REPOSITORY", "")
    if repository.count("/") != 1:
        raise CommentError("GITHUB_REPOSITORY is not owner/name")
    token = env.get("GITHUB_TOKEN", "")
    if not token:
        raise CommentError("no github-token to comment with")
    api_url = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    return PullRequest(api_url=api_url, repository=repository, number=number, token=token)


def marker(key: str) -> str:
    """The HTML comment that finds riskgate's comment for `key` again (inert, whatever `key`)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"<!-- riskgate:pull-request-comment:{digest} -->"


def comment_body(markdown: str, *, key: str) -> str:
    """The marker, then the summary, cut at a line to fit GitHub's comment limit."""
    head = marker(key) + "\n"
    room = COMMENT_LIMIT - len(head)
    if len(markdown) <= room:
        return head + markdown
    cut = markdown[: room - len(CUT_NOTE)]
    newline = cut.rfind("\n")
    return head + (cut[:newline] if newline > 0 else cut) + CUT_NOTE


def upsert_comment(pull: PullRequest, body: str, *, key: str, client: httpx.Client) -> str:
    """Edit riskgate's comment for `key`, or create it; returns "updated" or "created"."""
    found = find_comment(pull, key=key, client=client)
    if found is not None:
        url = f"{pull.api_url}/repos/{pull.repository}/issues/comments/{found}"
        response = client.patch(url, json={"body": body})
        if response.status_code == httpx.codes.OK:
            return "updated"
        if response.status_code not in (httpx.codes.FORBIDDEN, httpx.codes.NOT_FOUND):
            raise CommentError(f"editing comment {found}: HTTP {response.status_code}")
        # someone else's comment holding our marker, or deleted meanwhile: write our own
    url = f"{pull.api_url}/repos/{pull.repository}/issues/{pull.number}/comments"
    response = client.post(url, json={"body": body})
    if response.status_code != httpx.codes.CREATED:
        raise CommentError(f"creating the comment: HTTP {response.status_code}"
                           f"{_hint(response.status_code)}")
    return "created"


def find_comment(pull: PullRequest, *, key: str, client: httpx.Client) -> int | None:
    """The id of riskgate's comment for `key`: the Actions bot's first, else the first found."""
    wanted = marker(key)
    url = f"{pull.api_url}/repos/{pull.repository}/issues/{pull.number}/comments"
    candidates: list[dict[str, Any]] = []
    for page in range(1, MAX_PAGES + 1):
        response = client.get(url, params={"per_page": PER_PAGE, "page": page})
        if response.status_code != httpx.codes.OK:
            raise CommentError(f"listing comments: HTTP {response.status_code}"
                               f"{_hint(response.status_code)}")
        comments = response.json()
        if not isinstance(comments, list):
            raise CommentError("listing comments: not a list")
        candidates += [c for c in comments
                       if isinstance(c, dict) and wanted in str(c.get("body") or "")]
        if len(comments) < PER_PAGE:
            break
    if not candidates:
        return None
    ours = [c for c in candidates if (c.get("user") or {}).get("login") == BOT_LOGIN]
    return int((ours or candidates)[0]["id"])


def _hint(status: int) -> str:
    if status in (httpx.codes.FORBIDDEN, httpx.codes.NOT_FOUND):
        return (" (the token cannot write to this pull request: a fork's pull request, or "
                "the job lacks `permissions: pull-requests: write`)")
    if status == httpx.codes.UNAUTHORIZED:
        return " (the github-token input is not a valid token)"
    return ""


def github_client(token: str) -> httpx.Client:
    """An HTTP client with GitHub's headers; no redirects to other hosts with the token."""
    return httpx.Client(
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "riskgate",
        },
        timeout=TIMEOUT_SECONDS,
        follow_redirects=False,
    )


def _markdown(path: Path | None, gate_exit: int) -> str:
    try:
        if path is not None:
            return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        pass
    return f"## ❌ riskgate: error\n\nThe gate could not finish (exit {gate_exit}); see the log.\n"


def run(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """Write or edit the comment; returns the line to print."""
    parser = argparse.ArgumentParser(prog="python -m gate.pr_comment")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--key", default=".")
    parser.add_argument("--gate-exit", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        pull = pull_request_from_env(env)
        if pull is None:
            return "riskgate: not a pull request; no comment"
        body = comment_body(_markdown(args.markdown, args.gate_exit), key=args.key)
        with github_client(pull.token) as client:
            outcome = upsert_comment(pull, body, key=args.key, client=client)
    except (CommentError, httpx.HTTPError, ValueError) as exc:
        return workflow_command("warning", f"riskgate: pull-request comment not written: {exc}")
    return f"riskgate: pull-request comment {outcome} on #{pull.number}"


def main() -> int:
    """Entry point: always exit 0 (a comment never decides the step)."""
    print(run(sys.argv[1:], os.environ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
