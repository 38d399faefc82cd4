"""Plain factory helpers: organizations and members through the services, everything
else through the HTTP API as a client would do it."""

from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session, sessionmaker

from procflow.domain.permissions import Role
from procflow.services import organizations
from procflow.services.unit_of_work import UnitOfWork
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

    factory: sessionmaker[Session]
    client: TestClient
    org_id: str
    admin: Member
    standard: Member
    light: Member
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, factory: sessionmaker[Session], client: TestClient) -> "World":
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
