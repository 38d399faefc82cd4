"""A run as Tallyfy's clients read it."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from procflow.api.presenters.fields import field_json
from procflow.api.presenters.tasks import task_json
from procflow.domain import runs as rules
from procflow.domain.timeutil import format_ts
from procflow.services.records import RunBundle


def run_json(
    bundle: RunBundle,
    includes: Collection[str],
    now: datetime,
    figures: rules.RunFigures | None = None,
) -> dict[str, Any]:
    """`figures`, when the caller already computed them at `now` (for the ETag), are reused."""
    run = bundle.run
    if figures is None:
        figures = rules.figures(bundle.facts, now)
    progress = figures.progress.as_dict()
    data: dict[str, Any] = {
        "id": run.id,
        "increment_id": run.increment_id,
        "organization_id": run.org_id,
        "checklist_id": run.checklist_id,
        "checklist_title": run.checklist_title,
        "name": run.name,
        "summary": run.summary,
        "status": rules.status_of(
            rules.lifecycle_status(
                figures.progress.total, figures.progress.complete, figures.has_open_issue
            ).value,
            run.archived_at is not None,
        ),
        "progress": progress,
        "whole_progress": progress,
        "started_by": run.started_by,
        "owner_id": run.owner_id,
        "prerun": {f.field_id: f.value for f in bundle.kickoff},
        "prerun_status": "complete" if run.prerun_completed_at else "pending",
        "prerun_completed_at": format_ts(run.prerun_completed_at),
        "prerun_completed_by": run.prerun_completed_by,
        "prerun_length": len(bundle.kickoff),
        "starred": run.starred,
        "created_at": format_ts(run.created_at),
        "started_at": format_ts(run.started_at),
        "last_updated": format_ts(run.last_updated),
        "completed_at": format_ts(run.completed_at),
        "archived_at": format_ts(run.archived_at),
        "due_date": format_ts(figures.due_date),
        "max_task_deadline": format_ts(figures.due_date),
        "due_date_passed": figures.due_date_passed,
        "due_soon": figures.due_soon,
        "late_tasks": figures.late_tasks,
        "has_open_issue": figures.has_open_issue,
        "collaborators": list(bundle.users),
        "type": run.type,
        "is_public": run.is_public,
        "prevent_guest_comment": run.prevent_guest_comment,
        "users": list(bundle.users),
        "groups": list(bundle.groups),
        "parent_id": run.parent_id,
        "can_add_oot": True,
        "assign_someone_else": False,
    }
    if "tags" in includes:
        data["tags"] = {
            "data": [
                {
                    "id": link_id,
                    "tag_id": tag.id,
                    "title": tag.title,
                    "color": tag.color,
                    "auto_generated": tag.auto_generated,
                }
                for link_id, tag in bundle.tags
            ]
        }
    else:
        data["tags"] = [tag.id for _, tag in bundle.tags]
    if "folders" in includes:
        data["folders"] = {
            "data": [
                {
                    "id": link_id,
                    "folder_id": folder.id,
                    "name": folder.name,
                    "parent_id": folder.parent_id,
                }
                for link_id, folder in bundle.folders
            ]
        }
    else:
        data["folders"] = [folder.id for _, folder in bundle.folders]
    _add_task_includes(data, bundle, includes, now)
    if includes:
        _add_unheld_includes(data, includes, figures)
    if "ko_form_fields" in includes:
        data["ko_form_fields"] = {"data": [field_json(f) for f in bundle.kickoff]}
    if "form_fields" in includes and bundle.captures is not None:
        data["form_fields"] = {"data": [field_json(f) for f in bundle.captures]}
    if "checklist" in includes:
        template = bundle.extra.get("checklist")
        data["checklist"] = {
            "data": None
            if template is None
            else {
                "id": template.id,
                "title": template.title,
                "summary": template.summary,
                "type": template.type,
                "increment_id": template.increment_id,
                "status": "archived" if template.archived_at else "active",
                "archived_at": format_ts(template.archived_at),
            }
        }
    return data


EMPTY_INCLUDES = ("assets", "stages", "member_watchers", "guest_watchers", "permissions")
"""Includes of things procflow does not hold for a run (files, stages, watchers, per-run
permissions beyond the roles): each is present, as an empty collection, when asked for."""


def _add_unheld_includes(
    data: dict[str, Any], includes: Collection[str], figures: rules.RunFigures
) -> None:
    for name in EMPTY_INCLUDES:
        if name in includes:
            data[name] = {"data": []}
    if "tasks_meta" in includes:
        progress = figures.progress
        data["tasks_meta"] = {
            "data": {
                "total": progress.total,
                "completed": progress.complete,
                "incomplete": progress.total - progress.complete,
                "late": figures.late_tasks,
                "has_open_issue": figures.has_open_issue,
            }
        }


def _add_task_includes(
    data: dict[str, Any], bundle: RunBundle, includes: Collection[str], now: datetime
) -> None:
    cid = bundle.run.checklist_id
    if bundle.tasks is None:
        return
    if "tasks" in includes:
        data["tasks"] = {
            "data": [
                task_json(t, bundle.task_owners.get(t.id, []), now, checklist_id=cid)
                for t in bundle.tasks
            ]
        }
    if "next_task" in includes:
        pending = [t for t in bundle.tasks if t.status not in rules.DONE]
        pending.sort(key=lambda t: (t.deadline is None, t.deadline or now, t.position))
        data["next_task"] = {
            "data": [
                task_json(t, bundle.task_owners.get(t.id, []), now, checklist_id=cid)
                for t in pending[:1]
            ]
        }
