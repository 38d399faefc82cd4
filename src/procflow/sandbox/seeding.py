"""Seed documents: members, groups, tags, folders, templates and runs, made through the API.

A seed document (JSON or YAML; the format is in docs/testing-integrations.md) is loaded by
sending, in process, the requests a client would send: `POST /users/invite`, `/groups`,
`/tags`, `/folders`, `/checklists` (steps, captures and kick-off fields in one body, as
Tallyfy's template import) and each of its automation rules (`seed_rules`), `/runs`, then
each listed task's values and completion. What the document names by title, name or email
is looked up as it goes. The members it adds get a token each (`tokens`). The first refused
request stops the load and the database is put back as it was, so a bad document changes
nothing; its errors come back per field, their paths starting at the document's root
(`templates.0.steps.1.title`).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, ValidationError

from procflow.errors import ValidationFailed
from procflow.sandbox import seed_rules, snapshots, tokens
from procflow.sandbox.inproc import Answer, Client
from procflow.sandbox.state import SandboxState

Errors = dict[str, list[str]]
Item = dict[str, Any]


class SeedDocument(BaseModel):
    """The document's outline; each item is checked by the route that creates it."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    members: list[Item] = []
    groups: list[Item] = []
    tags: list[Item] = []
    folders: list[Item] = []
    templates: list[Item] = []
    runs: list[Item] = []


def parse(raw: bytes, content_type: str = "") -> SeedDocument:
    """JSON, or YAML (by its content type, or when the text is not JSON)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        if "json" in content_type:
            raise ValidationFailed({"body": ["The document is not valid JSON."]}) from None
        data = _yaml(raw)
    if not isinstance(data, dict):
        raise ValidationFailed({"body": ["The document must be an object (a mapping)."]})
    try:
        return SeedDocument.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed(
            {
                ".".join(str(part) for part in problem["loc"]) or "body": [problem["msg"]]
                for problem in error.errors()
            }
        ) from None


def _yaml(raw: bytes) -> Any:
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ValidationFailed(
            {"body": [f"The document is neither JSON nor YAML{line}."]}
        ) from None


def refused(answer: Answer, path: str) -> Errors:
    """The refusal of the request made for the item at `path`, its fields under `path`."""
    data = answer.data if isinstance(answer.data, dict) else {}
    errors = data.get("errors")
    if isinstance(errors, dict) and errors:
        return {f"{path}.{key}": list(messages) for key, messages in errors.items()}
    return {path: [str(data.get("message") or f"Refused ({answer.status}).")]}


class Loader:
    """Loads one document; names and titles found on the way are remembered for later items."""

    def __init__(self, client: Client, state: SandboxState) -> None:
        self.client = client
        people = state.people
        self.users: dict[str, int] = {
            "admin": people.admin_id,
            "member": people.member_id,
            "light": people.light_id,
        }
        self.groups: dict[str, str] = {}
        self.added: list[str] = []  # the members' emails, for their tokens
        self.tags: dict[str, str] = {}
        self.folders: dict[str, str] = {}
        self.templates: dict[str, Mapping[str, Any]] = {}

    async def created(self, path: str, where: str, body: Any) -> Any:
        answer = await self.client.post(where, body)
        if not answer.ok:
            raise ValidationFailed(refused(answer, path))
        return answer.data["data"]

    def lookup(self, table: Mapping[str, Any], name: Any, path: str, what: str) -> Any:
        if not isinstance(name, str):
            raise ValidationFailed({path: [f"A {what} is named by a string."]})
        key = name.strip().lower()
        if key not in table:
            raise ValidationFailed({path: [f"No {what} {name!r} in the document or sandbox."]})
        return table[key]

    def all_of(self, table: Mapping[str, Any], names: Any, path: str, what: str) -> list[Any]:
        """The ids of a list of names (absent or null: none)."""
        if names is None:
            return []
        if not isinstance(names, list):
            raise ValidationFailed({path: [f"A list of {what} names."]})
        return [self.lookup(table, name, f"{path}.{n}", what) for n, name in enumerate(names)]

    async def load(self, doc: SeedDocument) -> dict[str, int]:
        await self.remember_existing()
        for index, item in enumerate(doc.members):
            made = await self.created(f"members.{index}", "/users/invite", item)
            self.users[str(made["email"]).lower()] = made["id"]
            self.added.append(str(made["email"]).lower())
        for index, item in enumerate(doc.groups):
            path = f"groups.{index}"
            people = self.all_of(self.users, item.get("members"), f"{path}.members", "member")
            made = await self.created(path, "/groups", {**item, "members": people})
            self.groups[str(made["name"]).strip().lower()] = made["id"]
        for index, item in enumerate(doc.tags):
            made = await self.created(f"tags.{index}", "/tags", item)
            self.tags[str(made["title"]).lower()] = made["id"]
        for index, item in enumerate(doc.folders):
            await self.folder(f"folders.{index}", item)
        for index, item in enumerate(doc.templates):
            await self.template(f"templates.{index}", item)
        for index, item in enumerate(doc.runs):
            await self.run(f"runs.{index}", item)
        return {name: len(getattr(doc, name)) for name in SeedDocument.model_fields}

    async def template(self, path: str, item: Item) -> None:
        body = {key: value for key, value in item.items() if key != "automated_actions"}
        made = await self.remember_template((await self.created(path, "/checklists", body))["id"])
        rules = item.get("automated_actions") or []
        if not isinstance(rules, list):
            raise ValidationFailed({f"{path}.automated_actions": ["A list of rules."]})
        for number, rule in enumerate(rules):
            where = f"{path}.automated_actions.{number}"
            body = seed_rules.rule_in(rule, made, self.users, self.groups, where)
            answer = await self.client.post(f"/checklists/{made['id']}/automated-actions", body)
            if not answer.ok:
                errors = refused(answer, where)
                raise ValidationFailed({seed_rules.renamed(k): v for k, v in errors.items()})
        if rules:
            await self.remember_template(made["id"])

    async def folder(self, path: str, item: Item) -> None:
        body = {key: value for key, value in item.items() if key != "parent"}
        if item.get("parent") is not None:
            body["parent_id"] = self.lookup(
                self.folders, item["parent"], path + ".parent", "folder"
            )
        made = await self.created(path, "/folders", body)
        self.folders[str(made["name"]).lower()] = made["id"]

    async def remember_existing(self) -> None:
        """What the sandbox already holds (an earlier seed) may be named too."""
        for item in (await self.client.get("/tags", per_page=100)).data["data"]:
            self.tags[item["title"].lower()] = item["id"]
        for item in await all_folders(self.client):
            self.folders[item["name"].lower()] = item["id"]
        for item in (await self.client.get("/users", per_page=100)).data["data"]:
            self.users.setdefault(item["email"].lower(), item["id"])
        for item in (await self.client.get("/groups", per_page=100)).data["data"]:
            self.groups[item["name"].strip().lower()] = item["id"]
        for item in (await self.client.get("/checklists", per_page=100)).data["data"]:
            await self.remember_template(item["id"])

    async def remember_template(self, template_id: str) -> Mapping[str, Any]:
        answer = await self.client.get(f"/checklists/{template_id}", **{"with": "steps"})
        template: Mapping[str, Any] = answer.data["data"]
        self.templates[template["title"].lower()] = template
        return template

    async def run(self, path: str, item: Item) -> None:
        template = self.lookup(self.templates, item.get("template"), path + ".template", "template")
        body = {key: value for key, value in item.items() if key not in ("template", "tasks")}
        body["checklist_id"] = template["id"]
        body["prerun"] = by_field(template["prerun"], item.get("prerun") or {}, path + ".prerun")
        body["tags"] = self.all_of(self.tags, item.get("tags"), f"{path}.tags", "tag")
        body["folders"] = self.all_of(
            self.folders, item.get("folders"), f"{path}.folders", "folder"
        )
        run = await self.created(path, "/runs", body)
        tasks = item.get("tasks") or {}
        if not isinstance(tasks, dict):
            raise ValidationFailed({path + ".tasks": ["Tasks are a mapping: step title to task."]})
        steps = {step["title"].lower(): step for step in template["steps"]["data"]}
        by_step: dict[str, str] = {}
        for title, wanted in tasks.items():
            where = f"{path}.tasks.{title}"
            step = self.lookup(steps, title, where, "step")
            if step["id"] not in by_step:  # listed again: the values set may show tasks
                listed = await self.client.get(f"/runs/{run['id']}/tasks", per_page=100)
                by_step = {task["step_id"]: task["id"] for task in listed.data["data"]}
            if step["id"] not in by_step:
                raise ValidationFailed({where: ["This step is hidden by an automation rule."]})
            await self.task(where, run["id"], by_step[step["id"]], step, wanted or {})

    async def task(
        self, path: str, run_id: str, task_id: str, step: Mapping[str, Any], wanted: Item
    ) -> None:
        if not isinstance(wanted, dict):
            raise ValidationFailed({path: ["A task is a mapping (taskdata, completed)."]})
        values = wanted.get("taskdata")
        if values:
            body = {"taskdata": by_field(step["captures"], values, path + ".taskdata")}
            answer = await self.client.put(f"/runs/{run_id}/tasks/{task_id}", body)
            if not answer.ok:
                raise ValidationFailed(refused(answer, path))
        if wanted.get("completed"):
            await self.created(path, f"/runs/{run_id}/completed-tasks", {"task_id": task_id})


async def all_folders(client: Client) -> list[Item]:
    """Every folder, each after its parent (the API lists one level at a time)."""
    found: list[Item] = []
    level = (await client.get("/folders", pagination="false")).data["data"]
    while level:
        found += level
        below: list[Item] = []
        for folder in level:
            children = await client.get("/folders", parent_id=folder["id"], pagination="false")
            below += children.data["data"]
        level = below
    return found


def by_field(fields: list[Mapping[str, Any]], values: Any, path: str) -> dict[str, Any]:
    """`{label or alias: value}` as the API takes it, `{field id: value}`."""
    if not isinstance(values, dict):
        raise ValidationFailed({path: ["Values are a mapping: field label to value."]})
    ids: dict[str, str] = {}
    for field in fields:
        ids[field["label"].strip().lower()] = field["id"]
        ids[field["alias"].lower()] = field["id"]
        ids[field["id"]] = field["id"]
    unknown = [key for key in values if str(key).strip().lower() not in ids]
    if unknown:
        raise ValidationFailed({f"{path}.{key}": ["No such field."] for key in unknown})
    return {ids[str(key).strip().lower()]: value for key, value in values.items()}


async def seed(app: FastAPI, doc: SeedDocument, *, baseline: bool = True) -> dict[str, Any]:
    """Load `doc`, all or nothing; what it made becomes the state reset goes back to
    (unless `baseline` is false). `{"seeded": counts, "tokens": {email: token}}`: a token
    for each member the document added."""
    state: SandboxState = app.state.sandbox
    engine = app.state.engine
    before = snapshots.take(engine)
    try:
        loader = Loader(client_for(app), state)
        counts = await loader.load(doc)
        made = tokens.issue(app, loader.added, "members")
    except BaseException:
        snapshots.put_back(app, before)
        raise
    if baseline:
        state.baseline = snapshots.take(engine)
    return {"seeded": counts, "tokens": made}


def client_for(app: FastAPI) -> Client:
    people = app.state.sandbox.people
    return Client(inner_app(app), people.org_id, people.admin_token)


def inner_app(app: FastAPI) -> Any:
    """The plain application seeding talks to (made once, on the sandbox's settings and
    database connections)."""
    inner = getattr(app.state, "inner", None)
    if inner is None:
        from procflow.api.app import create_app

        settings = app.state.settings.model_copy(update={"rate_limit": "off"})
        inner = app.state.inner = create_app(settings, lean=True)
        own = inner.state.engine  # never connected: the sandbox's own engine serves instead
        inner.state.engine = app.state.engine
        inner.state.session_factory = app.state.session_factory
        inner.state.blobs = app.state.blobs
        own.dispose()
    return inner


def read_file(path: Path) -> SeedDocument:
    suffix = path.suffix.lower()
    return parse(path.read_bytes(), "application/json" if suffix == ".json" else "")
