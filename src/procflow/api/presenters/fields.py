"""A form field of a run or task, with its value, as Tallyfy's clients read it."""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.records import FieldRow, RunField


def field_json(field: RunField | FieldRow) -> dict[str, Any]:
    return {
        "id": field.field_id,
        "timeline_id": field.field_id,
        "task_id": field.task_id,
        "label": field.label,
        "alias": field.alias,
        "field_type": field.field_type,
        "guidance": field.guidance,
        "position": field.position,
        "required": field.required,
        "options": field.options or [],
        "columns": field.columns or [],
        "value": field.value,
        "last_updated": format_ts(field.last_updated),
    }
