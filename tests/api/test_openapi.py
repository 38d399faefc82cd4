"""The served OpenAPI document describes every route, its bodies and its errors."""

from pathlib import Path

from fastapi.testclient import TestClient


def test_every_operation_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    operations = [
        (path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
    ]
    assert len(operations) > 10
    for path, method, op in operations:
        assert op.get("summary"), (method, path)
        assert "200" in op["responses"] or "201" in op["responses"] or "204" in op["responses"]
        if path.startswith("/organizations/"):
            for status in ("401", "403", "404", "422"):
                assert status in op["responses"], (method, path, status)
    put = spec["paths"]["/organizations/{org_id}/runs/{run_id}"]["put"]
    assert "requestBody" in put
    schema = spec["components"]["schemas"]["RunUpdate"]
    assert {
        "name",
        "summary",
        "owner_id",
        "tags",
        "folders",
        "prerun",
        "taskdata",
        "prevent_guest_comment",
    } <= set(schema["properties"])


def test_interactive_docs_are_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_user_docs_list_every_endpoint(client: TestClient) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    spec = client.get("/openapi.json").json()
    missing = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if f"| {method.upper()} | `{path}` |" not in docs
    ]
    assert missing == []


def test_link_parameters_follow_the_path_order(client: TestClient) -> None:
    """The document is the same on every run: nothing in it follows a set's iteration order."""
    spec = client.get("/openapi.json").json()
    operations = {
        op["operationId"]: path for path, item in spec["paths"].items() for op in item.values()
    }
    seen = 0
    for item in spec["paths"].values():
        for op in item.values():
            for answer in op["responses"].values():
                for link in answer.get("links", {}).values():
                    target = operations[link["operationId"]]
                    from_request = [
                        name
                        for name, value in link["parameters"].items()
                        if value.startswith("$request.path.")
                    ]
                    order = [part[1:-1] for part in target.split("/") if part.startswith("{")]
                    assert from_request == [name for name in order if name in from_request]
                    seen += len(from_request)
    assert seen > 10
