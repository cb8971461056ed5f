"""The API's documentation pages, /docs (Swagger UI) and /redoc, served entirely from here.

The Swagger UI and ReDoc bundles come from the `fastapi-offline` package's static files (the
official distribution builds) and are mounted at /docs-assets; the pages start them from a
script of ours in /static, so no inline script runs and the CSP allows scripts from 'self'
only. Both UIs set inline style attributes, hence `style-src 'unsafe-inline'` on these pages.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS = "/docs-assets"
DOCS_PATHS = ("/docs", "/redoc", ASSETS, "/openapi.json")
DOCS_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>riskgate register API · Swagger UI</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" href="{ASSETS}/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""

REDOC_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>riskgate register API · ReDoc</title>
<link rel="icon" href="{ASSETS}/favicon.png">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="{ASSETS}/redoc.standalone.js"></script>
</body>
</html>
"""


def assets_directory() -> Path:
    """Where the installed `fastapi-offline` package keeps the UI bundles."""
    return Path(str(files("fastapi_offline") / "static"))


def swagger_ui() -> HTMLResponse:
    """Swagger UI for the OpenAPI document, from local assets."""
    return HTMLResponse(SWAGGER_PAGE)


def redoc() -> HTMLResponse:
    """ReDoc for the OpenAPI document, from local assets."""
    return HTMLResponse(REDOC_PAGE)


def install_docs(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets (create the app with docs_url=None, redoc_url=None)."""
    app.mount(ASSETS, StaticFiles(directory=assets_directory()), name="docs-assets")
    app.add_api_route("/docs", swagger_ui, include_in_schema=False)
    app.add_api_route("/redoc", redoc, include_in_schema=False)
