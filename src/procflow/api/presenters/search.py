"""Search results as Tallyfy's clients read them: one `{data, meta}` page per kind.

Each item is the object as its own endpoint shows it (a superset of the fields the SDK's
`SearchResult` reads), with `folders` as a list of folder objects and, for steps and form
fields, the template they belong to.
"""

from datetime import datetime
from typing import Any

from procflow.api.presenters.checklists import checklist_json, field_json, step_json
from procflow.api.presenters.runs import run_json
from procflow.api.presenters.task_views import task_view_json
from procflow.services.search import Found


def _folder(folder_id: str, name: str, parent_id: str | None) -> dict[str, Any]:
    return {"id": folder_id, "name": name, "parent_id": parent_id}


def items_json(kind: str, found: Found, now: datetime, tags: bool) -> list[dict[str, Any]]:
    """The page's items in rank order."""
    includes = ("tags",) if tags else ()
    if kind == "blueprint":
        templates = []
        for bundle in found.templates:
            data = checklist_json(bundle)
            data.pop("folder", None)
            folder = bundle.folder
            data["folders"] = (
                [] if folder is None else [_folder(folder.id, folder.name, folder.parent_id)]
            )
            templates.append(data)
        return templates
    if kind == "process":
        runs = []
        for run in found.runs:
            data = run_json(run, includes, now)
            data["folders"] = [_folder(f.id, f.name, f.parent_id) for _, f in run.folders]
            runs.append(data)
        return runs
    if kind == "task":
        return [task_view_json(view, (), now) for view in found.tasks]
    if kind == "step":
        return [
            step_json(step, []) | {"checklist_title": template.title}
            for step, template in found.steps
        ]
    if kind == "capture":
        return [
            field_json(capture) | {"checklist_title": template.title}
            for capture, template in found.captures
        ]
    return []
