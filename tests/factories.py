"""Plain factory helpers: organizations and members through the services, everything
else through the HTTP API as a client would do it."""

from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient
from httpx2 import Response

from procflow.api.schemas.comments import CommentCreate
from procflow.api.schemas.groups import GroupCreate
from procflow.api.schemas.guests import GuestCreate
from procflow.api.schemas.tasks import TaskCreate
from procflow.api.schemas.taxonomy import FolderObject, TagAttach
from procflow.domain.permissions import Role
from procflow.services import (
    auth,
    comments,
    folders,
    groups,
    guests,
    oneoff_tasks,
    organizations,
    tags,
)
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.database import SessionFactory
from procflow.storage.models import Checklist, FormField, Step


@dataclass
class Member:
    user_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "X-Tallyfy-Client": "APIClient",
            "Accept": "application/json",
        }


@dataclass
class World:
    """One organization and its members, with request helpers scoped to it."""

    factory: SessionFactory
    client: TestClient
    org_id: str
    admin: Member
    standard: Member
    light: Member
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, factory: SessionFactory, client: TestClient) -> "World":
        suffix = uuid4().hex[:10]
        with UnitOfWork(factory, write=True) as uow:
            creds = organizations.create_organization(
                uow, name=f"Org {suffix}", admin_email=f"admin-{suffix}@example.com"
            )
            std = organizations.add_member(
                uow, org_id=creds.org_id, role=Role.STANDARD, email=f"std-{suffix}@example.com"
            )
            light = organizations.add_member(
                uow, org_id=creds.org_id, role=Role.LIGHT, email=f"light-{suffix}@example.com"
            )
        return cls(
            factory,
            client,
            creds.org_id,
            Member(creds.user_id, creds.token),
            Member(std.user_id, std.token),
            Member(light.user_id, light.token),
        )

    def url(self, path: str) -> str:
        return f"/organizations/{self.org_id}{path}"

    def call(self, method: str, path: str, member: Member | None = None, **kwargs: Any) -> Response:
        headers = {**(member or self.admin).headers, **kwargs.pop("headers", {})}
        return self.client.request(method, self.url(path), headers=headers, **kwargs)

    def template(
        self,
        *,
        kickoff: list[dict[str, Any]] | None = None,
        steps: list[dict[str, Any]] | None = None,
        title: str = "Onboarding",
    ) -> str:
        """A template stored directly (its own API has separate tests)."""
        with UnitOfWork(self.factory, write=True) as uow:
            seq = organizations.next_sequence(uow, self.org_id, "checklist_seq")
            checklist = Checklist(
                org_id=self.org_id,
                increment_id=seq,
                title=title,
                owner_id=self.admin.user_id,
                created_by=self.admin.user_id,
            )
            uow.session.add(checklist)
            uow.session.flush()
            for position, spec in enumerate(kickoff or [], start=1):
                uow.session.add(_field(checklist.id, None, position, spec))
            for position, spec in enumerate(steps or [{"title": "Do it"}], start=1):
                captures = spec.pop("captures", [])
                step = Step(
                    checklist_id=checklist.id, alias=f"step-{position}", position=position, **spec
                )
                uow.session.add(step)
                uow.session.flush()
                for index, capture in enumerate(captures, start=1):
                    uow.session.add(_field(checklist.id, step.id, index, capture))
            return checklist.id

    def launch(
        self, checklist_id: str, member: Member | None = None, **body: Any
    ) -> dict[str, Any]:
        response = self.call("POST", "/runs", member, json={"checklist_id": checklist_id, **body})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def tag(self, title: str | None = None) -> str:
        from procflow.storage.models import Tag

        with UnitOfWork(self.factory, write=True) as uow:
            tag = Tag(org_id=self.org_id, title=title or f"t-{uuid4().hex[:8]}", color="#3366ff")
            uow.session.add(tag)
            uow.session.flush()
            return tag.id

    def folder(self, name: str | None = None) -> str:
        from procflow.storage.models import Folder

        with UnitOfWork(self.factory, write=True) as uow:
            folder = Folder(org_id=self.org_id, name=name or f"f-{uuid4().hex[:8]}")
            uow.session.add(folder)
            uow.session.flush()
            return folder.id


def _field(
    checklist_id: str, step_id: str | None, position: int, spec: dict[str, Any]
) -> FormField:
    spec = dict(spec)
    field_id = spec.pop("id", None) or uuid4().hex
    return FormField(
        id=field_id,
        checklist_id=checklist_id,
        step_id=step_id,
        position=position,
        alias=spec.pop("alias", f"field-{position}"),
        **spec,
    )


@dataclass
class Objects:
    """One of every kind of object in a world, by the path parameter that names it."""

    ids: dict[str, str]
    guest: Member
    guest_email: str
    names: list[str]


def populate(world: World) -> Objects:
    """A template with a kick-off field and two steps (the second, `step_id`, holds the
    capture), a run launched by the admin in which the light member (`task_id`) and a guest
    (`guest_task_id`) hold tasks, a one-off task, a tag attached to the run, a folder holding
    the run, a group, a guest with a token, a comment by the admin on `task_id`, and a file
    (`asset_id`) uploaded by the admin for the guest's form field."""
    from sqlalchemy import select

    from procflow.storage.models import Event, Task

    suffix = uuid4().hex[:10]
    guest_email = f"guest-{suffix}@example.com"
    names = [f"Template {suffix}", f"Group {suffix}", f"Tag {suffix}", f"Folder {suffix}"]
    capture = uuid4().hex
    checklist = world.template(
        title=names[0],
        kickoff=[{"field_type": "text", "label": "Client"}],
        steps=[
            {"title": "Light's step", "assignees": [world.light.user_id]},
            {
                "title": "Guest's step",
                "guests": [guest_email],
                "captures": [{"id": capture, "field_type": "text", "label": "Notes"}],
            },
        ],
    )
    run = world.launch(checklist)
    with UnitOfWork(world.factory, write=False) as uow:
        task_ids = list(
            uow.session.scalars(
                select(Task.id).where(Task.run_id == run["id"]).order_by(Task.position)
            )
        )
        step_ids = list(
            uow.session.scalars(
                select(Step.id).where(Step.checklist_id == checklist).order_by(Step.position)
            )
        )
        launched = uow.session.scalar(
            select(Event.id).where(Event.run_id == run["id"], Event.type == "process.launched")
        )

    tag, folder = world.tag(names[2]), world.folder(names[3])
    with UnitOfWork(world.factory, write=True) as uow:
        # Through the services the routes call, with the bodies their schemas accept: these
        # routes have tests of their own, and one transaction here costs a fifth of nine
        # requests (the route matrices make hundreds of these organizations).
        admin = auth.caller_in(uow, world.admin.token, world.org_id)
        group = groups.create_group(uow, admin, GroupCreate(name=names[1]).present())
        guests.create_guest(uow, admin, GuestCreate(email=guest_email).present())
        guest_token = guests.issue_token(uow, admin, guest_email)
        oneoff_body = {
            "title": "One-off",
            "owners": {"users": [world.light.user_id]},
            "deadline": "2030-05-01T12:00:00Z",
        }
        oneoff = oneoff_tasks.create_oneoff(
            uow, admin, TaskCreate.model_validate(oneoff_body).present()
        )
        comment = comments.add_comment(
            uow, admin, task_ids[0], CommentCreate(content="Hello").present()
        )
        link = {"subject_id": run["id"], "subject_type": "Run", "tag_id": tag}
        attached = tags.attach_tag(
            uow, admin, TagAttach.model_validate({**link, "tag_type": "private"}).present()
        )
        filing = {"folder_id": folder, "subject_id": run["id"], "subject_type": "Run"}
        filed = folders.file_object(uow, admin, FolderObject.model_validate(filing).present())
        group_id, oneoff_id, comment_id = group.group.id, oneoff.task.id, comment.id
        association, relation = attached.link.id, filed.link.id
    upload = {"uploaded_from": capture, "subject_type": "Run", "subject_id": run["id"]}
    uploaded = world.call(
        "POST", "/assets", data=upload, files={"name": ("notes.txt", b"Notes\n", "text/plain")}
    )
    assert uploaded.status_code == 200, uploaded.text
    ids = {
        "org_id": world.org_id,
        "run_id": run["id"],
        "task_id": task_ids[0],
        "guest_task_id": task_ids[1],
        "oneoff_task_id": oneoff_id,
        "checklist_id": checklist,
        "step_id": step_ids[1],
        "other_step_id": step_ids[0],
        "capture_id": capture,
        "tag_id": tag,
        "folder_id": folder,
        "group_id": group_id,
        "comment_id": comment_id,
        "association_id": str(association),
        "relation_id": str(relation),
        "user_id": str(world.standard.user_id),
        "email": guest_email,
        "event_id": launched,
        "asset_id": uploaded.json()["data"]["id"],
    }
    return Objects(ids, Member(0, guest_token), guest_email, names)
