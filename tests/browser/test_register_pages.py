"""A person's session in a real browser: log in, read the heat map, triage, stay safe from XSS.

Debian's chromium (never a downloaded build) via Playwright, against uvicorn on loopback
serving a SQLite register seeded by recording real verdicts. Screenshots of the overview and
MTTP pages go to test-output/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from gate.models import MoneyModel, RiskContext, Severity
from register.db import make_engine, session_scope, upgrade
from register.models import Role, utc_now
from register.queries import risk_matrix
from register.recording import record_run
from register.web.tokens import create_token
from tests.browser.conftest import chromium_tab, screenshot
from tests.register.factories import T0, code, dependency, example_findings, verdict
from tests.register.web.live import live_server

pytestmark = pytest.mark.browser
XSS = "<script>alert(1)</script>"


def seed(engine: Engine) -> str:
    """Record a few months of runs of two projects; returns a triager token."""
    money = MoneyModel(
        currency="EUR", loss_per_impact={i: (1000.0 * i, 5000.0 * i) for i in range(1, 6)},
        annual_frequency_per_probability={p: 0.1 * p for p in range(1, 6)},
    )
    context = RiskContext(money=money, default_owner="payments")
    flask = dependency("flask", "CVE-2023-30861", severity=Severity.HIGH)
    salt = dependency("salt", "CVE-2020-11651", severity=Severity.CRITICAL, known_exploited=True)
    xss = code("rule.xss", "web/render.py", "render(x)", title=XSS, severity=Severity.HIGH)
    runs = [
        verdict([*example_findings(), flask, xss], run_id="p1", project="payments-api",
                context=context),
        verdict([flask, xss], run_id="p2", project="payments-api", context=context,
                at=T0 + timedelta(days=40)),
        verdict([code("rule.y", "b.py", "y()")], run_id="s1", project="shop"),
        verdict([], run_id="s2", project="shop", at=T0 + timedelta(days=70)),
        verdict([flask, xss, salt], run_id="p3", project="payments-api", context=context,
                at=utc_now() - timedelta(days=21)),
        verdict([flask, xss, salt, code("rule.sqli", "db.py", "q(x)")], run_id="p4",
                project="payments-api", context=context, at=utc_now() - timedelta(days=7)),
    ]
    with session_scope(engine) as session:
        for run in runs:
            record_run(session, run)
        return create_token(session, name="champion", role=Role.TRIAGER)[1]


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A seeded SQLite register served by uvicorn."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'register.db'}"
    upgrade(url)
    engine = make_engine(url)
    token = seed(engine)
    with live_server(url) as base_url:
        yield {"url": base_url, "token": token, "engine": engine}
    engine.dispose()


@pytest.fixture()
def page(register: dict[str, Any]) -> Iterator[Any]:
    """A logged-in chromium page that records any dialog."""
    with chromium_tab(register["url"], register["token"]) as tab:
        yield tab


def test_overview_matrix_matches_the_database(page: Any, register: dict[str, Any]) -> None:
    with session_scope(register["engine"]) as session:
        expected = risk_matrix(session)

    cells = page.locator("#risk-matrix td")
    shown = {(int(cells.nth(i).get_attribute("data-likelihood")),
              int(cells.nth(i).get_attribute("data-impact"))): int(cells.nth(i).inner_text())
             for i in range(cells.count())}

    assert len(shown) == 25
    assert shown == {(p, i): expected[p - 1][i - 1] for p in range(1, 6) for i in range(1, 6)}
    top = page.locator("ol.risks").inner_text()
    assert "payments-api: high-severity flaw in a dependency in flask 1.0" in top
    screenshot(page, "overview")


def test_mttp_page_draws_the_chart(page: Any, register: dict[str, Any]) -> None:
    page.goto(f"{register['url']}/mttp")

    assert page.locator("svg.chart polyline").count() >= 1
    assert page.locator("#mttp-months tbody tr").count() >= 2
    screenshot(page, "mttp")


def test_xss_title_is_text_and_no_dialog_fires(page: Any, register: dict[str, Any]) -> None:
    page.goto(f"{register['url']}/triage?project=payments-api")
    link = page.get_by_role("link", name=XSS)

    assert link.count() == 1
    link.click()
    assert page.locator("#finding-title").inner_text() == XSS
    assert page.locator("script").count() == 0
    assert page.dialogs == []


def test_bulk_triage_by_keyboard_and_see_the_event(page: Any, register: dict[str, Any]) -> None:
    page.goto(f"{register['url']}/triage?project=payments-api&sort=score")
    row = page.locator("#queue tbody tr").first
    title = row.locator("td.title a").inner_text()
    assert page.locator("#queue form").count() == 0  # one compact row, no inline forms

    row.locator("input[name=ids]").focus()
    page.keyboard.press("Space")
    page.locator("#bulk select[name=action]").select_option("assign")
    page.locator("#bulk input[name=owner]").fill("appsec-oncall")
    page.locator("#bulk input[name=owner]").press("Enter")

    assert "Assign: 1 changed." in page.locator(".flash").inner_text()
    screenshot(page, "triage-bulk")
    page.get_by_role("link", name=title).first.click()
    events = page.locator("#events").inner_text()
    assert "assigned" in events and "owner payments -> appsec-oncall" in events
    assert "champion" in events


def test_accept_all_matching_needs_another_approver(page: Any, register: dict[str, Any]) -> None:
    page.goto(f"{register['url']}/triage?project=payments-api&kind=dependency")
    total = int(page.locator("#result-count").inner_text().split()[0])
    bulk = page.locator("#bulk")
    bulk.locator("#all-matching").check()
    bulk.locator("select[name=action]").select_option("accept")
    bulk.locator("input[name=reason]").fill("behind the WAF until the upgrade")

    bulk.locator("input[name=approver]").fill("champion")
    bulk.get_by_role("button", name="Apply").click()
    refused = page.locator(".flash").inner_text()
    page.locator("#all-matching").check()
    page.locator("#bulk select[name=action]").select_option("accept")
    page.locator("#bulk input[name=reason]").fill("behind the WAF until the upgrade")
    page.locator("#bulk input[name=approver]").fill("ciso")
    page.locator("#bulk").get_by_role("button", name="Apply").click()

    assert "four eyes: champion cannot approve their own acceptance" in refused
    assert f"Accept: {total} changed." in page.locator(".flash").inner_text()
    page.goto(f"{register['url']}/triage?project=payments-api&kind=dependency&status=accepted")
    assert int(page.locator("#result-count").inner_text().split()[0]) == total
    page.locator("#queue tbody td.title a").first.click()
    assert "approved by ciso" in page.locator("#events").inner_text()
    screenshot(page, "finding-accepted")


def test_trends_page_draws_the_weekly_charts(page: Any, register: dict[str, Any]) -> None:
    page.goto(f"{register['url']}/trends")

    assert page.locator("#band-trend svg polyline").count() >= 4
    assert page.locator("#loss-trend svg polyline").count() == 2
    assert page.locator("#owners tbody tr").count() >= 1
    screenshot(page, "trends")


def test_report_is_one_printed_page(page: Any, register: dict[str, Any]) -> None:
    page.goto(f"{register['url']}/report")

    assert "open security risks" in page.locator("#headline").inner_text()
    assert page.locator("#report-matrix td").count() == 25
    screenshot(page, "report")
    pdf = page.pdf(format="A4", landscape=True, print_background=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1


def test_finding_page_shows_the_evidence(page: Any, register: dict[str, Any]) -> None:
    page.goto(f"{register['url']}/triage?advisory=CVE-2020-11651&status=all")
    page.locator("#queue tbody td.title a").first.click()

    assert "nvd.nist.gov" in page.locator("#identifiers a").first.get_attribute("href")
    assert "Upgrade salt" in page.locator("#fix-advice").inner_text()
    assert "run p4" in page.locator("#last-seen").inner_text()
    screenshot(page, "finding-evidence")
