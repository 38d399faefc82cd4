"""Form values on a run: kick-off values (`prerun`) and task form values (`taskdata`)."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from procflow.domain.form_fields import FieldSpec, validate_values
from procflow.domain.runs import DONE
from procflow.services import file_values
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import RunField, Task
from procflow.storage.repositories.run_rows import FieldRow


def spec_of(field: RunField | FieldRow) -> FieldSpec:
    return FieldSpec(
        field.field_id,
        field.field_type,
        field.label,
        field.required,
        field.options or (),
        field.columns or (),
    )


def check(
    fields: Iterable[RunField], values: Mapping[str, Any], prefix: str, strict: bool
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate values for `fields`; unknown ids are dropped, or refused when strict."""
    specs = {f.field_id: spec_of(f) for f in fields}
    accepted, errors, unknown = validate_values(specs, values, prefix)
    if strict:
        for key in unknown:
            errors[f"{prefix}.{key}"] = ["No such form field on this process."]
    return accepted, errors


def resolve_files(
    uow: UnitOfWork,
    run: Any,
    fields: Iterable[RunField],
    accepted: dict[str, Any],
    subjects: Iterable[file_values.Subject],
    prefix: str,
) -> dict[str, list[str]]:
    """Check accepted file values against the stored files, store them in Tallyfy's shape
    and attach them to the run (see `services.file_values`)."""
    specs = {f.field_id: spec_of(f) for f in fields}
    held, errors = file_values.resolve(
        uow, run.org_id, specs, accepted, prefix, subjects, run_id=run.id
    )
    if not errors:
        file_values.attach(held, run.id)
    return errors


def locked_task_errors(
    fields: Mapping[str, RunField], tasks: Mapping[str, Task], values: Mapping[str, Any]
) -> dict[str, list[str]]:
    """Values aimed at fields of completed tasks: those tasks cannot be edited."""
    errors: dict[str, list[str]] = {}
    for key in values:
        field = fields.get(key)
        task = tasks.get(field.task_id) if field and field.task_id else None
        if task is not None and task.status in DONE:
            errors[f"taskdata.{key}"] = [
                "The task of this field is completed and cannot be edited."
            ]
    return errors


def apply(
    fields: Mapping[str, RunField], values: Mapping[str, Any], now: datetime
) -> list[tuple[str, Any, Any]]:
    """Store accepted values; returns (field id, old, new) for each value that changed."""
    changes: list[tuple[str, Any, Any]] = []
    for key, new in values.items():
        field = fields[key]
        if field.value != new:
            changes.append((key, field.value, new))
            field.value = new
            field.last_updated = now
    return changes
