"""`POST /checklists` with `steps`: a whole template, as `GET ?with=steps` shows it.

Tallyfy's CLI exports a template with `GET /checklists/{id}?with=steps,automated_actions`,
strips a few server-managed keys and posts the rest back. Every other key the export
carries is either accepted here or ignored, as for any body.
"""

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field, field_validator

from procflow.api.schemas.automations import AutomationInput
from procflow.api.schemas.base import HexId
from procflow.api.schemas.checklists import CaptureCreate, ChecklistCreate, StepCreate
from procflow.domain.automation_rules import MAX_RULES


def unwrapped(value: Any) -> Any:
    """A list sent as Tallyfy wraps includes, `{"data": [...]}`, is that list."""
    if isinstance(value, dict) and set(value) == {"data"}:
        return value["data"]
    return value


class StepImport(StepCreate):
    """A step of a new template; its `id` only re-points deadlines that count from it."""

    id: HexId | None = None
    captures: Annotated[Sequence[CaptureCreate], Field(max_length=200)] | None = None

    def present(self) -> dict[str, Any]:
        sent = super().present()
        if self.captures is not None:
            sent["captures"] = [capture.present() for capture in self.captures]
        return sent


class ChecklistImport(ChecklistCreate):
    """`POST /checklists`: title is required, everything else has a default. `steps` (a
    list, or `{"data": [...]}`) creates the steps and their captures, and
    `automated_actions` the rules (naming the document's step and field ids), in the same
    transaction as the template."""

    steps: Annotated[Sequence[StepImport], Field(max_length=500)] | None = None
    automated_actions: Annotated[Sequence[AutomationInput], Field(max_length=MAX_RULES)] | None = (
        None
    )

    @field_validator("steps", "automated_actions", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> Any:
        return unwrapped(value)

    def present(self) -> dict[str, Any]:
        sent = super().present()
        if self.steps is not None:
            sent["steps"] = [step.present() for step in self.steps]
        if self.automated_actions is not None:
            sent["automated_actions"] = [rule.as_body() for rule in self.automated_actions]
        return sent
