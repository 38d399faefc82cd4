"""Automation rules (Tallyfy: automated actions) as clients send and read them.

The document states every rule of the shape that does not depend on stored state or on
another key: the service then checks that ids name this template's steps and fields, that
an operation fits its condition's type, a verb its action's type, and that an action has
what its type needs (`assignees`, `deadline`, `webhook`), naming the field at fault.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from procflow.api.schemas.base import EMAIL_PATTERN, HexId, Input, Output, UserId, documented
from procflow.domain import automations as engine
from procflow.domain.automation_rules import ALIAS_MAX, ITEMS_MAX, STATEMENT_MAX
from procflow.domain.deadlines import UNITS

Logic = Literal["and", "or", "AND", "OR"]
Email = Annotated[str, Field(max_length=254), documented(pattern=EMAIL_PATTERN)]
Position = Annotated[int, Field(ge=0, le=10_000)]


class ConditionIn(Input):
    id: HexId | None = None
    conditionable_type: Literal["Step", "Capture", "Prerun"]
    conditionable_id: HexId
    operation: Literal[(*engine.STEP_OPERATIONS, *engine.FIELD_OPERATIONS)]  # type: ignore[valid-type]  # a Literal built from the engine's own tuples
    statement: Annotated[str, Field(max_length=STATEMENT_MAX)] | None = None
    logic: Logic | None = None
    position: Position | None = None
    column_contains_name: Annotated[str, Field(max_length=600)] | None = None


class PeopleIn(Input):
    users: Annotated[list[UserId], Field(max_length=100)] = []
    guests: Annotated[list[Email], Field(max_length=100)] = []
    groups: Annotated[list[HexId], Field(max_length=100)] = []


class DeadlineIn(Input):
    value: Annotated[int, Field(ge=-10_000, le=10_000)]
    unit: Literal[UNITS] = "days"  # type: ignore[valid-type]  # the units deadlines know


class ActionIn(Input):
    id: HexId | None = None
    action_type: Literal[tuple(engine.VERBS)]  # type: ignore[valid-type]  # the engine's types
    action_verb: Literal[tuple(v for vs in engine.VERBS.values() for v in vs)]  # type: ignore[valid-type]  # every verb
    target_step_id: HexId | None = None
    position: Position | None = None
    assignees: PeopleIn | None = None
    deadline: DeadlineIn | None = None
    webhook: Annotated[str, Field(max_length=2048)] | None = None


class AutomationInput(Input):
    """`POST .../automated-actions` and `PUT .../automated-actions/{id}` (a PUT replaces
    the rule: api-v2 wants its conditions and actions again, as the SDK sends them)."""

    automated_alias: Annotated[str, Field(max_length=ALIAS_MAX)] | None = None
    condition_logic: Logic | None = None
    conditions: Annotated[list[ConditionIn], Field(min_length=1, max_length=ITEMS_MAX)]
    then_actions: Annotated[list[ActionIn], Field(min_length=1, max_length=ITEMS_MAX)]

    def as_body(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class AutomationOut(Output):
    id: str
    automated_alias: str
    condition_logic: str
    conditions: list[dict[str, Any]]
    then_actions: list[dict[str, Any]]
    created_at: str | None
    last_updated: str | None
    archived_at: str | None


class AutomationEnvelope(Output):
    data: AutomationOut
