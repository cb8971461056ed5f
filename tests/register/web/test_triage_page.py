"""The triage page at scale: compact rows, filters, sorting, grouping, bulk actions, four eyes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from register.queries import today
from tests.register.factories import code, dependency, example_findings, verdict
from tests.register.web.helpers import bearer, csrf_from, log_in, post_verdict

SALT = [f"salt: CVE-2020-{n}" for n in range(6)]


@pytest.fixture()
def seeded(client: TestClient, tokens: dict[str, str]) -> TestClient:
    """The example run, six advisories of `salt` and one code rule in two files."""
    salt = [dependency("salt", f"CVE-2020-{n}") for n in range(6)]
    extra = [code("rule.sqli", "app/db.py", "q(x)"), code("rule.sqli", "app/api.py", "q(y)")]
    run = verdict([*example_findings(), *salt, *extra], run_id="seed")
    assert post_verdict(client, run, tokens["uploader"]).status_code == 201
    log_in(client, tokens["triager"])
    return client


def count(html: str) -> int:
    found = re.search(r'id="result-count">(\d+) finding', html)
    assert found, "no result count"
    return int(found.group(1))


def statuses(client: TestClient, token: str) -> dict[str, str]:
    items = client.get("/api/v1/findings?status=all&limit=500", headers=bearer(token)).json()
    return {item["title"]: item["status"] for item in items["items"]}


def test_rows_are_compact_one_bulk_form_and_no_per_row_forms(seeded: TestClient) -> None:
    html = seeded.get("/triage").text

    assert html.count('<form') == 3  # filter, bulk, log out
    assert html.count('name="ids"') == count(html) == 13
    assert 'form="bulk"' in html and 'name="scope" value="matching"' in html
    assert "all 13 findings matching this filter" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [("q=salt", 6), ("package=salt", 6), ("advisory=CVE-2020-3", 1), ("kev=yes", 1),
     ("rule=rule.sqli", 2), ("kind=code", 4), ("scanner=pip-audit", 9), ("status=all", 13),
     ("size=10", 13)],
)
def test_filters_count_what_they_name(seeded: TestClient, query: str, expected: int) -> None:
    html = seeded.get(f"/triage?{query}").text

    assert count(html) == expected


def test_page_size_and_sortable_headers(seeded: TestClient) -> None:
    page = seeded.get("/triage?size=10&sort=title").text
    reverse = seeded.get("/triage?size=10&sort=title&order=desc").text

    assert page.count('name="ids"') == 10 and "Page 1 of 2" in page
    titles = re.findall(r'<a href="/findings/\d+">([^<]+)</a>', page)
    assert titles == sorted(titles)
    assert re.findall(r'<a href="/findings/\d+">([^<]+)</a>', reverse)[0] > titles[-1]
    assert 'aria-sort="ascending"' in page and 'aria-sort="descending"' in reverse


def test_group_by_package_links_to_the_group(seeded: TestClient) -> None:
    html = seeded.get("/triage?group=package").text

    group = re.search(r'<a href="(/triage\?[^"]*package=salt[^"]*)">salt</a></td>\s*'
                      r'<td class="num">(\d+)</td>', html)
    assert group is not None and group.group(2) == "6"
    assert count(seeded.get(group.group(1).replace("&amp;", "&")).text) == 6


def test_bulk_accept_of_all_matching_needs_another_approver(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    page = seeded.get("/triage?package=salt").text
    csrf = csrf_from(page)
    filters = re.search(r'name="filters" value="([^"]*)"', page)
    assert filters is not None
    matching = filters.group(1).replace("&amp;", "&")
    form = {"csrf_token": csrf, "scope": "matching", "filters": matching,
            "action": "accept", "reason": "one upgrade closes them",
            "until": (today() + timedelta(days=20)).isoformat(), "next": "/triage?package=salt"}

    own = seeded.post("/triage/bulk", data={**form, "approver": "triager-bot"})
    other = seeded.post("/triage/bulk", data={**form, "approver": "ciso"})

    assert "four eyes: triager-bot cannot approve their own acceptance" in own.text
    assert "Accept: 6 changed." in other.text
    now = statuses(seeded, tokens["viewer"])
    assert {title: now[title] for title in SALT} == dict.fromkeys(SALT, "accepted")
    assert list(now.values()).count("accepted") == 6


def test_bulk_on_ticked_rows_only(seeded: TestClient, tokens: dict[str, str]) -> None:
    page = seeded.get("/triage?rule=rule.sqli").text
    ids = re.findall(r'name="ids" value="(\d+)"', page)

    done = seeded.post("/triage/bulk", data={
        "csrf_token": csrf_from(page), "ids": ids[:1], "action": "false_positive",
        "reason": "parameterised", "next": "/triage"})
    nothing = seeded.post("/triage/bulk", data={
        "csrf_token": csrf_from(page), "action": "assign", "owner": "x", "next": "/triage"})
    no_csrf = seeded.post("/triage/bulk", data={"ids": ids, "action": "assign", "owner": "x"})

    assert "False positive: 1 changed." in done.text
    assert "no findings selected" in nothing.text
    assert no_csrf.status_code == 403
    now = statuses(seeded, tokens["viewer"])
    assert sorted(now[t] for t in ("rule.sqli in app/db.py", "rule.sqli in app/api.py")) == [
        "false_positive", "open"]


def test_every_matrix_cell_link_opens_as_many_rows_as_it_shows(seeded: TestClient) -> None:
    overview = seeded.get("/").text
    cells = re.findall(r'<a href="(/triage\?[^"]+)">(\d+)</a>', overview)

    assert len(cells) == 25
    for link, shown in cells:
        assert count(seeded.get(link.replace("&amp;", "&")).text) == int(shown), link
