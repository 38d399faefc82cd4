"""A run and its lists as plain, typed values: what the run reader returns.

The names and types are the columns' (a test holds them to the tables), so a row reads
like the ORM object it stands for; `RunRow` is mutable because the run update changes a
snapshot and writes back only what changed.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from procflow.domain.runs import TaskFacts


@dataclass(slots=True)
class RunRow:
    id: str
    org_id: str
    increment_id: int
    checklist_id: str | None
    checklist_title: str | None
    name: str
    summary: str | None
    status: str
    type: str
    owner_id: int
    started_by: int
    parent_id: str | None
    starred: bool
    is_public: bool
    prevent_guest_comment: bool
    prerun_completed_at: datetime | None
    prerun_completed_by: int | None
    created_at: datetime
    started_at: datetime
    last_updated: datetime
    completed_at: datetime | None
    archived_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class TagRow:
    id: str
    title: str
    color: str | None
    auto_generated: bool


@dataclass(frozen=True, slots=True)
class FolderRow:
    id: str
    name: str
    parent_id: str | None


@dataclass(frozen=True, slots=True)
class FieldRow:
    """A run's form field (`RunField`): kick-off when `task_id` is None, else a capture."""

    run_id: str
    field_id: str
    task_id: str | None
    field_type: str
    label: str
    alias: str
    guidance: str | None
    position: int
    required: bool
    options: list[Any]
    columns: list[Any]
    value: Any
    last_updated: datetime


@dataclass(slots=True)
class RunLists:
    """A run's six lists: tags and folders with their link ids, users and groups in
    their order, form fields, and the facts its figures are computed from."""

    tags: list[tuple[int, TagRow]] = field(default_factory=list)
    folders: list[tuple[int, FolderRow]] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    fields: list[FieldRow] = field(default_factory=list)
    facts: list[TaskFacts] = field(default_factory=list)
