"""Bodies of the e-mail preference endpoints (a procflow extension, docs/email.md)."""

from pydantic import field_validator

from procflow.api.schemas.base import Input, Output


class EmailPreferences(Input):
    """Each kind of e-mail on (`true`) or off (`false`); only the keys sent change."""

    NOT_NULL = ("task_assigned", "task_due_soon", "task_overdue", "comment_mention")

    task_assigned: bool | None = None
    task_due_soon: bool | None = None
    task_overdue: bool | None = None
    comment_mention: bool | None = None

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        if value is None:
            raise ValueError("Input should be a valid boolean")
        return value


class EmailPreferencesOut(Output):
    task_assigned: bool
    task_due_soon: bool
    task_overdue: bool
    comment_mention: bool


class EmailPreferencesEnvelope(Output):
    data: EmailPreferencesOut
