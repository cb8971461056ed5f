"""The API docs (/docs, /redoc): every asset is same-origin, served by the app, under a CSP."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def referenced_assets(html: str) -> list[str]:
    return ASSET.findall(html)


def test_swagger_ui_references_only_same_origin_assets_that_load(client: TestClient) -> None:
    page = client.get("/docs")

    assets = referenced_assets(page.text)
    assert page.status_code == 200
    assert len(assets) == 4
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url
    assert "<script>" not in page.text  # no inline script: the CSP allows 'self' only


def test_redoc_references_only_same_origin_assets_that_load(client: TestClient) -> None:
    page = client.get("/redoc")

    assets = referenced_assets(page.text)
    assert page.status_code == 200
    assert {url.rsplit("/", 1)[-1] for url in assets} == {"favicon.png", "redoc.standalone.js"}
    for url in assets:
        assert url.startswith("/") and client.get(url).status_code == 200, url


def test_docs_pages_carry_a_script_self_csp(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/docs-assets/swagger-ui-bundle.js"):
        policy = client.get(path).headers["content-security-policy"]

        assert "script-src 'self';" in policy, path
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "http" not in policy  # no CDN allowed


def test_pages_keep_the_no_script_csp(client: TestClient) -> None:
    policy = client.get("/login").headers["content-security-policy"]

    assert "script-src" not in policy and policy.startswith("default-src 'none'")
