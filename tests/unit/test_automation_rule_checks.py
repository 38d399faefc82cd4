"""`domain.automation_rules.check`: every malformed part of a rule is named by its own
field, and a well-formed rule comes back in its stored form."""

from typing import Any

import pytest

from procflow.domain.automation_rules import ALIAS_MAX, ITEMS_MAX, STATEMENT_MAX, Scope, check

SCOPE = Scope(steps={"s1", "s2"}, prerun={"p1"}, captures={"c1": "s1"})


def no_url_error(url: str) -> str | None:
    return None if url.startswith("https://") else "The webhook must be a public https URL."


def condition(**changes: Any) -> dict[str, Any]:
    return {
        "conditionable_type": "Prerun",
        "conditionable_id": "p1",
        "operation": "equals",
        "statement": "yes",
        **changes,
    }


def action(**changes: Any) -> dict[str, Any]:
    return {"action_type": "visibility", "action_verb": "show", "target_step_id": "s2", **changes}


def rule(conditions: Any = None, actions: Any = None, **changes: Any) -> dict[str, Any]:
    return {
        "automated_alias": "Gold clients",
        "conditions": [condition()] if conditions is None else conditions,
        "then_actions": [action()] if actions is None else actions,
        **changes,
    }


def test_a_well_formed_rule_is_stored_with_ids_and_defaults() -> None:
    body = rule(
        conditions=[condition(), condition(conditionable_type="Step", conditionable_id="s1",
                                           operation="completed", statement=None, logic="OR",
                                           position=7, column_contains_name="Tier")],
        actions=[
            action(),
            action(action_type="assignment", action_verb="assign",
                   assignees={"users": [3, 3], "guests": [" A@Example.com "], "groups": ["g"]}),
            action(action_type="deadline", action_verb="shift",
                   deadline={"value": -2, "unit": "hours"}),
            action(action_type="webhook", action_verb="fire", target_step_id=None,
                   webhook="https://example.com/hook"),
        ],
        condition_logic="or",
    )  # fmt: skip
    stored, errors = check(body, SCOPE, no_url_error)
    assert errors == {}
    assert stored["condition_logic"] == "OR"
    first, second = stored["conditions"]
    assert first["id"]
    assert (first["position"], first["logic"]) == (1, "or")
    assert (second["statement"], second["logic"], second["position"]) == ("", "or", 7)
    assert second["column_contains_name"] == "Tier"
    assignment = stored["then_actions"][1]["assignees"]
    assert assignment == {"users": [3], "guests": ["a@example.com"], "groups": ["g"]}
    assert stored["then_actions"][2]["deadline"] == {"value": -2, "unit": "hours"}
    assert stored["then_actions"][3]["webhook"] == "https://example.com/hook"


def test_a_null_alias_is_empty() -> None:
    stored, errors = check(rule(automated_alias=None), SCOPE, no_url_error)
    assert errors == {}
    assert stored["automated_alias"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (rule(automated_alias="a" * (ALIAS_MAX + 1)), "automated_alias"),
        (rule(automated_alias=5), "automated_alias"),
        (rule(condition_logic="xor"), "condition_logic"),
        (rule(conditions=[]), "conditions"),
        (rule(conditions="all"), "conditions"),
        (rule(conditions=[condition()] * (ITEMS_MAX + 1)), "conditions"),
        (rule(actions=[]), "then_actions"),
        (rule(conditions=["x"]), "conditions.0"),
        (rule(conditions=[condition(conditionable_type="Run")]), "conditions.0.conditionable_type"),
        (rule(conditions=[condition(conditionable_id="p9")]), "conditions.0.conditionable_id"),
        (rule(conditions=[condition(operation="completed")]), "conditions.0.operation"),
        (rule(conditions=[condition(statement=["x"])]), "conditions.0.statement"),
        (rule(conditions=[condition(statement=True)]), "conditions.0.statement"),
        (rule(conditions=[condition(statement="s" * (STATEMENT_MAX + 1))]),
         "conditions.0.statement"),
        (rule(conditions=[condition(logic="nand")]), "conditions.0.logic"),
        (rule(conditions=[condition(position="first")]), "conditions.0.position"),
        (rule(actions=["x"]), "then_actions.0"),
        (rule(actions=[action(action_type="email")]), "then_actions.0.action_type"),
        (rule(actions=[action(action_verb="hide-all")]), "then_actions.0.action_verb"),
        (rule(actions=[action(target_step_id="s9")]), "then_actions.0.target_step_id"),
        (rule(actions=[action(action_type="webhook", action_verb="fire",
                              webhook="http://10.0.0.1/")]), "then_actions.0.webhook"),
        (rule(actions=[action(action_type="webhook", action_verb="fire", webhook=3)]),
         "then_actions.0.webhook"),
        (rule(actions=[action(action_type="assignment", action_verb="assign", assignees=[1])]),
         "then_actions.0.assignees"),
        (rule(actions=[action(action_type="assignment", action_verb="assign",
                              assignees={"users": ["1"]})]), "then_actions.0.assignees.users"),
        (rule(actions=[action(action_type="assignment", action_verb="assign",
                              assignees={"guests": ["not an address"]})]),
         "then_actions.0.assignees.guests"),
        (rule(actions=[action(action_type="assignment", action_verb="assign",
                              assignees={"groups": [""]})]), "then_actions.0.assignees.groups"),
        (rule(actions=[action(action_type="assignment", action_verb="assign",
                              assignees={})]), "then_actions.0.assignees"),
        (rule(actions=[action(action_type="deadline", action_verb="set", deadline=3)]),
         "then_actions.0.deadline"),
        (rule(actions=[action(action_type="deadline", action_verb="set",
                              deadline={"value": 10_001})]), "then_actions.0.deadline.value"),
        (rule(actions=[action(action_type="deadline", action_verb="set",
                              deadline={"value": True})]), "then_actions.0.deadline.value"),
        (rule(actions=[action(action_type="deadline", action_verb="set",
                              deadline={"value": 1, "unit": "fortnights"})]),
         "then_actions.0.deadline.unit"),
    ],
)  # fmt: skip
def test_each_malformed_part_is_named(body: dict[str, Any], field: str) -> None:
    _, errors = check(body, SCOPE, no_url_error)
    assert field in errors, errors
    assert all(isinstance(message, str) and message for message in errors[field])
