"""The organization and people every sandbox starts with, made through the services."""

from procflow.domain.permissions import Caller, Role
from procflow.sandbox.state import People
from procflow.services import guests, organizations
from procflow.services.unit_of_work import UnitOfWork

ORG_NAME = "Sandbox"
ADMIN_EMAIL = "admin@sandbox.example"
MEMBER_EMAIL = "member@sandbox.example"
LIGHT_EMAIL = "light@sandbox.example"
GUEST_EMAIL = "guest@sandbox.example"


def create_people(uow: UnitOfWork) -> People:
    """An organization with an admin, a standard member, a light member and a guest,
    each with a token."""
    admin = organizations.create_organization(uow, name=ORG_NAME, admin_email=ADMIN_EMAIL)
    org_id = admin.org_id
    member = organizations.add_member(uow, org_id=org_id, email=MEMBER_EMAIL, role=Role.STANDARD)
    light = organizations.add_member(uow, org_id=org_id, email=LIGHT_EMAIL, role=Role.LIGHT)
    caller = Caller(user_id=admin.user_id, org_id=org_id, role=Role.ADMIN)
    guests.create_guest(uow, caller, {"email": GUEST_EMAIL})
    guest_token = guests.issue_token(uow, caller, GUEST_EMAIL)
    return People(
        org_id=org_id,
        admin_id=admin.user_id,
        admin_token=admin.token,
        member_id=member.user_id,
        member_token=member.token,
        light_id=light.user_id,
        light_token=light.token,
        guest_token=guest_token,
    )
