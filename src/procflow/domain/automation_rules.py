"""An automation rule as Tallyfy's clients send it, checked field by field.

The wire shape is api-v2's (`automated_alias`, `conditions[]` with `conditionable_type`,
`conditionable_id`, `operation`, `statement`, `logic`, `position`; `then_actions[]` with
`action_type`, `action_verb`, `target_step_id` and, by type, `assignees` or `deadline`).
`check` returns the stored form, with ids for every condition and action, or per-field
errors; `to_rule` turns the stored form into the engine's `Rule`.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from procflow.domain import automations as engine
from procflow.domain.deadlines import UNITS
from procflow.domain.emails import is_email
from procflow.domain.ids import new_id

ALIAS_MAX = 200
STATEMENT_MAX = 1000
ITEMS_MAX = 50
MAX_RULES = 200
Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Scope:
    """What a rule of one template may name: its steps, its kick-off fields, and its
    step form fields (by field id, with their step)."""

    steps: Collection[str]
    prerun: Collection[str]
    captures: Mapping[str, str]


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check(
    body: Mapping[str, Any], scope: Scope, url_error: Callable[[str], str | None]
) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    alias = body.get("automated_alias", "")
    if alias is None:
        alias = ""
    if not isinstance(alias, str) or len(alias) > ALIAS_MAX:
        errors["automated_alias"] = [f"The automated alias must be text of at most {ALIAS_MAX}."]
    logic = body.get("condition_logic") or "and"
    if not isinstance(logic, str) or logic.lower() not in ("and", "or"):
        errors["condition_logic"] = ["The condition logic must be AND or OR."]
        logic = "and"
    conditions = body.get("conditions")
    actions = body.get("then_actions")
    stored: dict[str, Any] = {
        "automated_alias": alias if isinstance(alias, str) else "",
        "condition_logic": logic.upper(),
        "conditions": [],
        "then_actions": [],
    }
    if not isinstance(conditions, list) or not conditions or len(conditions) > ITEMS_MAX:
        errors["conditions"] = [f"The conditions must be a list of 1 to {ITEMS_MAX} items."]
    else:
        for index, item in enumerate(conditions):
            kept = _condition(item, index, scope, logic.lower(), errors)
            stored["conditions"].append(kept)
    if not isinstance(actions, list) or not actions or len(actions) > ITEMS_MAX:
        errors["then_actions"] = [f"The then actions must be a list of 1 to {ITEMS_MAX} items."]
    else:
        for index, item in enumerate(actions):
            stored["then_actions"].append(_action(item, index, scope, url_error, errors))
    return stored, errors


def _condition(item: Any, index: int, scope: Scope, logic: str, errors: Errors) -> dict[str, Any]:
    where = f"conditions.{index}"
    if not isinstance(item, Mapping):
        errors[where] = ["Each condition must be an object."]
        return {}
    kind = item.get("conditionable_type")
    target = item.get("conditionable_id")
    operation = item.get("operation")
    statement = item.get("statement")
    statement = "" if statement is None else statement
    if kind not in engine.CONDITIONABLE_TYPES:
        errors[f"{where}.conditionable_type"] = [
            "The conditionable type must be one of " + ", ".join(engine.CONDITIONABLE_TYPES) + "."
        ]
    else:
        known = {
            engine.STEP: scope.steps,
            engine.PRERUN: scope.prerun,
            engine.CAPTURE: scope.captures,
        }[kind]
        if not isinstance(target, str) or target not in known:
            errors[f"{where}.conditionable_id"] = [f"No such {kind.lower()} in this template."]
        allowed = engine.STEP_OPERATIONS if kind == engine.STEP else engine.FIELD_OPERATIONS
        if operation not in allowed:
            errors[f"{where}.operation"] = ["The operation must be one of " + ", ".join(allowed)]
    if not isinstance(statement, (str, int, float)) or isinstance(statement, bool):
        errors[f"{where}.statement"] = ["The statement must be text."]
        statement = ""
    elif len(str(statement)) > STATEMENT_MAX:
        errors[f"{where}.statement"] = [f"The statement may be at most {STATEMENT_MAX} long."]
    own_logic = item.get("logic") or logic
    if not isinstance(own_logic, str) or own_logic.lower() not in ("and", "or"):
        errors[f"{where}.logic"] = ["The logic must be and or or."]
        own_logic = logic
    position = item.get("position")
    if position is None:
        position = index + 1
    elif not _int(position):
        errors[f"{where}.position"] = ["The position must be a whole number."]
        position = index + 1
    kept = {
        "id": item["id"] if isinstance(item.get("id"), str) and item["id"] else new_id(),
        "conditionable_id": target,
        "conditionable_type": kind,
        "operation": operation,
        "statement": str(statement),
        "logic": own_logic.lower(),
        "position": position,
    }
    if isinstance(item.get("column_contains_name"), str):
        kept["column_contains_name"] = item["column_contains_name"]
    return kept


def _action(
    item: Any, index: int, scope: Scope, url_error: Callable[[str], str | None], errors: Errors
) -> dict[str, Any]:
    where = f"then_actions.{index}"
    if not isinstance(item, Mapping):
        errors[where] = ["Each action must be an object."]
        return {}
    kind, verb, step = item.get("action_type"), item.get("action_verb"), item.get("target_step_id")
    position = item.get("position", index + 1)
    kept: dict[str, Any] = {
        "id": item["id"] if isinstance(item.get("id"), str) and item["id"] else new_id(),
        "action_type": kind,
        "action_verb": verb,
        "target_step_id": step,
        "position": position if _int(position) else index + 1,
    }
    if not isinstance(kind, str) or kind not in engine.VERBS:
        errors[f"{where}.action_type"] = [
            "The action type must be one of " + ", ".join(engine.VERBS)
        ]
        return kept
    if verb not in engine.VERBS[kind]:
        errors[f"{where}.action_verb"] = [
            f"A {kind} action's verb must be one of " + ", ".join(engine.VERBS[kind]) + "."
        ]
    if kind == "webhook":
        url = item.get("webhook")
        problem = url_error(url) if isinstance(url, str) else "The webhook must be a URL."
        if problem:
            errors[f"{where}.webhook"] = [problem]
        kept["webhook"] = url
        if step is None:
            return kept
    if not isinstance(step, str) or step not in scope.steps:
        errors[f"{where}.target_step_id"] = ["No such step in this template."]
    if kind == "assignment":
        kept["assignees"] = _people(item.get("assignees"), f"{where}.assignees", errors)
    if kind == "deadline":
        kept["deadline"] = _deadline(item.get("deadline"), f"{where}.deadline", errors)
    return kept


def _people(value: Any, where: str, errors: Errors) -> dict[str, list[Any]]:
    if not isinstance(value, Mapping):
        errors[where] = ["The assignees must be an object with users, guests and groups."]
        return {"users": [], "guests": [], "groups": []}
    users, guests, groups = (value.get(k) or [] for k in ("users", "guests", "groups"))
    if not isinstance(users, list) or not all(_int(u) for u in users):
        errors[f"{where}.users"] = ["The users must be a list of member ids."]
        users = []
    if not isinstance(guests, list) or not all(
        isinstance(g, str) and is_email(g.strip()) for g in guests
    ):
        errors[f"{where}.guests"] = ["The guests must be a list of e-mail addresses."]
        guests = []
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        errors[f"{where}.groups"] = ["The groups must be a list of group ids."]
        groups = []
    if not (users or guests or groups) and where not in errors:
        errors[where] = ["An assignment names at least one member, guest or group."]
    return {
        "users": list(dict.fromkeys(users)),
        "guests": list(dict.fromkeys(g.strip().lower() for g in guests)),
        "groups": list(dict.fromkeys(groups)),
    }


def _deadline(value: Any, where: str, errors: Errors) -> dict[str, Any]:
    """`value` is signed: `shift` moves a deadline either way; a negative `set` lands
    before the run's start."""
    low = -10_000
    if not isinstance(value, Mapping):
        errors[where] = ["The deadline must be an object with value and unit."]
        return {}
    amount, unit = value.get("value"), value.get("unit", "days")
    if not isinstance(amount, int) or isinstance(amount, bool) or not low <= amount <= 10_000:
        errors[f"{where}.value"] = [
            f"The deadline value must be a whole number from {low} to 10000."
        ]
    if unit not in UNITS:
        errors[f"{where}.unit"] = ["The deadline unit must be one of " + ", ".join(UNITS) + "."]
    return {"value": amount, "unit": unit}


def to_rule(rule_id: str, stored: Mapping[str, Any]) -> engine.Rule:
    conditions = tuple(
        engine.Condition(
            kind=c["conditionable_type"],
            target=c["conditionable_id"],
            operation=c["operation"],
            statement=c.get("statement") or "",
            logic=c.get("logic") or "and",
            position=c.get("position") or 0,
        )
        for c in stored.get("conditions") or []
    )
    actions = []
    for a in stored.get("then_actions") or []:
        people = a.get("assignees") or {}
        deadline = a.get("deadline")
        actions.append(
            engine.Action(
                type=a["action_type"],
                verb=a["action_verb"],
                step=a.get("target_step_id"),
                people=engine.People(
                    frozenset(people.get("users") or ()),
                    frozenset(people.get("guests") or ()),
                    frozenset(people.get("groups") or ()),
                ),
                deadline=(deadline["value"], deadline["unit"]) if deadline else None,
                url=a.get("webhook"),
            )
        )
    return engine.Rule(rule_id, conditions, tuple(actions))
