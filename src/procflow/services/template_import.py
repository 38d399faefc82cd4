"""A template's steps, with their form fields, deadlines and assignees, created with it.

This is how a template exported as `GET /checklists/{id}?with=steps` (Tallyfy's CLI
`blueprint export`) is created again by `POST /checklists` (`blueprint import`): the
steps keep their order, and a deadline counted from another step of the export counts
from that step's new copy. Everything is checked with the same rules as the step and
form-field endpoints, inside the template's own transaction: one refused step or field
refuses the whole template, and nothing is stored.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from procflow.domain.ids import new_id
from procflow.errors import ValidationFailed
from procflow.services import steps as step_rules
from procflow.services import template_fields as base
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, FormField, Step
from procflow.storage.repositories import checklists as repo

Errors = dict[str, list[str]]
RULES = ("deadline", "start_date")


def _prefixed(errors: Errors, prefix: str) -> Errors:
    return {prefix + key: messages for key, messages in errors.items()}


def add_steps(
    uow: UnitOfWork, checklist: Checklist, items: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, str]:
    """Create `items` as the steps of a new template, or refuse them all; returns the new
    steps' and captures' ids by the ids the document gave them (rules name those)."""
    ordered = sorted(
        enumerate(items), key=lambda pair: (pair[1].get("position") or pair[0] + 1, pair[0])
    )
    new_ids = {item["id"]: new_id() for _index, item in ordered if isinstance(item.get("id"), str)}
    errors: Errors = _repeated_ids(items)
    planned: list[tuple[int, Step, Mapping[str, Any]]] = []
    taken: set[str] = set()
    for position, (index, item) in enumerate(ordered, start=1):
        plain = {key: value for key, value in item.items() if key not in RULES}
        values, problems = step_rules.check_values(uow, checklist, None, plain)
        errors |= _prefixed(problems, f"steps.{index}.")
        step = Step(
            id=new_ids.get(item.get("id") or "", new_id()),
            checklist_id=checklist.id,
            alias=base.unique_alias(base.slug(str(item.get("title", "")), "step"), taken),
            position=position,
            created_at=now,
            last_updated=now,
        )
        step_rules.apply_values(step, values)
        planned.append((index, step, item))
    if errors:
        raise ValidationFailed(errors)
    uow.session.add_all(step for _index, step, _item in planned)
    uow.session.flush()
    aliases = repo.field_aliases(uow.session, checklist.id)
    ids = dict(new_ids)
    for index, step, item in planned:
        errors |= _rules(uow, checklist, step, item, new_ids, f"steps.{index}.")
        captures = item.get("captures") or []
        errors |= _captures(uow, checklist, step, captures, aliases, (index, ids), now)
    if errors:
        raise ValidationFailed(errors)
    uow.session.flush()
    return ids


def _repeated_ids(items: Sequence[Mapping[str, Any]]) -> Errors:
    """Step ids name steps for deadlines to count from: each may appear once."""
    seen: set[str] = set()
    errors: Errors = {}
    for index, item in enumerate(items):
        step_id = item.get("id")
        if isinstance(step_id, str):
            if step_id in seen:
                errors[f"steps.{index}.id"] = ["The step id is listed twice."]
            seen.add(step_id)
    return errors


def _rules(
    uow: UnitOfWork,
    checklist: Checklist,
    step: Step,
    item: Mapping[str, Any],
    new_ids: Mapping[str, str],
    prefix: str,
) -> Errors:
    errors: Errors = {}
    for key in RULES:
        rule = item.get(key)
        if rule is None:
            continue
        anchor = rule.get("step")
        if isinstance(anchor, str) and anchor in new_ids:
            rule = {**rule, "step": new_ids[anchor]}
        value, problems = step_rules.checked_rule(uow, checklist, step, key, rule)
        errors |= _prefixed(problems, prefix)
        if not problems:
            setattr(step, key, value)
    return errors


def _captures(
    uow: UnitOfWork,
    checklist: Checklist,
    step: Step,
    captures: Sequence[Mapping[str, Any]],
    aliases: set[str],
    where: tuple[int, dict[str, str]],
    now: datetime,
) -> Errors:
    """`where`: the step's index in the document, and the ids map that new captures join."""
    index, ids = where
    errors: Errors = {}
    ordered = sorted(
        enumerate(captures), key=lambda pair: (pair[1].get("position") or pair[0] + 1, pair[0])
    )
    for position, (number, data) in enumerate(ordered, start=1):
        prefix = f"steps.{index}.captures.{number}."
        values, problems = base.check_field(data, prefix, None)
        alias, alias_problems = base.new_alias(data, prefix, aliases)
        errors |= problems | alias_problems
        if problems or alias_problems:
            continue
        field_id = new_id()
        if isinstance(data.get("id"), str):
            ids[data["id"]] = field_id
        uow.session.add(
            FormField(
                id=field_id,
                checklist_id=checklist.id,
                step_id=step.id,
                alias=alias,
                position=position,
                created_at=now,
                last_updated=now,
                **values,
            )
        )
    return errors
