"""First contact: `GET /` says where to look, and the interactive documentation works with
no internet access."""

import re

import pytest
from fastapi.testclient import TestClient

from procflow import __version__

# Where a page makes the browser fetch something: tags' src/href, ReDoc's spec-url, and
# the document URL handed to Swagger UI in its inline script.
REFERENCE = re.compile(r"""(?:\b(?:src|href|spec-url)="([^"]*)")|(?:\burl: '([^']*)')""")
CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".png": "image/png",
    ".json": "application/json",
}


def references(page: str) -> list[str]:
    return [first or second for first, second in REFERENCE.findall(page)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_everything_from_this_server(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "http://" not in response.text
    assert "https://" not in response.text
    found = references(response.text)
    assert "/openapi.json" in found
    assert any(path.endswith(".js") for path in found)
    for path in found:
        assert re.match(r"/[^/]", path), path
        asset = client.get(path)
        assert asset.status_code == 200, path
        suffix = path[path.rfind(".") :]
        assert asset.headers["content-type"].startswith(CONTENT_TYPES[suffix]), path
        assert len(asset.content) > 1000, path


def test_the_scripts_are_swagger_ui_and_redoc(client: TestClient) -> None:
    swagger = [p for p in references(client.get("/docs").text) if p.endswith(".js")]
    redoc = [p for p in references(client.get("/redoc").text) if p.endswith(".js")]
    assert b"SwaggerUIBundle" in client.get(swagger[0]).content
    assert b"Redoc" in client.get(redoc[0]).content


@pytest.mark.parametrize("path", ["/", "/api", "/api/"])
def test_the_root_says_what_this_is_and_where_to_look(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {
        "name": "procflow",
        "version": __version__,
        "description": "A self-hosted process server that speaks Tallyfy's REST API.",
        "api": "/api",
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": "/openapi.json",
        "health": "/health",
        "authentication": "Authorization: Bearer <token>; `procflow init` or "
        "`procflow tokens create` prints one",
    }
    for link in ("docs", "redoc", "openapi", "health"):
        assert client.get(body[link]).status_code == 200, link


def test_the_landing_routes_stay_out_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/api", "/api/"} & set(paths)
