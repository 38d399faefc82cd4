"""`POST /runs/{id}/export` as Tallyfy's CLI `process export` calls it: a POST without a
body whose answer the CLI saves as it is (a CSV here, as Tallyfy's process export)."""

import csv
import io

from procflow.services.run_export import COLUMNS
from tests.factories import World


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_run_exports_as_csv_with_kickoff_tasks_and_values(world: World) -> None:
    checklist = world.template(
        title="Hiring",
        kickoff=[{"field_type": "text", "label": "Candidate"}],
        steps=[
            {"title": "Interview", "captures": [{"field_type": "text", "label": "Verdict"}]},
            {"title": "Offer"},
        ],
    )
    template = world.call("GET", f"/checklists/{checklist}").json()["data"]
    run = world.launch(
        checklist, name="Hire =Ada", prerun={template["prerun"][0]["id"]: "=cmd|' /C calc'!A0"}
    )
    response = world.call("POST", f"/runs/{run['id']}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    reader = csv.reader(io.StringIO(response.text))
    assert tuple(next(reader)) == COLUMNS
    rows = rows_of(response.text)
    assert [r["type"] for r in rows] == [
        "kick_off_task",
        "process_task",
        "process_task_data",
        "process_task",
    ]
    assert {r["process_id"] for r in rows} == {run["id"]}
    assert rows[0]["form_field_label"] == "Candidate"
    assert rows[0]["form_field_value"] == "'=cmd|' /C calc'!A0"
    assert rows[1]["task_name"] == "Interview"
    assert rows[2]["form_field_label"] == "Verdict"
    assert rows[3]["task_name"] == "Offer"
    assert rows[0]["total_tasks_in_process"] == "2"
    assert rows[0]["process_name"] == "Hire =Ada"


def test_export_follows_the_run_read_rules(world: World, other_world: World) -> None:
    checklist = world.template()
    run = world.launch(checklist)
    denied = world.call("POST", f"/runs/{run['id']}/export", world.light)
    assert denied.status_code == world.call("GET", f"/runs/{run['id']}", world.light).status_code
    assert denied.status_code == 403
    assert world.call("POST", f"/runs/{run['id']}/export", world.standard).status_code == 200
    foreign = other_world.call("POST", f"/runs/{run['id']}/export")
    assert foreign.status_code == 404
    assert run["id"] not in foreign.text
