"""Rendered pages kept while the register's data has not changed (a team's read load).

An overview or triage page at a million findings costs tens of milliseconds of SQL and
rendering, while the data behind it changes only when a run is recorded, a risk is triaged
or a project's settings change. Each of those writes leaves a mark that one cheap query reads
(`data_stamp`): the newest event, run and project change. A page is rendered once per
(path and query, role, project scope, data stamp, day) and served from memory until the
stamp moves, the day changes or `GATE_PAGE_CACHE_SECONDS` pass (which also bounds what a
write behind the register's back, such as raw SQL, can leave stale). 0 turns caching off.

Per-request parts are holes in the cached HTML: it is rendered with random stand-ins for the
signed-in name and the CSRF token, which are replaced (HTML-escaped) on every response.
A page with a pending flash message is rendered afresh. Each process has its own cache.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from html import escape
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from sqlmodel import Session, col
from starlette.responses import HTMLResponse, Response

from register.models import Project, RiskEvent, ScanRun
from register.queries import today
from register.web.csrf import csrf_token as session_csrf_token
from register.web.pages.render import FLASH_KEY, render
from register.web.principal import Principal

Key = tuple[Any, ...]


def data_stamp(session: Session) -> tuple[Any, ...]:
    """What changes with every write the pages show: newest event, run and project change."""
    event = sa.select(sa.func.max(col(RiskEvent.id))).scalar_subquery()
    run = sa.select(sa.func.max(col(ScanRun.id))).scalar_subquery()
    changed = sa.select(sa.func.max(Project.updated_at)).scalar_subquery()
    projects = sa.select(sa.func.count(col(Project.id))).scalar_subquery()
    return tuple(session.execute(sa.select(event, run, changed, projects)).one())


@dataclass(frozen=True, kw_only=True)
class _Page:
    html: str
    status_code: int
    headers: tuple[tuple[str, str], ...]
    stored_at: float


class PageCache:
    """A bounded, thread-safe map of rendered pages, oldest evicted first."""

    def __init__(self, *, seconds: float, max_pages: int = 512) -> None:
        self.seconds = seconds
        self.max_pages = max_pages
        self.name_hole = f"riskgate-name-{secrets.token_hex(16)}"
        self.csrf_hole = f"riskgate-csrf-{secrets.token_hex(16)}"
        self._pages: OrderedDict[Key, _Page] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when GATE_PAGE_CACHE_SECONDS is 0."""
        return self.seconds > 0

    def get(self, key: Key) -> _Page | None:
        """The page stored under `key`, if still fresh."""
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if time.monotonic() - page.stored_at > self.seconds:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: Key, page: _Page) -> None:
        """Store `page`, evicting the least recently used beyond the bound."""
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)

    def fill(self, page: _Page, *, name: str, csrf: str) -> Response:
        """The cached page with this request's name and CSRF token in its holes."""
        html = page.html.replace(self.name_hole, escape(name)).replace(self.csrf_hole, escape(csrf))
        return HTMLResponse(html, status_code=page.status_code, headers=dict(page.headers))


def render_cached(
    request: Request,
    session: Session,
    who: Principal,
    template: str,
    build_context: Callable[[], dict[str, Any]],
) -> Response:
    """`render(...)` of `template` with `build_context()`, from the cache when the data allows.

    While caching, `principal.name` is a stand-in filled in later: templates may print it but
    must not branch on it (nor on the CSRF token); what they may branch on is in the key.
    """
    cache: PageCache = request.app.state.page_cache
    if not cache.enabled or request.session.get(FLASH_KEY):
        return render(request, template, build_context(), principal=who)
    scope = None if who.projects is None else tuple(sorted(who.projects))
    key = (request.url.path, str(request.query_params), who.role, scope, today(),
           data_stamp(session))
    page = cache.get(key)
    csrf = session_csrf_token(request.session)
    if page is None:
        stand_in = replace(who, name=cache.name_hole)
        response = render(request, template, build_context(), principal=stand_in,
                          csrf_token=cache.csrf_hole)
        body = bytes(response.body).decode("utf-8")
        headers = tuple((k, v) for k, v in response.headers.items() if k.lower() not in
                        ("content-length", "set-cookie"))
        page = _Page(html=body, status_code=response.status_code, headers=headers,
                     stored_at=time.monotonic())
        cache.put(key, page)
    return cache.fill(page, name=who.name, csrf=csrf)
