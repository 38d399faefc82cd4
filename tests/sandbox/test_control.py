"""The sandbox's control routes, in process, on SQLite and PostgreSQL: reset, seed, export,
snapshots, the admin guard, and their absence from a normal server."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from procflow.cli import sandboxing
from procflow.cli.failures import CommandFailed
from procflow.sandbox import boot
from procflow.settings import Settings
from tests.conftest import ON_POSTGRES, _recreate_postgres, database_name, pg_url

RULES: list[dict[str, Any]] = [
    {
        "automated_alias": "Acme gets Ann",
        "conditions": [
            {"conditionable_type": "Prerun", "conditionable": "Client",
             "operation": "equals", "statement": "Acme"},
            {"conditionable_type": "Capture", "conditionable": "Contract number",
             "operation": "is_not_empty", "logic": "or"},
        ],
        "then_actions": [
            {"action_type": "assignment", "action_verb": "assign", "target_step": "Kick-off call",
             "assignees": {"users": ["ann@example.com"], "groups": ["Sales"]}},
            {"action_type": "deadline", "action_verb": "set", "target_step": "Kick-off call",
             "deadline": {"value": 1, "unit": "days"}},
        ],
    }
]  # fmt: skip
SEED: dict[str, Any] = {
    "members": [{"email": "ann@example.com", "first_name": "Ann", "role": "standard"}],
    "groups": [{"name": "Sales", "members": ["ann@example.com", "member"]}],
    "tags": [{"title": "urgent", "color": "#ff0000"}],
    "folders": [{"name": "Clients"}, {"name": "Acme", "parent": "Clients"}],
    "templates": [
        {
            "title": "Onboarding",
            "prerun": [{"label": "Client", "field_type": "text", "required": True}],
            "steps": [
                {
                    "title": "Send contract",
                    "deadline": {"value": 2, "unit": "days"},
                    "captures": [{"label": "Contract number", "field_type": "text"}],
                },
                {"title": "Kick-off call"},
            ],
            "automated_actions": RULES,
        }
    ],
    "runs": [
        {
            "template": "Onboarding",
            "name": "Acme onboarding",
            "prerun": {"Client": "Acme"},
            "tags": ["urgent"],
            "folders": ["Acme"],
            "tasks": {"Send contract": {"taskdata": {"Contract number": "C-1"}, "completed": True}},
        }
    ],
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("sandbox")
    name = database_name("sandbox")
    if ON_POSTGRES:
        _recreate_postgres(name, create=True)
    url = pg_url(name) if ON_POSTGRES else None
    try:
        settings = boot.sandbox_settings(Settings(auth_cache_seconds=0), folder, url)
        app = boot.start(settings, folder)
        app.state.start = app.state.sandbox.baseline
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        if ON_POSTGRES:
            _recreate_postgres(name, create=False)


@pytest.fixture
def control(sandbox: TestClient) -> TestClient:
    """The sandbox, reset to its start (whatever a test seeded), with the admin token."""
    state = sandbox.app.state  # type: ignore[attr-defined]  # a FastAPI app
    state.sandbox.baseline = state.start
    people = state.sandbox.people
    sandbox.headers["Authorization"] = f"Bearer {people.admin_token}"
    assert sandbox.post("/_sandbox/reset").status_code == 200
    return sandbox


def org(client: TestClient) -> str:
    return f"/organizations/{client.app.state.sandbox.people.org_id}"  # type: ignore[attr-defined]  # a FastAPI app


def test_a_normal_server_has_no_control_routes(client: TestClient) -> None:
    for method, path in (("POST", "/_sandbox/reset"), ("GET", "/_sandbox/export")):
        answer = client.request(method, path)
        assert answer.status_code == 404
        assert answer.json()["code"] == "ENDPOINT_NOT_FOUND"


def test_control_routes_take_the_admin_token_only(control: TestClient) -> None:
    people = control.app.state.sandbox.people  # type: ignore[attr-defined]  # a FastAPI app
    assert control.post("/_sandbox/reset", headers={"Authorization": ""}).status_code == 401
    member = {"Authorization": f"Bearer {people.member_token}"}
    assert control.post("/_sandbox/reset", headers=member).status_code == 403


def test_reset_goes_back_to_the_start(control: TestClient) -> None:
    assert control.post(f"{org(control)}/tags", json={"title": "left over"}).status_code == 201
    assert control.post("/_sandbox/reset").status_code == 200
    assert control.get(f"{org(control)}/tags").json()["data"] == []
    users = control.get(f"/api{org(control)}/users").json()["data"]
    assert len(users) == 3  # admin, member, light: the people made at start, tokens alive


def test_seed_export_and_seed_again_round_trip(control: TestClient) -> None:
    answer = control.post("/_sandbox/seed?baseline=false", json=SEED)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()["data"]["tokens"]
    assert list(tokens) == ["ann@example.com"]
    ann = {"Authorization": f"Bearer {tokens['ann@example.com']}"}
    mine = control.get(f"{org(control)}/me/tasks", headers=ann).json()["data"]
    assert [task["title"] for task in mine] == ["Kick-off call"]  # the seeded rule's doing
    exported = control.get("/_sandbox/export").json()
    run = exported["runs"][0]
    assert run["prerun"] == {"Client": "Acme"}
    assert run["tasks"] == {
        "Send contract": {"taskdata": {"Contract number": "C-1"}, "completed": True}
    }
    assert exported["folders"] == [{"name": "Clients"}, {"name": "Acme", "parent": "Clients"}]
    assert exported["groups"] == [{"name": "Sales", "members": ["ann@example.com", "member"]}]
    assert exported["templates"][0]["automated_actions"] == RULES
    assert control.post("/_sandbox/reset").status_code == 200
    assert control.get("/_sandbox/export").json()["runs"] == []
    assert control.post("/_sandbox/seed?baseline=false", json=exported).status_code == 200
    assert control.get("/_sandbox/export").json() == exported


def test_seed_moves_the_baseline_and_takes_yaml(control: TestClient) -> None:
    yaml = "tags:\n  - title: seeded\n"
    answer = control.post(
        "/_sandbox/seed", content=yaml, headers={"Content-Type": "application/yaml"}
    )
    assert answer.status_code == 200, answer.text
    control.post(f"{org(control)}/tags", json={"title": "later"})
    assert control.post("/_sandbox/reset").status_code == 200
    titles = [tag["title"] for tag in control.get(f"{org(control)}/tags").json()["data"]]
    assert titles == ["seeded"]


def test_a_bad_seed_is_refused_per_field_and_changes_nothing(control: TestClient) -> None:
    bad = {
        "tags": [{"title": "fine"}],
        "templates": [{"title": "T", "steps": [{"title": ""}]}],
        "runs": [{"template": "T"}],
    }
    answer = control.post("/_sandbox/seed", json=bad)
    assert answer.status_code == 422
    assert answer.json()["code"] == "VALIDATION_FAILED"
    assert list(answer.json()["errors"]) == ["templates.0.steps.0.title"]
    assert control.get(f"{org(control)}/tags").json()["data"] == []
    unknown = control.post("/_sandbox/seed", json={"runs": [{"template": "Nope"}], "x": 1})
    assert unknown.json()["errors"] == {"x": ["Extra inputs are not permitted"]}
    condition = {"conditionable_type": "Step", "conditionable": "A", "operation": "done"}
    action = {"action_type": "status", "action_verb": "reopen", "target_step": "B"}
    rule = {"conditions": [condition], "then_actions": [action]}
    ruled = {"templates": [{"title": "R", "steps": [{"title": "A"}], "automated_actions": [rule]}]}
    where = "templates.0.automated_actions.0"
    answer = control.post("/_sandbox/seed", json=ruled)
    assert list(answer.json()["errors"]) == [f"{where}.then_actions.0.target_step"]
    action["target_step"] = "A"  # found; the API then refuses the operation
    answer = control.post("/_sandbox/seed", json=ruled)
    assert list(answer.json()["errors"]) == [f"{where}.conditions.0.operation"]
    missing = control.post("/_sandbox/seed", json={"runs": [{"template": "Nope"}]})
    assert list(missing.json()["errors"]) == ["runs.0.template"]
    assert control.post("/_sandbox/seed", content=b"[1,").status_code == 422
    hostile = {
        "groups": [{"name": "G", "members": 7}],
        "runs": [{"template": ["x"], "tags": {"a": 1}}],
        "tags": [3],
    }
    answer = control.post("/_sandbox/seed", json=hostile)
    assert (answer.status_code, list(answer.json()["errors"])) == (422, ["tags.0"])
    for doc, field in (
        ({"groups": [{"name": "G", "members": 7}]}, "groups.0.members"),
        ({"runs": [{"template": ["x"]}]}, "runs.0.template"),
        ({"folders": [{"name": "F", "parent": 1}]}, "folders.0.parent"),
    ):
        answer = control.post("/_sandbox/seed", json=doc)
        assert (answer.status_code, list(answer.json()["errors"])) == (422, [field])


def test_tokens_for_any_member_on_request(control: TestClient) -> None:
    state = control.app.state.sandbox  # type: ignore[attr-defined]  # a FastAPI app
    kept = control.post("/_sandbox/tokens", json={"email": "member"})
    assert kept.status_code == 201, kept.text
    assert kept.json()["data"]["user_id"] == state.people.member_id
    light = {"email": "Light@Sandbox.example"}
    passing = control.post("/_sandbox/tokens?baseline=false", json=light).json()["data"]
    assert passing["user_id"] == state.people.light_id
    assert control.post("/_sandbox/reset").status_code == 200

    def status(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return control.get(f"{org(control)}/tags", headers=headers).status_code

    assert (status(kept.json()["data"]["token"]), status(passing["token"])) == (200, 401)
    for bad in ({"email": "nobody@example.com"}, {"email": 3}, [1]):
        refused = control.post("/_sandbox/tokens", json=bad)
        assert (refused.status_code, list(refused.json()["errors"])) == (422, ["email"])
    line = replace(state, seed_tokens={"ann@example.com": "pf1"}).announcement("http://x")
    assert line["tokens"] == {"ann@example.com": "pf1"}  # what `--seed` prints
    assert "tokens" not in state.announcement("http://x")


def test_snapshots_restore_by_name(control: TestClient) -> None:
    control.post(f"{org(control)}/tags", json={"title": "kept"})
    assert control.post("/_sandbox/snapshots", json={"name": "one"}).status_code == 201
    control.post(f"{org(control)}/tags", json={"title": "dropped"})
    assert control.post("/_sandbox/snapshots/one/restore").status_code == 200
    titles = [tag["title"] for tag in control.get(f"{org(control)}/tags").json()["data"]]
    assert titles == ["kept"]
    assert control.post("/_sandbox/snapshots/two/restore").status_code == 404
    assert control.post("/_sandbox/snapshots", json={"name": ""}).status_code == 422


def test_a_refused_seed_file_stops_the_command_before_it_serves(tmp_path: Path) -> None:
    bad = tmp_path / "seed.yaml"
    bad.write_text("templates:\n  - title: ''\n")
    with pytest.raises(CommandFailed) as refused:
        sandboxing.run(
            Settings(), host="127.0.0.1", port=0, seed=bad, as_json=True, database_url=None
        )
    assert "templates.0.title" in refused.value.message
    with pytest.raises(CommandFailed):
        sandboxing.run(
            Settings(),
            host="127.0.0.1",
            port=0,
            seed=tmp_path / "absent.yaml",
            as_json=True,
            database_url=None,
        )
