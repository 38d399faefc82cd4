"""An automation's webhook action: one signed delivery of `automation.fired` to the rule's
URL when the rule starts to hold, and none when it holds again without having lapsed."""

from procflow.domain.webhooks import verify
from procflow.services import delivery
from tests.factories import World
from tests.webhooks.conftest import Clock, drain
from tests.webhooks.helpers import complete, task_ids
from tests.webhooks.receiver import Receiver


def test_a_rule_fires_its_webhook_once_when_it_starts_to_hold(
    hooks: World, receiver: Receiver, worker: delivery.Worker, clock: Clock
) -> None:
    template = hooks.template(steps=[{"title": "Draft"}, {"title": "Sign"}, {"title": "File"}])
    steps = hooks.call("GET", f"/checklists/{template}/steps").json()["data"]
    rule = {
        "automated_alias": "Tell the archive",
        "conditions": [
            {"conditionable_type": "Step", "conditionable_id": steps[0]["id"],
             "operation": "completed"}
        ],
        "then_actions": [
            {"action_type": "webhook", "action_verb": "fire", "webhook": receiver.url("/rule")}
        ],
    }  # fmt: skip
    made = hooks.call("POST", f"/checklists/{template}/automated-actions", json=rule)
    assert made.status_code == 201, made.text
    run = hooks.launch(template)
    first, second, _ = task_ids(hooks, run["id"])
    complete(hooks, run["id"], first)
    complete(hooks, run["id"], second)
    drain(worker)
    got = receiver.at("/rule")
    assert [r.json["event"] for r in got] == ["automation.fired"]
    assert got[0].json["automation"] == {
        "id": made.json()["data"]["id"],
        "automated_alias": "Tell the archive",
    }
    assert got[0].json["id"] == run["id"]
    secret = hooks.call("GET", "/webhook-secret").json()["data"]["secret"]
    signature = got[0].headers["x-procflow-signature"]
    assert verify(secret, signature, got[0].body, int(clock.now.timestamp()))
