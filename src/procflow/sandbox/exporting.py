"""What a sandbox holds, written as a seed document (`GET /_sandbox/export`).

Read through the API as seeding writes through it, and written with names instead of ids
(a template by its title, a field by its label, a member by email; the sandbox's own
people as `admin`, `member` and `light`; automation rules as `seed_rules` writes them),
so that an export seeds a fresh sandbox into the
same state, and exporting that again gives the same document.
"""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from procflow.sandbox.inproc import Client
from procflow.sandbox.people import ADMIN_EMAIL, LIGHT_EMAIL, MEMBER_EMAIL
from procflow.sandbox.seed_rules import rule_out
from procflow.sandbox.seeding import all_folders, client_for

Item = dict[str, Any]
OWN = {ADMIN_EMAIL: "admin", MEMBER_EMAIL: "member", LIGHT_EMAIL: "light"}
FIELD_KEYS = ("label", "field_type", "required", "guidance", "options", "columns")
STEP_KEYS = ("title", "summary", "step_type", "deadline", "start_date")
TEMPLATE_KEYS = ("title", "summary", "guidance", "kickoff_title", "kickoff_description")


async def everything(client: Client, path: str, **query: Any) -> list[Item]:
    items: list[Item] = []
    page = 1
    while True:
        answer = await client.get(path, page=page, per_page=100, **query)
        items += answer.data["data"]
        pages = answer.data.get("meta", {}).get("pagination", {}).get("total_pages", 1)
        if page >= pages:
            return items
        page += 1


def kept(item: Mapping[str, Any], keys: tuple[str, ...]) -> Item:
    """`keys` of `item` that say something (neither null, empty nor false)."""
    return {key: item[key] for key in keys if item.get(key) not in (None, "", [], {}, False)}


def field_out(field: Mapping[str, Any]) -> Item:
    return kept(field, FIELD_KEYS)


def step_out(step: Mapping[str, Any]) -> Item:
    out = kept(step, STEP_KEYS)
    if out.get("step_type") == "task":
        del out["step_type"]
    if step.get("captures"):
        out["captures"] = [field_out(field) for field in step["captures"]]
    return out


def template_out(
    template: Mapping[str, Any], emails: Mapping[Any, Any], groups: Mapping[Any, Any]
) -> Item:
    out = kept(template, TEMPLATE_KEYS)
    if template.get("prerun"):
        out["prerun"] = [field_out(field) for field in template["prerun"]]
    out["steps"] = [step_out(step) for step in template["steps"]["data"]]
    if template.get("automated_actions"):
        out["automated_actions"] = [
            rule_out(rule, template, lambda u: emails.get(u, u), lambda g: groups.get(g, g))
            for rule in template["automated_actions"]
        ]
    return out


def labelled(fields: list[Mapping[str, Any]], values: Mapping[str, Any]) -> Item:
    labels = {field["id"]: field["label"] for field in fields}
    return {labels[key]: value for key, value in values.items() if key in labels}


async def export(app: FastAPI) -> Item:
    client = client_for(app)
    people = await everything(client, "/users")
    emails = {person["id"]: OWN.get(person["email"], person["email"]) for person in people}
    members = [
        {**kept(person, ("email", "first_name", "last_name")), "role": person["role"]}
        for person in people
        if person["email"] not in OWN
    ]
    groups_found = await everything(client, "/groups")
    groups = [
        {
            **kept(group, ("name", "description")),
            "members": [emails.get(user, user) for user in group.get("members") or []],
        }
        for group in groups_found
    ]
    group_names = {group["id"]: group["name"] for group in groups_found}
    tags = [
        kept(tag, ("title", "color"))
        for tag in await everything(client, "/tags")
        if not tag.get("auto_generated")
    ]
    folders_found = await all_folders(client)
    names = {folder["id"]: folder["name"] for folder in folders_found}
    folders = [
        {"name": folder["name"], **({"parent": names[p]} if (p := folder.get("parent_id")) else {})}
        for folder in folders_found
    ]
    templates: dict[str, Mapping[str, Any]] = {}
    for summary in await everything(client, "/checklists"):
        answer = await client.get(f"/checklists/{summary['id']}", **{"with": "steps"})
        templates[summary["id"]] = answer.data["data"]
    runs = [
        await run_out(client, run, templates)
        for run in await everything(client, "/runs", **{"with": "tags,folders"})
        if run.get("checklist_id") in templates
    ]
    return {
        "members": members,
        "groups": groups,
        "tags": tags,
        "folders": folders,
        "templates": [
            template_out(template, emails, group_names) for template in templates.values()
        ],
        "runs": runs,
    }


async def run_out(client: Client, run: Mapping[str, Any], templates: Mapping[str, Any]) -> Item:
    template = templates[run["checklist_id"]]
    out: Item = {"template": template["title"], "name": run["name"]}
    out |= kept(run, ("summary",))
    prerun = labelled(template["prerun"], run.get("prerun") or {})
    if prerun:
        out["prerun"] = prerun
    tags = [tag["title"] for tag in run.get("tags", {}).get("data", [])]
    folders = [folder["name"] for folder in run.get("folders", {}).get("data", [])]
    if tags:
        out["tags"] = tags
    if folders:
        out["folders"] = folders
    steps = {step["id"]: step for step in template["steps"]["data"]}
    tasks: Item = {}
    for task in await everything(client, f"/runs/{run['id']}/tasks", **{"with": "form_fields"}):
        step = steps.get(task.get("step_id"))
        if step is None:
            continue
        wanted: Item = {}
        values = labelled(step.get("captures") or [], task.get("taskdata") or {})
        values = {label: value for label, value in values.items() if value is not None}
        if values:
            wanted["taskdata"] = values
        if task.get("status") == "completed":
            wanted["completed"] = True
        if wanted:
            tasks[step["title"]] = wanted
    if tasks:
        out["tasks"] = tasks
    return out
