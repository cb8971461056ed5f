"""The API docs render in chromium with no network but loopback and no CSP violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from register.db import upgrade
from tests.browser.conftest import chromium_tab, screenshot
from tests.register.web.live import live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty register served by uvicorn (the docs need no data)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'register.db'}"
    upgrade(url)
    with live_server(url) as base:
        yield base


def test_swagger_ui_renders_offline_under_its_csp(base_url: str) -> None:
    with chromium_tab(base_url, None) as tab:
        outside: list[str] = []
        tab.on("request", lambda r: r.url.startswith(base_url) or outside.append(r.url))

        tab.goto(f"{base_url}/docs")
        tab.wait_for_selector(".swagger-ui .info .title")

        assert "riskgate register" in tab.locator(".swagger-ui .info .title").inner_text()
        assert tab.locator(".opblock-summary-path").count() > 10
        assert outside == []
        assert [e for e in tab.console_errors if "Content Security Policy" in e] == []
        screenshot(tab, "api-docs")


def test_redoc_renders_offline_under_its_csp(base_url: str) -> None:
    with chromium_tab(base_url, None) as tab:
        loaded: list[str] = []
        tab.on("response", lambda r: loaded.append(r.url))

        tab.goto(f"{base_url}/redoc")
        tab.wait_for_selector("h1")

        assert "riskgate register" in tab.locator("h1").first.inner_text()
        assert [url for url in loaded if not url.startswith((base_url, "blob:", "data:"))] == []
        # ReDoc always tries its vendor's logo from a CDN; the CSP refuses it and ReDoc hides it.
        refused = [e for e in tab.console_errors if "Content Security Policy" in e]
        assert [e for e in refused if "cdn.redoc.ly/redoc/logo-mini.svg" not in e] == []
        screenshot(tab, "api-redoc")
