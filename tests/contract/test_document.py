"""What the OpenAPI document adds to FastAPI's inference, and the wire behaviour it states."""

import re

import pytest
from fastapi.testclient import TestClient

from procflow.api.schemas.base import SPACE
from procflow.domain.form_fields import ALIAS_PATTERN, ALIAS_RULE
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


@pytest.mark.parametrize(
    "alias", ["custom_1", "  Padded-2\n", "", "   ", "no spaces", "ünï", "a.b", "\x85x", "x\x0b"]
)
def test_the_document_states_the_alias_rule_the_service_keeps(world: World, alias: str) -> None:
    spec = world.client.get("/openapi.json").json()
    stated = spec["components"]["schemas"]["FieldInput"]["properties"]["alias"]["anyOf"][0]
    assert stated["pattern"] == ALIAS_PATTERN
    checklist_id = world.template(steps=[{"title": "Collect"}])
    step_id = world.call("GET", f"/checklists/{checklist_id}/steps").json()["data"][0]["id"]
    response = world.call(
        "POST",
        f"/checklists/{checklist_id}/steps/{step_id}/captures",
        json={"field_type": "text", "label": "Name", "alias": alias},
    )
    valid = re.search(stated["pattern"], alias) is not None
    assert response.status_code == (201 if valid else 422), response.text
    if valid:
        assert response.json()["data"]["alias"] == (alias.strip() or "name")
    else:
        assert response.json()["errors"] == {"alias": [ALIAS_RULE]}


def test_whitespace_in_patterns_is_what_python_strips() -> None:
    spaces = {c for c in map(chr, range(0x110000)) if c.isspace()}
    assert {c for c in map(chr, range(0x110000)) if re.fullmatch(f"[{SPACE}]", c)} == spaces


def test_deleting_an_archived_process_for_good_answers_200_without_a_body(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    for path in ("/runs/{run_id}/delete", "/checklists/{checklist_id}/delete"):
        answer = spec["paths"]["/organizations/{org_id}" + path]["delete"]["responses"]["200"]
        assert "content" not in answer, path
    run = world.launch(world.template(steps=[{"title": "Only"}]))
    assert world.call("DELETE", f"/runs/{run['id']}").status_code == 200
    response = world.call("DELETE", f"/runs/{run['id']}/delete")
    assert response.status_code == 200
    assert response.content == b""
    assert "content-type" not in response.headers


def test_an_answer_that_creates_something_links_to_the_operations_on_it(
    client: TestClient,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    links = paths["/organizations/{org_id}/runs"]["post"]["responses"]["201"]["links"]
    get_run = paths["/organizations/{org_id}/runs/{run_id}"]["get"]["operationId"]
    assert links[get_run] == {
        "operationId": get_run,
        "parameters": {"run_id": "$response.body#/data/id", "org_id": "$request.path.org_id"},
    }
    filed = paths["/organizations/{org_id}/folders/add-object"]["post"]["responses"]
    assert filed["200"]["links"] == filed["201"]["links"] != {}
