"""Automation rules (Tallyfy: automated actions) as clients send and read them.

The body's lists are typed loosely on purpose: the rule is checked item by item by the
service, which names the exact field at fault (`conditions.0.conditionable_id`) in
Tallyfy's 422 shape rather than pydantic's.
"""

from typing import Any

from pydantic import BaseModel, Field

from procflow.api.schemas.base import Input


class AutomationInput(Input):
    """`POST`/`PUT .../automated-actions[/{id}]`: `actions` is accepted for `then_actions`."""

    REQUIRED = ("conditions", "then_actions")

    automated_alias: Any = Field(None, json_schema_extra={"type": "string", "maxLength": 200})
    condition_logic: Any = Field(
        None, json_schema_extra={"type": "string", "enum": ["AND", "OR", "and", "or"]}
    )
    conditions: Any = Field(None, json_schema_extra={"type": "array", "items": {"type": "object"}})
    then_actions: Any = Field(
        None, json_schema_extra={"type": "array", "items": {"type": "object"}}
    )
    actions: Any = Field(None, json_schema_extra={"type": "array", "items": {"type": "object"}})


class AutomationOut(BaseModel):
    id: str
    automated_alias: str
    condition_logic: str
    conditions: list[dict[str, Any]]
    then_actions: list[dict[str, Any]]
    created_at: str | None
    last_updated: str | None
    archived_at: str | None


class AutomationEnvelope(BaseModel):
    data: AutomationOut
