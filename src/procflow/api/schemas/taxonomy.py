"""Bodies of the tag and folder endpoints, and the documented shapes of both."""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from procflow.api.schemas.base import NOT_BLANK, HexId, Input, Meta, Output, documented, refuse_null
from procflow.domain.ids import int_id

Position = Annotated[int, Field(ge=0, le=1_000_000)]
FolderName = Annotated[str, documented(pattern=NOT_BLANK, maxLength=250)]
TAG_SUBJECTS = {"checklist": "Checklist", "run": "Run"}
FOLDER_SUBJECTS = {"run": "Run", "task": "Task"}


def canonical(value: Any, known: dict[str, str]) -> Any:
    """Subject types compare without regard to case: `run` and `Run` are the same."""
    if isinstance(value, str) and value.lower() in known:
        return known[value.lower()]
    raise ValueError(f"The subject type must be one of {', '.join(known.values())}.")


def link_id(raw: str) -> int:
    """An association id from a path; anything but a plain number matches nothing (0)."""
    return int_id(raw) or 0


class TagCreate(Input):
    """`POST /tags`: `title` is trimmed, 1..30 characters, unique in the organization
    ignoring case; `color` is `#rrggbb`."""

    title: Annotated[str, documented(pattern=NOT_BLANK, maxLength=30)]
    color: Annotated[str, documented(pattern="^#[0-9a-fA-F]{6}$")] | None = None


class TagUpdate(TagCreate):
    """`PUT /tags/{id}`: `title` is required every time; `color` changes only if sent."""


class TagAttach(Input):
    """`POST /checklists/tags`: put a tag on a template (`Checklist`) or a process (`Run`)."""

    subject_id: HexId
    subject_type: Annotated[str, documented(pattern="^(?i:checklist|run)$")]
    tag_id: HexId
    tag_type: Literal["private", "public"]

    @field_validator("subject_type", mode="before")
    @classmethod
    def _subject(cls, value: Any) -> Any:
        return canonical(value, TAG_SUBJECTS)


class FolderCreate(Input):
    """`POST /folders`: `folder_type` defaults to the parent's, else `checklist`."""

    name: FolderName
    parent_id: HexId | None = None
    folder_type: Annotated[str, documented(enum=["checklist", "run"])] | None = None
    position: Position | None = None


class FolderUpdate(Input):
    """`PUT /folders/{id}`: `name` is required; `parent_id: null` moves to the top level."""

    name: FolderName
    parent_id: HexId | None = None
    position: Position | None = None

    @field_validator("position", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: Any) -> Any:
        return refuse_null(value, info.field_name)


class FolderObject(Input):
    """`POST /folders/add-object`: file a process (`Run`) or a task (`Task`)."""

    folder_id: HexId
    subject_id: HexId
    subject_type: Annotated[str, documented(pattern="^(?i:run|task)$")]

    @field_validator("subject_type", mode="before")
    @classmethod
    def _subject(cls, value: Any) -> Any:
        return canonical(value, FOLDER_SUBJECTS)


class Statistics(Output):
    active_template: int
    archived_template: int
    active_process: int
    archived_process: int


class StatisticsInclude(Output):
    data: Statistics


class TagOut(Output):
    """A tag. `statistics` is present with `?with=statistics`."""

    id: str
    title: str
    color: str | None
    auto_generated: bool
    created_at: str
    deleted_at: str | None
    statistics: StatisticsInclude | None = None


class TagEnvelope(Output):
    data: TagOut


class TagList(Output):
    data: list[TagOut]
    meta: Meta


class TagLinkOut(Output):
    """One tag on one template or process; `id` is the association id detach takes."""

    id: int
    tag_id: str
    subject_id: str
    subject_type: Literal["Checklist", "Run"]
    tag_type: str
    title: str
    color: str | None
    auto_generated: bool
    created_at: str


class TagLinkEnvelope(Output):
    data: TagLinkOut


class FolderOut(Output):
    """A folder. `parent` is the parent's name; `total` counts the active templates,
    processes and tasks filed directly in it; `children` is present with `?with=children`."""

    id: str
    name: str
    parent_id: str | None
    parent: str | None
    total: int
    position: int
    folder_type: str
    created_at: str
    last_updated: str
    children: "FolderChildren | None" = None


class FolderChildren(Output):
    data: list[FolderOut]


class FolderEnvelope(Output):
    data: FolderOut


class FolderList(Output):
    data: list[FolderOut]
    meta: Meta


class FolderLinkOut(Output):
    """One process or task in one folder; `id` is the relation id removal takes."""

    id: int
    folder_id: str
    subject_id: str
    subject_type: Literal["Run", "Task"]
    created_at: str


class FolderLinkEnvelope(Output):
    data: FolderLinkOut
