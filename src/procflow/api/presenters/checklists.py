"""Templates, steps and their form fields as Tallyfy's clients read them.

`prerun` and `automated_actions` are always inline lists; a step's `captures` is a bare
list; `steps`, `tags` and `folder` appear only when asked for with `?with=`, wrapped.
"""

from collections.abc import Sequence
from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.records import AutomatedAction, Folder, FormField, Step, TemplateBundle
from procflow.services.template_fields import SETTING_DEFAULTS, slug

STEP_FLAGS = (
    "allow_guest_owners",
    "skip_start_process",
    "can_complete_only_assignees",
    "everyone_must_complete",
    "is_soft_start_date",
    "prevent_guest_comment",
    "role_changes_every_time",
    "top_secret",
    "send_chromeless",
)


def field_json(field: FormField) -> dict[str, Any]:
    """A kick-off field or capture; its settings are also shown as top-level keys."""
    settings = dict(field.settings or {})
    return (
        {
            "id": field.id,
            "timeline_id": field.id,
            "checklist_id": field.checklist_id,
            "step_id": field.step_id,
            "field_type": field.field_type,
            "label": field.label,
            "alias": field.alias,
            "guidance": field.guidance,
            "position": field.position,
            "required": field.required,
            "options": list(field.options or []),
            "columns": list(field.columns or []),
            "settings": settings,
        }
        | {key: settings.get(key, unset) for key, unset in SETTING_DEFAULTS.items()}
        | {
            "created_at": format_ts(field.created_at),
            "last_updated": format_ts(field.last_updated),
            "archived_at": None,
        }
    )


def _rule(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None


def step_json(step: Step, captures: Sequence[FormField]) -> dict[str, Any]:
    """A step with its captures as a bare list, which is what the SDK iterates."""
    flags = step.flags or {}
    data: dict[str, Any] = {
        "id": step.id,
        "checklist_id": step.checklist_id,
        "title": step.title,
        "alias": step.alias,
        "summary": step.summary,
        "step_type": step.step_type,
        "position": step.position,
        "deadline": _rule(step.deadline),
        "start_date": _rule(step.start_date),
        "bp_to_launch": None,
        "assignees": list(step.assignees or []),
        "guests": list(step.guests or []),
        "groups": list(step.groups or []),
        "roles": [],
        "captures": [field_json(c) for c in captures],
        "assign_run_starter": step.assign_run_starter,
        "max_assignable": step.max_assignable,
        "webhook": step.webhook,
    }
    data |= {flag: bool(flags.get(flag, False)) for flag in STEP_FLAGS}
    data |= {
        "created_at": format_ts(step.created_at),
        "last_updated": format_ts(step.last_updated),
        "archived_at": None,
    }
    return data


def folder_json(folder: Folder) -> dict[str, Any]:
    """The folder a template is filed in, for the `folder` include."""
    return {
        "id": folder.id,
        "name": folder.name,
        "parent_id": folder.parent_id,
        "folder_type": folder.folder_type,
        "position": folder.position,
        "created_at": format_ts(folder.created_at),
        "last_updated": format_ts(folder.last_updated),
    }


def automation_json(rule: AutomatedAction) -> dict[str, Any]:
    """A rule as api-v2 echoes it: its conditions and actions with their ids."""
    return {
        "id": rule.id,
        "automated_alias": rule.automated_alias,
        "condition_logic": rule.condition_logic,
        "conditions": list(rule.conditions),
        "then_actions": list(rule.then_actions),
        "created_at": format_ts(rule.created_at),
        "last_updated": format_ts(rule.last_updated),
        "archived_at": None,
    }


def checklist_json(bundle: TemplateBundle) -> dict[str, Any]:
    """A template; the relations loaded into `bundle` are the ones the caller asked for."""
    checklist = bundle.checklist
    data: dict[str, Any] = {
        "id": checklist.id,
        "increment_id": checklist.increment_id,
        "organization_id": checklist.org_id,
        "title": checklist.title,
        "alias": slug(checklist.title, "template"),
        "summary": checklist.summary,
        "guidance": checklist.guidance,
        "type": checklist.type,
        "status": "archived" if checklist.archived_at else "active",
        "starred": checklist.starred,
        "webhook": checklist.webhook,
        "folder_id": checklist.folder_id,
        "owner_id": checklist.owner_id,
        "created_by": checklist.created_by,
        "last_updated_by": None,
        "kickoff_title": checklist.kickoff_title,
        "kickoff_description": checklist.kickoff_description,
        "prerun": [field_json(f) for f in bundle.kickoff],
        "automated_actions": [automation_json(rule) for rule in bundle.automations],
        "steps_count": bundle.steps_count,
        "started_processes": bundle.started_processes,
        "is_public": checklist.is_public,
        "is_public_kickoff": checklist.is_public_kickoff,
        "auto_naming": checklist.auto_naming,
        "default_process_name_format": checklist.default_process_name_format,
        "users": list(checklist.users or []),
        "groups": list(checklist.groups or []),
        "topic_tags": [],
        "industry_tags": [],
        "icon": None,
        "explanation_video": None,
        "public_cover": None,
        "is_featured": False,
        "is_pinned": False,
        "is_published_state": True,
        "dual_version_enabled": False,
        "folderize_process": False,
        "tag_process": False,
        "allow_launcher_change_name": True,
        "folder_changeable_by_launcher": True,
        "default_folder": None,
        "ko_form_blueprint_id": None,
        "kickoff_sharing_user_id": None,
        "can_add_oot": True,
        "created_at": format_ts(checklist.created_at),
        "last_updated": format_ts(checklist.last_updated),
        "archived_at": format_ts(checklist.archived_at),
    }
    if bundle.steps is not None:
        data["steps"] = {
            "data": [step_json(s, bundle.captures.get(s.id, [])) for s in bundle.steps]
        }
    if bundle.tags is not None:
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
    if bundle.with_folder:
        data["folder"] = {"data": folder_json(bundle.folder) if bundle.folder else None}
    return data


def form_fields_json(bundle: TemplateBundle) -> dict[str, Any]:
    """Every field of a template: each step's captures, then the kick-off form."""
    return {
        "id": bundle.checklist.id,
        "title": bundle.checklist.title,
        "form_fields": [
            field_json(c) for s in bundle.steps or [] for c in bundle.captures.get(s.id, [])
        ],
        "ko_form_fields": [field_json(f) for f in bundle.kickoff],
    }
