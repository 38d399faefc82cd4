from tests.factories import World


def test_launch_get_update(world: World) -> None:
    template = world.template(kickoff=[{"field_type": "text", "label": "Client"}])
    run = world.launch(template, name="First")
    assert run["name"] == "First"
    response = world.call("PUT", f"/runs/{run['id']}", json={"summary": "hello"})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["summary"] == "hello"
    got = world.client.get(
        f"/api/organizations/{world.org_id}/runs/{run['id']}", headers=world.admin.headers
    )
    assert got.json()["data"]["summary"] == "hello"
