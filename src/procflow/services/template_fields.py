"""Form fields of templates: kick-off fields (no step) and captures (on a step).

Also the ground rules every template edit shares: who may read or write, how aliases are
made, how siblings are renumbered, and that a template's `last_updated` moves on each edit.
A field's id is its timeline id, the key run values (`prerun`, `taskdata`) are stored under.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from procflow.domain import permissions
from procflow.domain.form_fields import (
    ALIAS_MAX,
    FieldSpec,
    FieldType,
    FieldValueError,
    normalise_columns,
    normalise_options,
    requested_alias,
    validate_value,
)
from procflow.domain.ids import new_id
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import activity
from procflow.services.unit_of_work import UnitOfWork
from procflow.services.webhook_urls import url_error as url_error
from procflow.storage.models import Checklist, FormField, Step
from procflow.storage.repositories import checklists as repo
from procflow.storage.repositories import locks

Errors = dict[str, list[str]]
# Settings shown as top-level keys of a field, with the value shown when unset.
SETTING_DEFAULTS: dict[str, Any] = {
    "default_value": None,
    "default_value_enabled": False,
    "collect_time": False,
    "use_wysiwyg_editor": False,
    "field_validation": [],
    "prefix": None,
    "suffix": None,
}
FIELD_TYPES = frozenset(t.value for t in FieldType)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def require_manager(caller: Caller) -> None:
    """Light members only read templates."""
    if not permissions.can_manage_catalog(caller):
        raise PermissionDenied("You don't have permission to edit templates.")


def load_checklist(
    uow: UnitOfWork, caller: Caller, checklist_id: str, *, write: bool = False
) -> Checklist:
    """The template, if it is in the caller's organization; writing needs a manager.

    A writer holds the template's row until commit: positions (1..n), aliases and the
    kick-off form are checked and renumbered over all its steps and fields, so two edits
    of one template, from any server process, run one after the other.
    """
    if write:
        require_manager(caller)
    checklist = repo.get(uow.session, caller.org_id, checklist_id)
    if checklist is not None and write:
        checklist = locks.lock_checklist(uow.session, checklist.id)
    if checklist is None:
        raise NotFound("Template")
    return checklist


def load_step(
    uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str, *, write: bool = False
) -> tuple[Checklist, Step]:
    """The template and one of its steps; a step of another template is not found."""
    checklist = load_checklist(uow, caller, checklist_id, write=write)
    step = repo.get_step(uow.session, checklist.id, step_id)
    if step is None:
        raise NotFound("Step")
    return checklist, step


def slug(text: str, fallback: str) -> str:
    """A lowercase, hyphenated alias for `text` (`fallback` when nothing is left)."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")[:48].strip("-") or fallback


def unique_alias(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`, ... whichever is free; the result is marked taken."""
    alias, number = base[:ALIAS_MAX], 1
    while alias in taken:
        number += 1
        suffix = f"-{number}"
        alias = base[: ALIAS_MAX - len(suffix)] + suffix
    taken.add(alias)
    return alias


def arrange(siblings: Sequence[Any], moving: Any | None, position: int | None) -> None:
    """Put `moving` at the 1-based `position` among `siblings` (last when None); renumber."""
    ordered = [item for item in siblings if item is not moving]
    if moving is not None:
        slot = len(ordered) if position is None else min(position, len(ordered) + 1) - 1
        ordered.insert(slot, moving)
    for number, item in enumerate(ordered, start=1):
        if item.position != number:
            item.position = number


def check_field(
    data: Mapping[str, Any], prefix: str, current: FormField | None
) -> tuple[dict[str, Any], Errors]:
    """Validated column values for a new field (full input) or an existing one (partial)."""
    errors: Errors = {}
    values: dict[str, Any] = {}
    if current is None:
        for key, name in (("field_type", "field type"), ("label", "label")):
            if key not in data:
                errors[prefix + key] = [f"The {name} field is required."]
    if "field_type" in data:
        if data["field_type"] in FIELD_TYPES:
            values["field_type"] = data["field_type"]
        else:
            errors[prefix + "field_type"] = [
                f"The field type must be one of {', '.join(sorted(FIELD_TYPES))}."
            ]
    for key in ("label", "guidance", "required"):
        if key in data:
            values[key] = data[key]
    for key, normalise in (("options", normalise_options), ("columns", normalise_columns)):
        if key in data:
            try:
                values[key] = _unique_ids(key, normalise(data[key]))
            except FieldValueError as exc:
                errors[prefix + key] = [str(exc)[:1].upper() + str(exc)[1:]]
    settings = dict(current.settings or {}) if current is not None else {}
    settings.update(data.get("settings") or {})
    settings.update(
        {
            key: data[key]
            for key, unset in SETTING_DEFAULTS.items()
            if key in data and (key in settings or data[key] != unset)
        }
    )
    if current is None or settings != (current.settings or {}):
        values["settings"] = settings
    if not errors:
        errors |= _default_value(values, current, prefix)
    return values, errors


def _unique_ids(key: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Option and column ids are what values point at: whole numbers, each used once."""
    ids = [item["id"] for item in items]
    if any(isinstance(i, bool) for i in ids) or len(ids) != len(set(ids)):
        raise FieldValueError(f"{key} ids must be unique whole numbers.")
    return items


def _default_value(values: dict[str, Any], current: FormField | None, prefix: str) -> Errors:
    """A default must be a value the field itself would accept; it is stored normalised."""
    if not {"field_type", "options", "columns", "settings"} & set(values):
        return {}
    settings = dict(_final(values, current, "settings", {}) or {})
    if settings.get("default_value") is None:
        return {}
    spec = FieldSpec(
        "default_value",
        _final(values, current, "field_type", ""),
        "The default value",
        options=_final(values, current, "options", []) or (),
        columns=_final(values, current, "columns", []) or (),
    )
    try:
        settings["default_value"] = validate_value(spec, settings["default_value"])
    except FieldValueError as exc:
        return {prefix + "default_value": [str(exc)]}
    if current is None or settings != (current.settings or {}):
        values["settings"] = settings
    return {}


def _final(values: Mapping[str, Any], current: FormField | None, key: str, empty: Any) -> Any:
    return values[key] if key in values else getattr(current, key, empty)


def new_alias(data: Mapping[str, Any], prefix: str, taken: set[str]) -> tuple[str, Errors]:
    """The client's alias if it is well-formed and free, else one made from the label."""
    try:
        wanted = requested_alias(data.get("alias") or "")
    except FieldValueError as exc:
        return "", {prefix + "alias": [str(exc)]}
    if wanted is None:
        return unique_alias(slug(str(data.get("label", "")), "field"), taken), {}
    if wanted in taken:
        return "", {prefix + "alias": ["The alias has already been taken."]}
    taken.add(wanted)
    return wanted, {}


@dataclass
class KickoffPlan:
    """A checked kick-off form: what to create, update and delete, or why it is refused."""

    items: list[tuple[int, FormField | None, dict[str, Any]]] = field(default_factory=list)
    aliases: dict[int, str] = field(default_factory=dict)
    doomed: list[FormField] = field(default_factory=list)
    errors: Errors = field(default_factory=dict)


def plan_kickoff(
    uow: UnitOfWork, checklist_id: str, items: Sequence[Mapping[str, Any]]
) -> KickoffPlan:
    """The full list semantics of `prerun[]`: update by id, create without id, drop the rest."""
    existing = {f.id: f for f in repo.kickoff_of(uow.session, checklist_id)}
    plan = KickoffPlan()
    seen: set[str] = set()
    for index, item in enumerate(items):
        prefix = f"prerun.{index}."
        current = None
        if item.get("id") is not None:
            current = existing.get(item["id"])
            if current is None or current.id in seen:
                plan.errors[prefix + "id"] = [
                    "The selected id is not a kick-off field of this template, or is listed twice."
                ]
                continue
            seen.add(current.id)
        values, problems = check_field(item, prefix, current)
        plan.errors |= problems
        plan.items.append((index, current, values))
    plan.doomed = [f for f in existing.values() if f.id not in seen]
    taken = repo.field_aliases(uow.session, checklist_id) - {f.alias for f in plan.doomed}
    for index, current, _values in plan.items:
        if current is None:
            plan.aliases[index], problems = new_alias(items[index], f"prerun.{index}.", taken)
            plan.errors |= problems
    order = {index: items[index].get("position") or index + 1 for index, _c, _v in plan.items}
    plan.items.sort(key=lambda planned: order[planned[0]])
    return plan


def apply_kickoff(uow: UnitOfWork, checklist_id: str, plan: KickoffPlan, now: datetime) -> bool:
    """Carry out a checked plan; returns whether the kick-off form changed."""
    changed = bool(plan.doomed)
    for gone in plan.doomed:
        uow.session.delete(gone)
    ordered: list[FormField] = []
    for index, current, values in plan.items:
        if current is None:
            current = FormField(
                checklist_id=checklist_id,
                step_id=None,
                alias=plan.aliases[index],
                created_at=now,
                last_updated=now,
                **values,
            )
            uow.session.add(current)
            changed = True
        else:
            changed = apply_field(current, values, now) or changed
        ordered.append(current)
    for number, kickoff_field in enumerate(ordered, start=1):
        if kickoff_field.position != number:
            kickoff_field.position, kickoff_field.last_updated, changed = number, now, True
    uow.session.flush()
    return changed


def apply_field(target: FormField, values: Mapping[str, Any], now: datetime) -> bool:
    """Set checked values; `last_updated` moves only when something really changed."""
    changed = False
    for key, value in values.items():
        if getattr(target, key) != value:
            setattr(target, key, value)
            changed = True
    if changed:
        target.last_updated = now
    return changed


def copy_field(
    original: FormField, checklist_id: str, step_id: str | None, alias: str, now: datetime
) -> FormField:
    """A new field like `original` (new id) on the given template and step."""
    return FormField(
        id=new_id(),
        checklist_id=checklist_id,
        step_id=step_id,
        alias=alias,
        field_type=original.field_type,
        label=original.label,
        guidance=original.guidance,
        position=original.position,
        required=original.required,
        options=list(original.options or []),
        columns=list(original.columns or []),
        settings=dict(original.settings or {}),
        created_at=now,
        last_updated=now,
    )


def create_capture(
    uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str, data: Mapping[str, Any]
) -> FormField:
    """A new capture, appended after the step's others.

    Like api-v2 for steps, `position` is not honoured on create: Tallyfy's SDK sends
    `position: 1` with every new field, which would otherwise list them newest first.
    """
    checklist, step = load_step(uow, caller, checklist_id, step_id, write=True)
    values, errors = check_field(data, "", None)
    alias, problems = new_alias(data, "", repo.field_aliases(uow.session, checklist.id))
    errors |= problems
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    capture = FormField(
        checklist_id=checklist.id,
        step_id=step.id,
        alias=alias,
        created_at=now,
        last_updated=now,
        **values,
    )
    siblings = repo.captures_of(uow.session, [step.id])[step.id]
    uow.session.add(capture)
    arrange(siblings, capture, None)
    bump(checklist, now=now)
    uow.session.flush()
    activity.record(uow, caller, "created", "capture", capture.id, new=capture.label)
    return capture


def update_capture(
    uow: UnitOfWork,
    caller: Caller,
    checklist_id: str,
    step_id: str,
    capture_id: str,
    patch: Mapping[str, Any],
) -> FormField:
    """Partial update; id, alias, step and timestamps in the body are ignored."""
    checklist, capture = _load_capture(uow, caller, checklist_id, step_id, capture_id)
    values, errors = check_field(patch, "", capture)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    before = activity.snapshot(capture, [*values, *(["position"] if "position" in patch else [])])
    apply_field(capture, values, now)
    if "position" in patch and patch["position"] != capture.position:
        siblings = repo.captures_of(uow.session, [step_id])[step_id]
        arrange(siblings, capture, patch["position"])
    changes = activity.changes_of(before, capture)
    if changes:
        capture.last_updated = now
        bump(checklist, now=now)
        activity.record_changes(uow, caller, "capture", capture.id, changes)
        uow.session.flush()
    return capture


def reorder_capture(
    uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str, capture_id: str, position: int
) -> FormField:
    """Move one capture within its step; the others close up around it."""
    checklist, capture = _load_capture(uow, caller, checklist_id, step_id, capture_id)
    if capture.position != position:
        now = utcnow()
        old = capture.position
        arrange(repo.captures_of(uow.session, [step_id])[step_id], capture, position)
        activity.record_changes(
            uow,
            caller,
            "capture",
            capture.id,
            [("position", old, capture.position)],
            verb="re-ordered",
        )
        capture.last_updated = now
        bump(checklist, now=now)
        uow.session.flush()
    return capture


def move_capture(
    uow: UnitOfWork,
    caller: Caller,
    checklist_id: str,
    step_id: str,
    capture_id: str,
    target_step_id: str,
    position: int | None,
) -> FormField:
    """Move a capture to another step of the same template (last, or at `position`)."""
    checklist, capture = _load_capture(uow, caller, checklist_id, step_id, capture_id)
    target = repo.get_step(uow.session, checklist.id, target_step_id)
    if target is None:
        raise ValidationFailed.one("target_step_id", "The selected target step is invalid.")
    now = utcnow()
    lists = repo.captures_of(uow.session, [step_id, target.id])
    arrange([c for c in lists[step_id] if c is not capture], None, None)
    activity.record_changes(uow, caller, "capture", capture.id, [("step_id", step_id, target.id)])
    capture.step_id = target.id
    arrange(lists[target.id], capture, position)
    capture.last_updated = now
    bump(checklist, now=now)
    uow.session.flush()
    return capture


def delete_capture(
    uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str, capture_id: str
) -> None:
    """Remove a capture from the template; runs already launched keep their copy."""
    checklist, capture = _load_capture(uow, caller, checklist_id, step_id, capture_id)
    siblings = repo.captures_of(uow.session, [step_id])[step_id]
    activity.record(uow, caller, "deleted", "capture", capture.id, old=capture.label)
    uow.session.delete(capture)
    arrange([c for c in siblings if c is not capture], None, None)
    bump(checklist, now=utcnow())
    uow.session.flush()


def _load_capture(
    uow: UnitOfWork, caller: Caller, checklist_id: str, step_id: str, capture_id: str
) -> tuple[Checklist, FormField]:
    checklist, step = load_step(uow, caller, checklist_id, step_id, write=True)
    capture = repo.get_capture(uow.session, step.id, capture_id)
    if capture is None:
        raise NotFound("Form field")
    return checklist, capture
