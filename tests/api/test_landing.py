"""First contact: the interactive documentation works with no internet access."""

import re

import pytest
from fastapi.testclient import TestClient

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
