"""A template's automation rules in a seed document: ids written as names, both ways.

A rule in a template's `automated_actions` is the body of `POST /checklists/{id}/automated-
actions` with names where the API takes ids: `conditionable` (a step's title, a kick-off
field's or a form field's label) for `conditionable_id`, `target_step` (a step's title) for
`target_step_id`, assignees' `users` by email (or `admin`, `member`, `light`) and `groups`
by name. A form field's label that two steps share is told apart by adding `step` (the
title of the step it is on). Seeding turns the names into this template's ids and sends
the body to the API, which checks the rule as it checks any client's; export writes the
names back, leaving out what the API would fill in by itself (positions in order, a
condition's `logic` equal to the rule's, an empty statement).
"""

from collections.abc import Callable, Mapping
from typing import Any

from procflow.errors import ValidationFailed

Item = dict[str, Any]
Table = dict[str, Any]
RENAMED = {"conditionable_id": "conditionable", "target_step_id": "target_step"}


def lookup(table: Mapping[str, Any], name: Any, path: str, what: str) -> Any:
    if not isinstance(name, str):
        raise ValidationFailed({path: [f"A {what} is named by a string."]})
    key = name.strip().lower()
    if key not in table:
        raise ValidationFailed({path: [f"No {what} {name!r} in this template or sandbox."]})
    found = table[key]
    if found is None:
        raise ValidationFailed({path: [f"Two {what}s are named {name!r}: add `step`."]})
    return found


def steps_of(template: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    steps: list[Mapping[str, Any]] = template["steps"]["data"]
    return steps


def by_name(items: Any, *keys: str) -> Table:
    """`{name: id}` by each of `keys` (lowercased) and by id; a name two items share maps
    to None (ambiguous)."""
    table: Table = {}
    for item in items:
        for key in keys:
            name = str(item.get(key) or "").strip().lower()
            if name:
                table[name] = None if table.get(name, item["id"]) != item["id"] else item["id"]
        table[item["id"]] = item["id"]
    return table


def captures(template: Mapping[str, Any], step: Any, path: str) -> list[Any]:
    if step is None:
        return [field for one in steps_of(template) for field in one.get("captures") or []]
    one = lookup(by_name(steps_of(template), "title"), step, path, "step")
    return next(s.get("captures") or [] for s in steps_of(template) if s["id"] == one)


def condition_in(item: Any, template: Mapping[str, Any], path: str) -> Any:
    if not isinstance(item, dict) or "conditionable" not in item:
        return item  # the API says what is missing or wrong
    out = {key: value for key, value in item.items() if key not in ("conditionable", "step")}
    kind = item.get("conditionable_type")
    if kind == "Step":
        table = by_name(steps_of(template), "title")
    elif kind == "Prerun":
        table = by_name(template["prerun"], "label", "alias")
    elif kind == "Capture":
        table = by_name(captures(template, item.get("step"), f"{path}.step"), "label", "alias")
    else:
        return out
    out["conditionable_id"] = lookup(table, item["conditionable"], f"{path}.conditionable", kind)
    return out


def action_in(
    item: Any, template: Mapping[str, Any], users: Table, groups: Table, path: str
) -> Any:
    if not isinstance(item, dict):
        return item
    out = {key: value for key, value in item.items() if key != "target_step"}
    if "target_step" in item:
        steps = by_name(steps_of(template), "title")
        out["target_step_id"] = lookup(steps, item["target_step"], f"{path}.target_step", "step")
    people = item.get("assignees")
    if isinstance(people, dict):
        out["assignees"] = dict(people)
        for key, table, what in (("users", users, "member"), ("groups", groups, "group")):
            names = people.get(key)
            if isinstance(names, list):
                where = f"{path}.assignees.{key}"
                out["assignees"][key] = [
                    lookup(table, name, f"{where}.{n}", what) for n, name in enumerate(names)
                ]
    return out


def rule_in(rule: Any, template: Mapping[str, Any], users: Table, groups: Table, path: str) -> Item:
    """The API's body for `rule`, its names turned into ids."""
    if not isinstance(rule, dict):
        raise ValidationFailed({path: ["A rule is a mapping (conditions, then_actions)."]})
    body = dict(rule)
    if isinstance(rule.get("conditions"), list):
        body["conditions"] = [
            condition_in(item, template, f"{path}.conditions.{n}")
            for n, item in enumerate(rule["conditions"])
        ]
    if isinstance(rule.get("then_actions"), list):
        body["then_actions"] = [
            action_in(item, template, users, groups, f"{path}.then_actions.{n}")
            for n, item in enumerate(rule["then_actions"])
        ]
    return body


def renamed(key: str) -> str:
    """An API error's key as the document names it (`...conditionable_id` → `conditionable`)."""
    head, _, last = key.rpartition(".")
    return f"{head}.{RENAMED[last]}" if last in RENAMED else key


def rule_out(
    rule: Mapping[str, Any],
    template: Mapping[str, Any],
    user_name: Callable[[Any], Any],
    group_name: Callable[[Any], Any],
) -> Item:
    """`rule` as the API shows it, written with names."""
    out: Item = {}
    if rule.get("automated_alias"):
        out["automated_alias"] = rule["automated_alias"]
    logic = str(rule.get("condition_logic") or "AND")
    if logic != "AND":
        out["condition_logic"] = logic
    out["conditions"] = [
        condition_out(item, n, logic, template) for n, item in enumerate(rule["conditions"])
    ]
    out["then_actions"] = [
        action_out(item, n, template, user_name, group_name)
        for n, item in enumerate(rule["then_actions"])
    ]
    return out


def condition_out(item: Mapping[str, Any], index: int, logic: str, template: Any) -> Item:
    kind, target = item["conditionable_type"], item["conditionable_id"]
    out: Item = {"conditionable_type": kind}
    steps = steps_of(template)
    if kind == "Step":
        out["conditionable"] = next((s["title"] for s in steps if s["id"] == target), target)
    elif kind == "Prerun":
        fields = template["prerun"]
        out["conditionable"] = next((f["label"] for f in fields if f["id"] == target), target)
    else:
        for step in steps:
            for field in step.get("captures") or []:
                if field["id"] == target:
                    out["conditionable"] = field["label"]
                    every = by_name(captures(template, None, ""), "label", "alias")
                    if every.get(field["label"].strip().lower()) is None:
                        out["step"] = step["title"]
        out.setdefault("conditionable", target)
    out["operation"] = item["operation"]
    if item.get("statement"):
        out["statement"] = item["statement"]
    if item.get("logic") and item["logic"] != logic.lower():
        out["logic"] = item["logic"]
    if item.get("position") != index + 1:
        out["position"] = item.get("position")
    if item.get("column_contains_name") is not None:
        out["column_contains_name"] = item["column_contains_name"]
    return out


def action_out(
    item: Mapping[str, Any],
    index: int,
    template: Any,
    user_name: Callable[[Any], Any],
    group_name: Callable[[Any], Any],
) -> Item:
    out: Item = {"action_type": item["action_type"], "action_verb": item["action_verb"]}
    target = item.get("target_step_id")
    if target is not None:
        titles = {step["id"]: step["title"] for step in steps_of(template)}
        out["target_step"] = titles.get(target, target)
    people = item.get("assignees")
    if people:
        out["assignees"] = {
            "users": [user_name(user) for user in people.get("users") or []],
            "guests": list(people.get("guests") or []),
            "groups": [group_name(group) for group in people.get("groups") or []],
        }
        out["assignees"] = {key: value for key, value in out["assignees"].items() if value}
    for key in ("deadline", "webhook"):
        if item.get(key) is not None:
            out[key] = item[key]
    if item.get("position") != index + 1:
        out["position"] = item.get("position")
    return out
