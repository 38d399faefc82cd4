"""What a person (or a client) meets first: `GET /` (and `/api`) answers a short JSON
document saying what this server is and where its documentation and API live, and `/docs`
and `/redoc` serve Swagger UI and ReDoc from this server, so they work with no internet
access (the assets come from the fastapi-offline package; no CDN, no web fonts, no online
validator badge).

These are plain routes, as FastAPI's own documentation pages are: they are not API
operations, so the OpenAPI document and the route tables of the tests leave them out.
"""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from procflow import __version__
from procflow.api.responses import JsonResponse

DESCRIPTION = "A self-hosted process server that speaks Tallyfy's REST API."
ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


def landing(root_path: str) -> dict[str, Any]:
    """The landing document, its links under `root_path` (where a proxy mounts the app)."""
    return {
        "name": "procflow",
        "version": __version__,
        "description": DESCRIPTION,
        "api": f"{root_path}/api",
        "docs": f"{root_path}/docs",
        "redoc": f"{root_path}/redoc",
        "openapi": f"{root_path}/openapi.json",
        "health": f"{root_path}/health",
        "authentication": "Authorization: Bearer <token>; `procflow init` or "
        "`procflow tokens create` prints one",
    }


def add_front(app: FastAPI) -> None:
    """Serve the landing document at `/`, `/api` and `/api/`, and the offline docs pages.
    The app must be created with `docs_url=None, redoc_url=None`."""
    title, openapi_url = app.title, app.openapi_url or "/openapi.json"

    async def index(request: Request) -> JsonResponse:
        return JsonResponse(landing(request.scope.get("root_path", "")))

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=root + OAUTH2_REDIRECT_URL,
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    async def swagger_ui_redirect(_request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    pages: dict[str, Callable[[Request], Awaitable[Response]]]
    pages = {"/": index, "/api": index, "/api/": index, "/docs": swagger_ui, "/redoc": redoc}
    pages[OAUTH2_REDIRECT_URL] = swagger_ui_redirect
    for path, page in pages.items():
        app.add_route(path, page, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
