"""A task as the task endpoints answer it: the task, and what `?with=` embeds."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from procflow.api.presenters.fields import field_json
from procflow.api.presenters.runs import run_json
from procflow.api.presenters.tasks import step_json, task_json
from procflow.services.tasks import TaskView

EMPTY_INCLUDES = ("assets", "tags", "roles", "member_watchers", "guest_watchers")
"""Includes of things procflow does not hold for a task (files, task tags, roles,
watchers): each is present, as an empty collection, when asked for."""


def wants(includes: Collection[str], name: str) -> bool:
    """`name` asked for, alone or as the head of a nested include (`run.checklist`)."""
    return name in includes or any(i.startswith(name + ".") for i in includes)


def task_view_json(view: TaskView, includes: Collection[str], now: datetime) -> dict[str, Any]:
    """A task as the task endpoints answer it, with `?with=form_fields,run,step,...`."""
    run = view.run
    data = task_json(
        view.task,
        view.owners,
        now,
        fields=view.fields,
        checklist_id=run.checklist_id if run is not None else None,
    )
    if run is not None:
        data["run_status"] = "archived" if run.archived_at else "active"
    if not includes:
        return data
    if "form_fields" in includes:
        data["form_fields"] = {"data": [field_json(f) for f in view.fields]}
    if "step" in includes:
        data["step"] = {"data": None if view.step is None else step_json(view.step)}
    if wants(includes, "run"):
        nested = ("checklist",) if "run.checklist" in includes else ()
        data["run"] = {"data": None if view.bundle is None else run_json(view.bundle, nested, now)}
    for name in EMPTY_INCLUDES:
        if wants(includes, name):
            data[name] = {"data": []}
    return data
