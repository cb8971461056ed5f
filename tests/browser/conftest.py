"""Shared parts of the browser tests: Debian's chromium through Playwright, logged in."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, require

SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    found = shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).is_file() else None


@contextmanager
def chromium_tab(base_url: str, token: str | None, *, width: int = 1360) -> Iterator[Any]:
    """A chromium tab, logged in with `token` when given, recording dialogs and console errors."""
    executable = chromium_path()
    require(executable is not None, "Debian's chromium is not installed (/usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": 900})
        tab = context.new_page()
        tab.dialogs, tab.console_errors = [], []
        tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
        tab.on("console", lambda message: message.type == "error"
               and tab.console_errors.append(message.text))
        if token is not None:
            tab.goto(f"{base_url}/")
            tab.fill("#token", token)
            tab.click("button[type=submit]")
            tab.wait_for_url(f"{base_url}/")
        try:
            yield tab
        finally:
            browser.close()


def screenshot(tab: Any, name: str) -> Path:
    """Save a full-page screenshot under test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
