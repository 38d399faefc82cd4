"""What the OpenAPI document adds to FastAPI's inference, and the wire behaviour it states."""

from fastapi.testclient import TestClient

from tests.factories import World


def test_document_declares_bearer_auth_and_response_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    get_run = spec["paths"]["/organizations/{org_id}/runs/{run_id}"]["get"]
    ok = get_run["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/RunEnvelope"}
    run_id = next(p for p in get_run["parameters"] if p["name"] == "run_id")
    assert run_id["schema"]["pattern"] == "^[0-9a-f]{32}$"
    assert "WWW-Authenticate" in get_run["responses"]["401"]["headers"]


def test_a_body_whose_keys_are_all_optional_is_optional(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    put = spec["paths"]["/organizations/{org_id}/runs/{run_id}"]["put"]
    assert put["requestBody"]["required"] is False
    launch = spec["paths"]["/organizations/{org_id}/runs"]["post"]
    assert launch["requestBody"]["required"] is True


def test_405_names_every_method_of_the_path(world: World) -> None:
    response = world.call("PATCH", "/tags/" + "0" * 32)
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PUT"
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


def test_member_paths_take_only_integer_ids(world: World) -> None:
    assert world.call("GET", "/users/invite").status_code == 405
    assert world.call("GET", f"/users/{world.standard.user_id}").status_code == 200


def test_activity_dates_are_calendar_dates_only(world: World) -> None:
    assert world.call("GET", "/activity-feeds?created_after=2020-01-01").status_code == 200
    for bad in ("0", "2020-01-01T00:00:00"):
        response = world.call("GET", f"/activity-feeds?created_after={bad}")
        assert response.status_code == 400, bad
        assert "created_after" in response.json()["errors"]
