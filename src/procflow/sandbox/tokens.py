"""Tokens for the sandbox's members, so that a test can act as any of them.

A member invited through the API (a seed's `members`) has no token: on Tallyfy a person
makes their own. The sandbox makes them through the same service as `procflow tokens
create`: for the members a seed adds (in its answer) and, on request, for any member
(`POST /_sandbox/tokens`). A token lives in the database, so a reset keeps it only if it
was made before the state reset goes back to.
"""

from collections.abc import Iterable

from fastapi import FastAPI

from procflow.errors import NotFound, ValidationFailed
from procflow.sandbox.people import ADMIN_EMAIL, LIGHT_EMAIL, MEMBER_EMAIL
from procflow.services import organizations
from procflow.services.unit_of_work import UnitOfWork

OWN = {"admin": ADMIN_EMAIL, "member": MEMBER_EMAIL, "light": LIGHT_EMAIL}


def issue(app: FastAPI, names: Iterable[str], field: str = "email") -> dict[str, str]:
    """A new token for each of `names` (members of the sandbox's organization, by email, or
    `admin`, `member`, `light`); a ValidationFailed on `field` for anyone else."""
    with UnitOfWork(app.state.session_factory, write=True) as uow:
        return {name: _issued(uow, app, name, field)[1] for name in names}


def issue_one(app: FastAPI, name: str) -> tuple[int, str]:
    """The member's id and a new token for them."""
    with UnitOfWork(app.state.session_factory, write=True) as uow:
        return _issued(uow, app, name, "email")


def _issued(uow: UnitOfWork, app: FastAPI, name: str, field: str) -> tuple[int, str]:
    refused = ValidationFailed({field: [f"No active member {name!r} in the sandbox."]})
    email = OWN.get(name.strip().lower(), name)
    try:
        user_id, token = organizations.create_token(uow, email=email)
    except NotFound:
        raise refused from None
    if not organizations.member_ids(uow, app.state.sandbox.people.org_id, {user_id}):
        raise refused  # the token made above goes with the transaction
    return user_id, token
