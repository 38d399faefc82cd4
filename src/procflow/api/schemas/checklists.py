"""Bodies of the template, step and form-field endpoints, and the documented shapes."""

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator

from procflow.api.schemas.base import (
    EMAIL_PATTERN,
    NOT_BLANK,
    HexId,
    Input,
    Output,
    UserId,
    documented,
    refuse_null,
)
from procflow.domain.deadlines import UNITS
from procflow.domain.form_fields import ALIAS_MAX, ALIAS_PATTERN, FieldType, requested_alias

Text = Annotated[str, Field(max_length=30_000)]
# Empty means "none"; leading spaces and control characters are dropped, as urlsplit does.
Url = Annotated[
    str, Field(max_length=2048), documented(pattern=r"^([\x00-\x20]*(?i:https?)://[^/?#]|$)")
]
UserList = Annotated[list[UserId], Field(max_length=100), documented(uniqueItems=True)]
IdList = Annotated[list[HexId], Field(max_length=100)]
EmailList = Annotated[
    list[Annotated[str, Field(max_length=254), documented(pattern=EMAIL_PATTERN)]],
    Field(max_length=100),
    documented(uniqueItems=True),
]
Rule = Annotated[
    dict[str, Any],
    Field(max_length=10),
    documented(
        properties={
            "value": {"type": "integer", "minimum": 0, "maximum": 10_000},
            "unit": {"enum": list(UNITS)},
        },
        required=["value"],
    ),
]
Alias = Annotated[str, Field(max_length=ALIAS_MAX), documented(pattern=ALIAS_PATTERN)]
FieldTypeName = Annotated[str, Field(max_length=32), documented(enum=sorted(FieldType))]
TemplateType = Literal["procedure", "form", "document"]
StepType = Literal["task", "approval", "expiring", "email", "expiring_email"]
Position = Annotated[int, Field(ge=1, le=100_000)]
OPTION = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string"}, "id": {"type": ["integer", "null"]}},
        },
    ]
}
COLUMN = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "required": ["label"],
            "properties": {"label": {"type": "string"}, "id": {"type": "integer"}},
        },
    ]
}


def _required_text(value: str, name: str) -> str:
    """Titles and labels are stored trimmed and may not be blank."""
    text = value.strip()
    if not text:
        raise ValueError(f"The {name} field is required.")
    return text


class FieldInput(Input):
    """A kick-off field or a capture. Server-owned keys a client echoes back are ignored."""

    id: HexId | None = None
    field_type: FieldTypeName | None = None
    label: Annotated[str, Field(max_length=600), documented(pattern=NOT_BLANK)] | None = None
    alias: Alias | None = None
    guidance: Text | None = None
    position: Position | None = None
    required: bool | None = None
    options: Annotated[list[Any], Field(max_length=500), documented(items=OPTION)] | None = None
    columns: Annotated[list[Any], Field(max_length=100), documented(items=COLUMN)] | None = None
    settings: Annotated[dict[str, Any], Field(max_length=100)] | None = None
    default_value: Any = None
    default_value_enabled: bool | None = None
    collect_time: bool | None = None
    use_wysiwyg_editor: bool | None = None
    field_validation: Annotated[list[Any], Field(max_length=50)] | None = None
    prefix: Annotated[str, Field(max_length=100)] | None = None
    suffix: Annotated[str, Field(max_length=100)] | None = None

    @field_validator(
        "field_type",
        "label",
        "position",
        "required",
        "default_value_enabled",
        "collect_time",
        "use_wysiwyg_editor",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any, info: Any) -> Any:
        return refuse_null(value, info.field_name)

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        return None if value is None else _required_text(value, "label")

    @field_validator("alias")
    @classmethod
    def _alias(cls, value: str | None) -> str | None:
        """Also where the alias is then ignored (a stored field keeps its own)."""
        if value is not None:
            requested_alias(value)
        return value


class KickoffField(FieldInput):
    """An item of a template's `prerun`: a stored field named by `id`, or a new one, which
    needs a `field_type` and a `label` (an unknown `id` is refused by the service)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["id"], "properties": {"id": {"type": "string"}}},
                {"required": ["field_type", "label"]},
            ]
        }
    )


class NewKickoffField(KickoffField):
    """An item of a new template's `prerun`: always a new field (an `id` is ignored), so it
    needs a `field_type` and a `label` (the service words the error)."""

    model_config = ConfigDict(json_schema_extra={"required": ["field_type", "label"]})


class CaptureCreate(FieldInput):
    """`POST .../captures`: field_type and label are required."""

    field_type: FieldTypeName
    label: Annotated[str, Field(max_length=600), documented(pattern=NOT_BLANK)]


class CaptureReorder(Input):
    """`PUT .../captures`: move one capture to a position within its step."""

    capture_id: HexId
    position: Position


class CaptureMove(Input):
    """`PUT .../captures/{id}/move-out`: move a capture to another step of the template."""

    target_step_id: HexId
    position: Position | None = None


CHECKLIST_NON_NULL = (
    "title",
    "type",
    "owner_id",
    "is_public",
    "is_public_kickoff",
    "starred",
    "auto_naming",
    "users",
    "groups",
    "prerun",
)


class ChecklistUpdate(Input):
    """`PUT /checklists/{id}`: keys present change; `prerun`, `users`, `groups` replace."""

    title: Annotated[str, Field(max_length=250), documented(pattern=NOT_BLANK)] | None = None
    type: TemplateType | None = None
    summary: Annotated[str, Field(max_length=2000)] | None = None
    guidance: Text | None = None
    webhook: Url | None = None
    owner_id: UserId | None = None
    folder_id: HexId | None = None
    kickoff_title: Annotated[str, Field(max_length=250)] | None = None
    kickoff_description: Text | None = None
    is_public: bool | None = None
    is_public_kickoff: bool | None = None
    starred: bool | None = None
    auto_naming: bool | None = None
    default_process_name_format: Annotated[str, Field(max_length=550)] | None = None
    users: UserList | None = None
    groups: IdList | None = None
    prerun: Annotated[Sequence[KickoffField], Field(max_length=200)] | None = None

    @field_validator(*CHECKLIST_NON_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: Any) -> Any:
        return refuse_null(value, info.field_name)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return None if value is None else _required_text(value, "title")

    def present(self) -> dict[str, Any]:
        """The keys sent, with each kick-off field reduced to the keys sent for it."""
        sent = super().present()
        if self.prerun is not None:
            sent["prerun"] = [item.present() for item in self.prerun]
        return sent


class ChecklistCreate(ChecklistUpdate):
    """`POST /checklists`: title is required, everything else has a default."""

    title: Annotated[str, Field(max_length=250), documented(pattern=NOT_BLANK)]
    prerun: Annotated[Sequence[NewKickoffField], Field(max_length=200)] | None = None


class ChecklistClone(Input):
    """`POST /checklists/{id}/clone`, sent as a form or as JSON: the copy's title and org."""

    title: Annotated[str, Field(max_length=250)] | None = None
    tenant: HexId | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return (value or "").strip() or None


STEP_FLAGS = (
    "prevent_guest_comment",
    "skip_start_process",
    "can_complete_only_assignees",
    "everyone_must_complete",
    "allow_guest_owners",
    "is_soft_start_date",
    "role_changes_every_time",
    "top_secret",
    "send_chromeless",
)
STEP_NON_NULL = (
    "title",
    "step_type",
    "position",
    "assignees",
    "guests",
    "groups",
    "max_assignable",
    "assign_run_starter",
    *STEP_FLAGS,
)


class StepUpdate(Input):
    """`PUT .../steps/{id}`: keys present change; owner lists replace."""

    title: Annotated[str, Field(max_length=600), documented(pattern=NOT_BLANK)] | None = None
    summary: Text | None = None
    step_type: StepType | None = None
    position: Position | None = None
    assignees: UserList | None = None
    guests: EmailList | None = None
    groups: IdList | None = None
    deadline: Rule | None = None
    start_date: Rule | None = None
    webhook: Url | None = None
    max_assignable: Annotated[int, Field(ge=0, le=10_000)] | None = None
    assign_run_starter: bool | None = None
    prevent_guest_comment: bool | None = None
    skip_start_process: bool | None = None
    can_complete_only_assignees: bool | None = None
    everyone_must_complete: bool | None = None
    allow_guest_owners: bool | None = None
    is_soft_start_date: bool | None = None
    role_changes_every_time: bool | None = None
    top_secret: bool | None = None
    send_chromeless: bool | None = None

    @field_validator(*STEP_NON_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: Any) -> Any:
        return refuse_null(value, info.field_name)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return None if value is None else _required_text(value, "title")


class StepCreate(StepUpdate):
    """`POST .../steps`: title is required; the step is appended after the last one."""

    title: Annotated[str, Field(max_length=600), documented(pattern=NOT_BLANK)]


class StepReorder(Input):
    position: Position


class FieldOut(Output):
    """A kick-off field or capture; `id` is the timeline id that run values are keyed by."""

    model_config = ConfigDict(extra="allow")

    id: str
    timeline_id: str
    checklist_id: str
    step_id: str | None
    field_type: str
    label: str
    alias: str
    guidance: str | None
    position: int
    required: bool
    options: list[dict[str, Any]]
    columns: list[dict[str, Any]]
    settings: dict[str, Any]
    default_value: Any
    created_at: str
    last_updated: str


class StepOut(Output):
    """A template step; `captures` is a plain list, `deadline`/`start_date` objects or null."""

    model_config = ConfigDict(extra="allow")

    id: str
    checklist_id: str
    title: str
    alias: str
    summary: str | None
    step_type: str
    position: int
    deadline: dict[str, Any] | None
    start_date: dict[str, Any] | None
    assignees: list[int]
    guests: list[str]
    groups: list[str]
    captures: list[FieldOut]
    assign_run_starter: bool
    max_assignable: int
    webhook: str | None
    created_at: str
    last_updated: str
    archived_at: str | None


class ChecklistOut(Output):
    """A template. Abbreviated here; every response carries the full field set."""

    model_config = ConfigDict(extra="allow")

    id: str
    increment_id: int
    title: str
    summary: str | None
    type: str
    folder_id: str | None
    owner_id: int | None
    prerun: list[FieldOut]
    automated_actions: list[Any]
    steps_count: int
    started_processes: int
    users: list[int]
    groups: list[str]
    created_at: str
    last_updated: str
    archived_at: str | None
    steps: dict[str, list[StepOut]] | None = None
    tags: dict[str, list[dict[str, Any]]] | None = None
    folder: dict[str, Any] | None = None


class ChecklistEnvelope(Output):
    data: ChecklistOut


class ChecklistList(Output):
    data: list[ChecklistOut]
    meta: dict[str, Any]


class ArchiveResult(Output):
    message: str
    deleted_references: list[Any]
    data: ChecklistOut


class FormFieldsOut(Output):
    id: str
    title: str
    form_fields: list[FieldOut]
    ko_form_fields: list[FieldOut]


class FormFieldsEnvelope(Output):
    data: FormFieldsOut


class StepEnvelope(Output):
    data: StepOut


class StepList(Output):
    data: list[StepOut]
    meta: dict[str, Any]


class FieldEnvelope(Output):
    data: FieldOut
